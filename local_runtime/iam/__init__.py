"""IAM in the emulated account: who makes each call, and whether their policies allow it, as
AWS decides (enforcement.py switches it on)."""

from local_runtime.iam.conditions import conditions_hold
from local_runtime.iam.context import Caller, Context
from local_runtime.iam.enforcement import active, enforced
from local_runtime.iam.identities import Identities
from local_runtime.iam.policies import decide
from local_runtime.iam.role_policies import provide_aws_managed_policy, put_role_policy

__all__ = [
    "Caller",
    "Context",
    "Identities",
    "active",
    "conditions_hold",
    "decide",
    "enforced",
    "provide_aws_managed_policy",
    "put_role_policy",
]
