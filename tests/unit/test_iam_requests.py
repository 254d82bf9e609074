"""What IAM authorizes for a request: the action and the resource ARN(s), per operation, as the
Service Authorization Reference names them, in the request region's partition."""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.iam.requests import Call, Check, checks, iam_prefix

ACCOUNT = "123456789012"


def call(service: str, operation: str, region: str = "us-east-1", **params: Any) -> Call:
    return Call(service, operation, region, ACCOUNT, params)


def arn(service: str, resource: str, region: str = "us-east-1", partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{ACCOUNT}:{resource}"


# -- SageMaker -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "params", "resource"),
    [
        pytest.param(
            "StopNotebookInstance",
            {"NotebookInstanceName": "MyNotebook"},
            "notebook-instance/mynotebook",
            id="notebook-names-are-lower-case-in-arns",
        ),
        pytest.param(
            "DescribeNotebookInstance",
            {"NotebookInstanceName": "nb-1"},
            "notebook-instance/nb-1",
            id="describe-notebook",
        ),
        pytest.param(
            "DeleteApp",
            {
                "DomainId": "d-abc123",
                "UserProfileName": "Alice",
                "AppType": "KernelGateway",
                "AppName": "datascience-1-0",
            },
            "app/d-abc123/alice/kernelgateway/datascience-1-0",
            id="profile-app",
        ),
        pytest.param(
            "DescribeApp",
            {
                "DomainId": "d-abc123",
                "SpaceName": "team-space",
                "AppType": "JupyterLab",
                "AppName": "default",
            },
            "app/d-abc123/team-space/jupyterlab/default",
            id="space-app-has-the-space-where-a-profile-would-be",
        ),
        pytest.param(
            "CreateApp",
            {"DomainId": "d-x", "UserProfileName": "bob", "AppType": "CodeEditor", "AppName": "a"},
            "app/d-x/bob/codeeditor/a",
            id="create-app",
        ),
        pytest.param(
            "DescribeSpace",
            {"DomainId": "d-abc123", "SpaceName": "team-space"},
            "space/d-abc123/team-space",
            id="space",
        ),
        pytest.param("DescribeDomain", {"DomainId": "d-abc123"}, "domain/d-abc123", id="domain"),
        pytest.param(
            "DescribeUserProfile",
            {"DomainId": "d-abc123", "UserProfileName": "alice"},
            "user-profile/d-abc123/alice",
            id="user-profile",
        ),
    ],
)
def test_sagemaker_operations_act_on_their_resource(
    operation: str, params: dict[str, str], resource: str
) -> None:
    assert checks(call("sagemaker", operation, **params)) == [
        (f"sagemaker:{operation}", arn("sagemaker", resource))
    ]


def test_sagemaker_tagging_acts_on_the_arn_it_is_given_and_lists_on_everything() -> None:
    given = arn("sagemaker", "notebook-instance/nb-1")
    assert checks(call("sagemaker", "ListTags", ResourceArn=given)) == [
        ("sagemaker:ListTags", given)
    ]
    assert checks(call("sagemaker", "AddTags", ResourceArn=given, Tags=[])) == [
        ("sagemaker:AddTags", given)
    ]
    assert checks(call("sagemaker", "ListNotebookInstances")) == [
        ("sagemaker:ListNotebookInstances", "*")
    ]
    assert checks(call("sagemaker", "ListApps")) == [("sagemaker:ListApps", "*")]


def test_a_sagemaker_request_missing_its_names_has_no_resource_to_check() -> None:
    """A malformed request (moto refuses it): only its action is checked, never a made-up ARN."""
    assert checks(call("sagemaker", "DeleteApp", DomainId="d-1", AppType="JupyterLab")) == [
        ("sagemaker:DeleteApp", None)
    ]
    assert checks(call("sagemaker", "CreateTrainingJob", TrainingJobName="t")) == [
        ("sagemaker:CreateTrainingJob", None)
    ]


# -- EC2 -----------------------------------------------------------------------------------------
def test_an_instance_operation_acts_on_every_instance_it_names_in_order() -> None:
    request = call(
        "ec2",
        "StopInstances",
        **{"Action": "StopInstances", "InstanceId.2": "i-0bbb", "InstanceId.1": "i-0aaa"},
    )
    assert checks(request) == [
        ("ec2:StopInstances", arn("ec2", "instance/i-0aaa")),
        ("ec2:StopInstances", arn("ec2", "instance/i-0bbb")),
    ]
    for operation in ("StartInstances", "TerminateInstances", "RebootInstances"):
        assert checks(call("ec2", operation, **{"InstanceId.1": "i-1"})) == [
            (f"ec2:{operation}", arn("ec2", "instance/i-1"))
        ]


def test_ec2_describe_operations_support_no_resource_level_permissions() -> None:
    assert checks(call("ec2", "DescribeInstances", **{"InstanceId.1": "i-1"})) == [
        ("ec2:DescribeInstances", "*")
    ]


def test_run_instances_is_authorized_on_what_it_launches_from_and_into() -> None:
    request = call(
        "ec2",
        "RunInstances",
        **{
            "ImageId": "ami-0abc",
            "SubnetId": "subnet-1",
            "SecurityGroupId.1": "sg-1",
            "KeyName": "mine",
            "TagSpecification.1.ResourceType": "instance",
            "TagSpecification.1.Tag.1.Key": "idle-reaper:opt-in",
            "TagSpecification.1.Tag.1.Value": "true",
            "TagSpecification.2.ResourceType": "volume",
        },
    )
    found = checks(request)
    action = "ec2:RunInstances"
    assert found == [
        (action, arn("ec2", "instance/*")),
        (action, "arn:aws:ec2:us-east-1::image/ami-0abc"),  # images name no account
        (action, arn("ec2", "subnet/subnet-1")),
        (action, arn("ec2", "security-group/sg-1")),
        (action, arn("ec2", "network-interface/*")),
        (action, arn("ec2", "volume/*")),
        (action, arn("ec2", "key-pair/mine")),
        ("ec2:CreateTags", arn("ec2", "instance/*")),  # tagging on creation is authorized too
        ("ec2:CreateTags", arn("ec2", "volume/*")),
    ]


def test_run_instances_without_a_subnet_or_group_checks_any_not_a_guessed_default() -> None:
    requested = checks(call("ec2", "RunInstances", ImageId="ami-1"))
    assert ("ec2:RunInstances", arn("ec2", "subnet/*")) in requested
    assert ("ec2:RunInstances", arn("ec2", "security-group/*")) in requested
    assert not any(action == "ec2:CreateTags" for action, _ in requested)


def test_create_tags_acts_on_each_resource_by_its_id() -> None:
    request = call("ec2", "CreateTags", **{"ResourceId.1": "i-1", "ResourceId.2": "vol-2"})
    assert checks(request) == [
        ("ec2:CreateTags", arn("ec2", "instance/i-1")),
        ("ec2:CreateTags", arn("ec2", "volume/vol-2")),
    ]
    unknown = call("ec2", "CreateTags", **{"ResourceId.1": "i-1", "ResourceId.2": "weird-9"})
    assert checks(unknown) == [("ec2:CreateTags", None)]


def test_an_instance_operation_naming_no_instance_has_no_resource() -> None:
    assert checks(call("ec2", "StopInstances", Action="StopInstances")) == [
        ("ec2:StopInstances", None)
    ]


# -- CloudWatch: signed as monitoring, authorized as cloudwatch ----------------------------------
def test_cloudwatch_signs_as_monitoring_but_its_iam_prefix_is_cloudwatch() -> None:
    assert iam_prefix("monitoring") == "cloudwatch"
    assert iam_prefix("glue") == "glue"
    for operation in ("GetMetricData", "PutMetricData", "ListMetrics"):
        assert checks(call(iam_prefix("monitoring"), operation)) == [
            (f"cloudwatch:{operation}", "*")
        ]
    assert checks(call("cloudwatch", "PutMetricAlarm", AlarmName="a")) == [
        ("cloudwatch:PutMetricAlarm", None)
    ]


# -- partitions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_arns_are_in_the_regions_partition(region: str, partition: str) -> None:
    def only(request: Call) -> str | None:
        found: list[Check] = checks(request)
        assert len(found) == 1
        return found[0][1]

    assert only(call("glue", "StopSession", region, Id="s1")) == arn(
        "glue", "session/s1", region, partition
    )
    assert only(call("ec2", "StopInstances", region, **{"InstanceId.1": "i-1"})) == arn(
        "ec2", "instance/i-1", region, partition
    )
    assert only(call("sagemaker", "StopNotebookInstance", region, NotebookInstanceName="n")) == (
        arn("sagemaker", "notebook-instance/n", region, partition)
    )
    assert only(call("lambda", "Invoke", region, FunctionName=f"{ACCOUNT}:function:f")) == arn(
        "lambda", "function:f", region, partition
    )
    url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/q"
    queue = arn("sqs", "q", region, partition)
    assert only(call("sqs", "SendMessage", region, QueueUrl=url)) == queue
    launch = checks(call("ec2", "RunInstances", region, ImageId="ami-1"))
    assert all(str(resource).startswith(f"arn:{partition}:ec2:{region}:") for _, resource in launch)


def test_a_region_no_partition_knows_names_no_resource() -> None:
    assert checks(call("glue", "StopSession", "xx-nowhere-1", Id="s1")) == [
        ("glue:StopSession", None)
    ]


# -- the tags a request passes (aws:TagKeys, aws:RequestTag/<key>) -----------------------------
def test_the_tags_of_a_tagging_request_are_read_per_protocol() -> None:
    from local_runtime.iam.requests import request_tags

    keep = {"idle-reaper:keep-until": "2026-03-02T10:27:00Z", "idle-reaper:kept-by": "a"}
    glue = call("glue", "TagResource", ResourceArn="arn", TagsToAdd=keep)
    assert request_tags(glue) == keep
    tags = [{"Key": k, "Value": v} for k, v in keep.items()]
    assert request_tags(call("sagemaker", "AddTags", ResourceArn="arn", Tags=tags)) == keep
    ec2 = call(
        "ec2",
        "CreateTags",
        **{"ResourceId.1": "i-0abc", "Tag.2.Key": "b", "Tag.2.Value": "2", "Tag.1.Key": "a"},
    )
    assert request_tags(ec2) == {"a": "", "b": "2"}
    assert request_tags(call("glue", "CreateSession", Id="s")) == {}
    assert request_tags(call("glue", "GetSession", Id="s")) is None


def test_request_tags_in_the_context_and_their_absence() -> None:
    from datetime import UTC, datetime

    from local_runtime.iam.context import Caller, Unevaluable, request_context

    who = Caller("arn:aws:iam::1:user/a", "arn:aws:iam::1:user/a", "1", "User", "a", "AIDA")
    now = datetime(2026, 3, 2, tzinfo=UTC)
    tagged = request_context(who, "us-east-1", now, {}, {"Idle-Reaper:Keep-Until": "t"})
    assert tagged.get("aws:TagKeys") == ["Idle-Reaper:Keep-Until"]
    assert tagged.get("aws:RequestTag/idle-reaper:keep-until") == ["t"]  # key names: any case
    assert tagged.get("aws:RequestTag/owner") is None
    untagged = request_context(who, "us-east-1", now, {}, {})
    assert untagged.get("aws:TagKeys") is None and untagged.get("aws:RequestTag/x") is None
    unread = request_context(who, "us-east-1", now, {})
    with pytest.raises(Unevaluable):
        unread.get("aws:TagKeys")
    with pytest.raises(Unevaluable):
        unread.get("aws:RequestTag/x")
