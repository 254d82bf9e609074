"""The resource-based policies IAM reads beside the caller's own: those of the event buses,
queues, topics and secrets the product calls, from moto's backends."""

from __future__ import annotations


def resource_policy(arn: str | None) -> str | None:
    """The resource-based policy on the resource, for the services the product calls that
    have one; None when it has none."""
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, region, account, name = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "events" and name.startswith("event-bus/"):
            from moto.events.models import events_backends

            bus = events_backends[account][region].event_buses.get(name.split("/", 1)[1])
            return bus.policy if bus is not None else None
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            queue = sqs_backends[account][region].queues.get(name)
            return queue.policy if queue is not None else None
        if service == "sns":
            from moto.sns.models import sns_backends

            topic = sns_backends[account][region].topics.get(arn)
            return topic.policy if topic is not None else None
        if service == "secretsmanager":
            from moto.secretsmanager.models import secretsmanager_backends

            secret = secretsmanager_backends[account][region].secrets.get(arn)
            return getattr(secret, "policy", None)
    except Exception:
        return None
    return None
