"""One emulated account with the stack deployed, on a virtual clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from local_runtime import policy_parameter
from local_runtime import stack as stack_module
from local_runtime.bus import Bus
from local_runtime.channels import LocalChannels
from local_runtime.clock import VirtualClock
from local_runtime.deploy import deploy
from local_runtime.emulators import Emulator, all_emulators
from local_runtime.fast_paths import fast_paths_on
from local_runtime.fidelity import interpreter_on
from local_runtime.http_api import HttpApis
from local_runtime.iam import Identities, enforced
from local_runtime.lambdas import Functions, lambda_backend_on
from local_runtime.mailbox import Mailbox
from local_runtime.slack_app import HooksToLoopback, SlackApp
from local_runtime.slack_sink import SlackSink

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
_SERVICES = (
    "stepfunctions",
    "events",
    "sqs",
    "sns",
    "lambda",
    "dynamodb",
    "secretsmanager",
    "ssm",
    "iam",
)
"""The stack's own services; each emulator adds those its kind's actors call."""
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": stack_module.REGION,
    "AWS_REGION": stack_module.REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}


SLACK_SECRET_NAME = "idle-reaper/slack-webhook"
SIGNING_SECRET_NAME = "idle-reaper/slack-signing-secret"
BOT_TOKEN_SECRET_NAME = "idle-reaper/slack-bot-token"


@dataclass
class Account:
    """Handles to everything a driver or a test needs."""

    stack: stack_module.Stack
    clock: VirtualClock
    clients: dict[str, Any]
    functions: Functions
    bus: Bus
    emulators: dict[str, Emulator]
    """Each kind's emulator, by kind name (`glue-session`)."""
    slack: SlackSink
    mailbox: Mailbox
    iam: Identities | None = None
    """Who calls what: the runtime's administrator and the roles' sessions (IAM is enforced)."""
    deployed_at: datetime | None = None
    """When the stack was deployed (its rules exist from then); None: not yet."""
    slack_app: SlackApp | None = None
    """Slack's side of the app (users.info, response_urls, clicks), when it has interactivity."""
    http_api: HttpApis | None = None
    """The stack's HTTP APIs on 127.0.0.1 (the interactivity endpoint), when it has any."""

    @property
    def region(self) -> str:
        return self.stack.region

    @property
    def account_id(self) -> str:
        return self.stack.account

    def state_transitions(self, execution_arn: str) -> int:
        """States entered, from the execution history (what Standard workflows bill)."""
        return sum(
            1 for e in self.history(execution_arn) if str(e["type"]).endswith("StateEntered")
        )

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.clients["stepfunctions"]
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def history_types(self, execution_arn: str) -> list[str]:
        """The type of each event of the execution's history, in order: what
        GetExecutionHistory lists, read from the emulated Step Functions without the API's deep
        copy, serialization and parsing of every event (a week's summary reads a thousand
        histories and needs only their types)."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        region, account = execution_arn.split(":")[3:5]
        execution: Any = stepfunctions_parser_backends[account][region].describe_execution(
            execution_arn
        )
        env = execution.exec_worker.env if execution.exec_worker else None
        if env is None:  # not started yet: an empty history, as GetExecutionHistory's
            return []
        manager = env.event_manager
        with manager._mutex:
            types = [e["type"] for e in manager._history_event_list]
        return [str(getattr(t, "value", t)) for t in types]

    def execution_status(self, execution_arn: str) -> str:
        return str(
            self.clients["stepfunctions"].describe_execution(executionArn=execution_arn)["status"]
        )


@contextmanager
def running(
    start: datetime,
    parameters: dict[str, Any] | None = None,
    template: Path = TEMPLATE,
    channels: LocalChannels | None = None,
    *,
    region: str = stack_module.REGION,
    account: str = stack_module.ACCOUNT,
    origin: datetime | None = None,
    policy: str | None = None,
    amend: stack_module.Amendment | None = None,
) -> Iterator[Account]:
    """Deploy template.yaml at `start` into a fresh emulated account whose clock starts at
    `origin` (default `start`). An earlier origin lets resources be created before the stack
    exists (a scenario's negative `at`): the clock cannot go back, so it starts at the earliest
    creation and the deployment waits on it until `start`; until then no rule exists and no
    event reaches a target. Scheduled rules start counting at the deployment. `amend` edits
    the template before it is deployed (`stack.load`; benchmark strategies only).

    Unless the parameters name their own, Slack points at a local sink (its webhook URL in
    an emulated Secrets Manager secret) and the notification topic has an email subscriber.
    A `policy` document is written to its parameter just after the deployment, as an admin
    would: its change event reaches the stack's policy check.
    """
    from aws_lambda_powertools.utilities.parameters.base import clear_caches
    from moto import mock_aws
    from moto.backends import get_backend

    channels = channels or LocalChannels()
    _quiet_emulator_logs()
    parameters = dict(parameters or {})
    origin = start if origin is None or origin > start else origin
    clock = VirtualClock(origin)
    functions = Functions()
    with ExitStack() as exits:
        exits.enter_context(mock.patch.dict(os.environ, _FAKE_CREDENTIALS))
        exits.enter_context(mock.patch.dict(os.environ, _placed_in(region, account)))
        exits.enter_context(
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}})  # type: ignore[arg-type]
        )
        exits.enter_context(fast_paths_on())
        # Every call from here on is checked against its caller's policies; clients built from
        # the environment (these, the tests') are the runtime's administrator.
        identities = exits.enter_context(enforced(account, region))
        clock.start()
        exits.callback(clock.stop)
        clear_caches()  # a fresh account is a fresh set of Lambda containers
        services = dict.fromkeys(s for e in all_emulators() for s in e.services)
        clients = {
            s: boto3.client(s, region_name=region)  # type: ignore[call-overload]
            for s in (*services, *_SERVICES)
        }
        context = lambda: functions.current  # noqa: E731
        sink = SlackSink(list(channels.slack_script), channels.slack_then, clock.now, context)
        if channels.slack and "SlackWebhookSecretArn" not in parameters:
            exits.enter_context(sink.serving())
            secret = clients["secretsmanager"].create_secret(
                Name=SLACK_SECRET_NAME, SecretString=sink.url
            )
            parameters["SlackWebhookSecretArn"] = secret["ARN"]
        if channels.email and "NotificationEmail" not in parameters:
            parameters["NotificationEmail"] = channels.email
        slack_app = None
        if channels.slack_interactive and "SlackSigningSecretArn" not in parameters:
            slack_app = exits.enter_context(SlackApp(clock.now).serving())
            parameters.update(_slack_app_secrets(clients["secretsmanager"], slack_app))
            # Slack's Web API, served by slack_app (as moto serves AWS's): read at each call.
            exits.enter_context(
                mock.patch("idle_reaper.slack_users.SLACK_API_URL", f"{slack_app.url}/api/")
            )
            # Slack's hooks host (the clicks' response_urls), routed to slack_app likewise.
            exits.enter_context(
                mock.patch("idle_reaper.response_url._HANDLERS", (HooksToLoopback(slack_app.url),))
            )
        if policy is not None:
            parameters.setdefault("PolicyParameterName", policy_parameter.NAME)
        stack = stack_module.load(template, parameters, region=region, account=account, amend=amend)
        bus = Bus(
            clock,
            functions,
            clients["stepfunctions"],
            clients["sqs"],
            as_role=_role_clients(identities, region),
        )
        emulators = {e.kind: e(clock) for e in all_emulators()}
        mailbox = Mailbox(clock.now, context)
        exits.enter_context(interpreter_on(clock))
        exits.enter_context(lambda_backend_on(functions))
        for emulator in emulators.values():
            exits.enter_context(emulator.installed(stack.account, stack.region))
        exits.enter_context(bus.on(get_backend("events")[stack.account][stack.region]))
        exits.enter_context(mailbox.on())
        emulated = Account(
            stack, clock, clients, functions, bus, emulators, sink, mailbox, identities
        )
        emulated.slack_app = slack_app
        if stack.of_type("AWS::ApiGatewayV2::Api"):
            emulated.http_api = exits.enter_context(HttpApis(stack, functions, clock.now).serving())

        def deployment() -> None:
            deploy(stack, clients, functions, identities)
            bus.arm_schedules()
            emulated.deployed_at = clock.now()
            if policy is not None:
                policy_parameter.write(emulated, policy, parameters["PolicyParameterName"])

        if origin < start:
            clock.at(start, deployment)
        else:
            deployment()
        exits.callback(_stop_executions, emulated)
        yield emulated


def _slack_app_secrets(secretsmanager: Any, app: SlackApp) -> dict[str, str]:
    """The Slack app's signing secret and bot token in Secrets Manager, as an admin stores
    them; the parameters that name them."""
    signing = secretsmanager.create_secret(
        Name=SIGNING_SECRET_NAME, SecretString=app.signing_secret
    )
    token = secretsmanager.create_secret(Name=BOT_TOKEN_SECRET_NAME, SecretString=app.bot_token)
    return {"SlackSigningSecretArn": signing["ARN"], "SlackBotTokenSecretArn": token["ARN"]}


def _role_clients(identities: Identities, region: str) -> Callable[[str, str], Any]:
    """Clients that sign as a service would with a role it was given (EventBridge with a rule
    target's RoleArn, after checking that events.amazonaws.com may take it): one per role."""

    @cache
    def client(role_arn: str, service: str) -> Any:
        identities.require_trust(role_arn, "events.amazonaws.com", "EventBridge")
        credentials = identities.role_credentials(role_arn, "events")
        return boto3.client(service, region_name=region, **credentials.client_kwargs())  # type: ignore[call-overload]

    return client


def _placed_in(region: str, account: str) -> dict[str, str]:
    """The region every client and handler defaults to (Lambda sets AWS_REGION), and the
    account moto files every call under (it reads MOTO_ACCOUNT_ID before any key)."""
    return {"AWS_DEFAULT_REGION": region, "AWS_REGION": region, "MOTO_ACCOUNT_ID": account}


def _stop_executions(account: Account) -> None:
    """Stop watchers still sleeping when the run ends, so their threads exit: those EventBridge
    started and those anyone else did (the sweeper, a watcher's continuation)."""
    sfn = account.clients["stepfunctions"]
    running = {s.execution_arn for s in account.bus.started}
    if account.deployed_at is not None:
        for logical in account.stack.of_type("AWS::StepFunctions::StateMachine"):
            try:
                pages = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=account.stack.ref(logical), statusFilter="RUNNING"
                )
                running |= {e["executionArn"] for page in pages for e in page["executions"]}
            except Exception:
                continue
    for arn in sorted(running):
        try:
            if account.execution_status(arn) == "RUNNING":
                sfn.stop_execution(executionArn=arn, cause="simulation ended")
        except Exception:
            continue


def _quiet_emulator_logs() -> None:
    """moto logs every failed state with its whole parse tree, and samtranslator nags about
    its own metrics; the timeline and the summary already say what failed."""
    import logging
    import warnings

    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    # Powertools warns when an invocation adds no metric (an exempt event, a redelivery):
    # expected, and it would interleave with the progress lines.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
