"""Email through the notification topic (SNS), with attributes teams can filter on."""

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
            Message=message.text,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in message.attributes.items()
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise DeliveryError(f"SNS publish failed: {exc}") from exc
    return str(response["MessageId"])
