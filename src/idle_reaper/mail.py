"""Email through the notification topic (SNS), with attributes teams can filter on.

The body is the message's plain text (never Slack's escaped one), the subject one SNS
accepts whatever the session is called (messages.sns_subject)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import DeliveryError
from idle_reaper.messages import Message


def publish(sns: Any, topic_arn: str, message: Message) -> str:
    """Publish to the topic; every subscription whose filter policy matches gets an email."""
    try:
        response = sns.publish(
            TopicArn=topic_arn,
            Subject=message.subject,
            Message=message.email_text,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in message.attributes.items()
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise DeliveryError(f"SNS publish failed: {exc}") from exc
    return str(response["MessageId"])
