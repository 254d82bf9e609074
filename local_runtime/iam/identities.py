"""Who calls in the emulated account: the runtime's administrator, the role sessions Lambda and
Step Functions would use, and the caller, policies and tags behind each access key."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from local_runtime.errors import TemplateError
from local_runtime.iam.context import Caller
from local_runtime.iam.policies import parse

ADMIN_USER = "local-runtime"
"""The runtime's own identity: deploys the stack and plays the scenario's people."""
_ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SESSION_SECONDS = 43200
"""Role credentials last 12 hours in AWS; moto never expires them (the virtual clock may move
a week), and botocore treats credentials from the environment as static, so they last the run."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """What Lambda puts in a function's environment for its role."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def client_kwargs(self) -> dict[str, str]:
        """The same, as a boto3 client's arguments (the variables' names in lower case)."""
        return {name.lower(): value for name, value in self.environment().items()}


def _iam(account: str) -> Any:
    """moto's IAM of the account (IAM is global: one backend, under the partition's name)."""
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def create_admin(account: str, region: str) -> Credentials:
    """The runtime's administrator (Allow */*) with a new access key, straight into the emulated
    IAM (no call to authorize yet); an outer mock_aws keeps accounts between runs."""
    backend = _iam(account)
    if ADMIN_USER not in backend.users:
        backend.create_user(region_name=region, user_name=ADMIN_USER)
    backend.put_user_policy(ADMIN_USER, "everything", json.dumps(_ADMIN_POLICY))
    for old in list(backend.list_access_keys(ADMIN_USER)):  # a user may have two keys
        backend.delete_access_key(old.access_key_id, ADMIN_USER)
    key = backend.create_access_key(ADMIN_USER)
    return Credentials(key.access_key_id, key.secret_access_key)


class Identities:
    """The role sessions the runtime hands out, who holds each access key, and what each
    caller did while `enforced()` is open."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.decisions: Counter[tuple[str, str, bool]] = Counter()
        """(caller, action, allowed) -> calls: what each identity did, and was refused."""
        self.unchecked: set[tuple[str, str]] = set()
        """(caller, action) called with no ARN rule for its resource: only the action checked."""
        self._sessions: dict[tuple[str, str], Credentials] = {}
        self._callers: dict[str, Caller] = {}
        self._lock = threading.Lock()

    # -- credentials --------------------------------------------------------------------------
    def role_credentials(self, role_arn: str, session_name: str) -> Credentials:
        """A session of the role, as the service using it (Lambda, Step Functions) gets one;
        one per role and session name for the whole run."""
        from moto.sts.models import sts_backends

        with self._lock:
            key = (role_arn, session_name)
            if key not in self._sessions:
                assumed = sts_backends[self.account]["aws"].assume_role(
                    region_name=self.region,
                    role_session_name=session_name,
                    role_arn=role_arn,
                    policy="",
                    duration=SESSION_SECONDS,
                    external_id="",
                )
                self._sessions[key] = Credentials(
                    assumed.access_key_id, assumed.secret_access_key, assumed.session_token
                )
            return self._sessions[key]

    def function_environment(self, role_arn: str, function_name: str) -> dict[str, str]:
        """The credential variables Lambda sets for a function: its role, session = its name."""
        self.require_trust(role_arn, "lambda.amazonaws.com", function_name)
        return self.role_credentials(role_arn, function_name).environment()

    # -- trust --------------------------------------------------------------------------------
    def require_trust(self, role_arn: str, service: str, user: str) -> None:
        """AWS refuses a function or a state machine whose role its service cannot assume;
        so does the deployment here."""
        problem = self.untrusted(role_arn, service)
        if problem:
            raise TemplateError(f"{user}: {problem}")

    def untrusted(self, role_arn: str, service: str) -> str | None:
        """Why `service` cannot assume the role (it does not exist, or its trust policy does
        not name the service), or None when it can."""
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 5 else self.account
        role = self._role(role_arn.rsplit("/", 1)[-1], account)
        document = role.assume_role_policy_document if role is not None else None
        if document is None:
            return f"role {role_arn} does not exist"
        for s in parse(_text(document)):
            principal = s.principal if isinstance(s.principal, dict) else {}
            services = principal.get("Service", [])
            services = services if isinstance(services, list) else [services]
            if s.effect == "Allow" and s.matches_action("sts:AssumeRole") and service in services:
                return None
        return f"role {role_arn} does not trust {service} to assume it"

    # -- callers ------------------------------------------------------------------------------
    def caller(self, access_key_id: str, account: str) -> Caller | None:
        """Who holds the access key: an active user's key or a role session's; None if no one."""
        cached = self._callers.get(access_key_id)
        if cached is not None:
            return cached
        from moto.sts.models import sts_backends

        iam = _iam(account)
        key = iam.access_keys.get(access_key_id)
        caller: Caller | None = None
        if key is not None and key.user_name and key.status == "Active":
            user = iam.get_user(key.user_name)
            caller = Caller(
                arn=user.arn,
                principal_arn=user.arn,
                account=account,
                kind="User",
                name=user.name,
                userid=user.id,
            )
        else:
            for assumed in sts_backends[account]["aws"].assumed_roles:
                if assumed.access_key_id == access_key_id:
                    role_name = assumed.role_arn.rsplit("/", 1)[-1]
                    role = self._role(role_name, account)
                    caller = Caller(
                        arn=f"arn:aws:sts::{account}:assumed-role/{role_name}/{assumed.session_name}",
                        principal_arn=assumed.role_arn,
                        account=account,
                        kind="AssumedRole",
                        name=role_name,
                        userid=f"{role.id if role else 'AROA'}:{assumed.session_name}",
                        session_policy=assumed.policy or None,
                    )
                    break
        if caller is not None:
            self._callers[access_key_id] = caller
        return caller

    def policies(self, caller: Caller) -> list[str]:
        """The caller's identity policies, read from IAM on every call (a test may change a
        role's policy mid-run; parsing is cached by document)."""
        iam = _iam(caller.account)
        if caller.kind == "User":
            owners: list[Any] = [iam.get_user(caller.name)]
            owners += iam.get_groups_for_user(caller.name)
        else:
            role = self._role(caller.name, caller.account)
            owners = [role] if role is not None else []
        documents: list[str] = []
        for owner in owners:
            documents += [_text(d) for d in owner.policies.values()]
            for policy in owner.managed_policies.values():
                documents += [_text(v.document) for v in policy.versions if v.is_default]
        return documents

    def tags(self, caller: Caller) -> dict[str, str]:
        """The role's tags (aws:PrincipalTag/...); moto keeps them by lower-cased key."""
        role = self._role(caller.name, caller.account) if caller.kind == "AssumedRole" else None
        tags = getattr(role, "tags", None) or {}
        values = tags.values() if isinstance(tags, dict) else tags
        return {str(t["Key"]): str(t["Value"]) for t in values}

    def _role(self, name: str, account: str) -> Any:
        try:
            return _iam(account or self.account).get_role(name)
        except Exception:
            return None
