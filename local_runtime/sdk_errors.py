"""How Step Functions names an aws-sdk Task's failure (error and cause), by AWS's documented
rule and the AWS SDK for Java 2.x's naming, read from botocore's models: never a hand list."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

# What AWS documents (Step Functions developer guide, "Learning to use AWS service SDK integrations
# in Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-
# awssdk.html): an aws-sdk Task's error is `ServiceName.ErrorName`, both in PascalCase
# (`arn:aws:states:::aws-sdk:acmpca:deleteCertificateAuthority` fails with
# `AcmPca.ResourceNotFoundException`), and the `Exception` suffix is always there, even where the
# service's own error name has none (S3's BucketAlreadyExists is `S3.BucketAlreadyExistsException`).
# Those names are the AWS SDK for Java 2.x's: its client name (`AcmPca`, `DynamoDb`, `Sfn`, `Ec2`,
# `SageMaker`) and its exception class, one per exception shape of the service's model, the
# service's base `<Service>Exception` for every other error. So this runtime names them with that
# SDK's rules, read from aws/aws-sdk-java-v2:
# - the service: `DefaultNamingStrategy.getServiceName`: pascalCase(serviceId) without a leading
#   "Amazon"/"Aws" or a trailing "Service";
# - an exception: `DefaultNamingStrategy.getExceptionName`: pascalCase(shape name), a trailing
#   "Fault" replaced by "Exception", "Exception" added when missing;
# - pascalCase: `CodegenNamingUtils.splitOnWordBoundaries`, each word lower-cased and capitalised;
# - which errors are declared: every exception shape of the *service's* model, whatever the
#   operation (the generated client maps an error code to its class with one table "built by
#   iterating the whole service model's exception list ... with no operation-specific input",
#   aws/aws-sdk-java-v2 pull request 7240; the same in pull request 808). botocore's model holds
#   the same shapes, so "declared" is read there, never from a hand list. EC2's model declares no
#   error shape at all: every EC2 error, InvalidInstanceID.NotFound and UnauthorizedOperation
#   included, is `Ec2.Ec2Exception` ("If the model doesn't contain the errors then a generic
#   `Ec2Exception` with the corresponding error code will be what is thrown": aws/aws-sdk-kotlin
#   issue 278, the same generated-SDK rule).
# The Cause is that SDK's exception message: the service's message, then "(Service: <Service>,
# Status Code: <n>, Request ID: <id>)", with ", Extended Request ID: <id>" where the service sends
# one (S3); as CloudFormation shows such errors, e.g. "... (Service: Ec2, Status Code: 400, Request
# ID: ...)". The error code itself is not in it: an ASL tells EC2's errors apart only by the
# message text, which is why the watcher does not try to.

_SFN_TO_BOTO = {
    "sfn": "stepfunctions",
    "states": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
}
"""aws-sdk service names (the Java SDK's client names, lower case) that are not botocore's name
without its hyphens (`acmpca` is botocore's `acm-pca`, found without this table)."""


@cache
def _boto_services() -> dict[str, str]:
    """botocore's service names by their hyphen-less spelling (`acmpca` -> `acm-pca`)."""
    import botocore.session

    names = botocore.session.get_session().get_available_services()
    return {name.replace("-", ""): name for name in names}


def _boto_service(sdk_service: str) -> str:
    if sdk_service in _SFN_TO_BOTO:
        return _SFN_TO_BOTO[sdk_service]
    return _boto_services().get(sdk_service, sdk_service)


def _words(text: str) -> list[str]:
    """The Java SDK's `splitOnWordBoundaries`."""
    text = re.sub(r"[^A-Za-z0-9]+", " ", text)
    text = re.sub(r"([^a-z]{2,})v([0-9]+)", r"\1 v\2 ", text)
    text = re.sub(r"([^A-Z]{2,})V([0-9]+)", r"\1 V\2 ", text)
    text = " ".join(re.split(r"(?<=[a-z])(?=[A-Z](?:[a-zA-Z]|[0-9]))", text))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", text)
    return re.sub(" +", " ", text).strip().split(" ")


def pascal_case(text: str) -> str:
    """The Java SDK's `pascalCase`: `DynamoDB` -> `DynamoDb`, `EC2` -> `Ec2`."""
    return "".join(word[:1].upper() + word[1:].lower() for word in _words(text))


def sdk_service_name(service_id: str) -> str:
    """The service's name in Step Functions' errors, from its model's serviceId."""
    name = pascal_case(service_id)
    for prefix in ("Amazon", "Aws"):
        name = name.removeprefix(prefix) if name != prefix else name
    return name.removesuffix("Service") if name != "Service" else name


def sdk_exception_name(shape: str) -> str:
    """The exception class the Java SDK generates for an error shape of a service's model."""
    if shape.endswith("Fault"):
        return pascal_case(shape.removesuffix("Fault")) + "Exception"
    if shape.endswith("Exception"):
        return pascal_case(shape)
    return pascal_case(shape) + "Exception"


@cache
def _declared_errors(boto_service: str) -> tuple[str, dict[str, str]]:
    """(the service's name, each declared error code -> its exception's name), read from
    botocore's model of the service; codes are the shapes' `error.code`, else their names."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(boto_service)
    declared = {
        str(getattr(shape, "error_code", None) or shape.name): sdk_exception_name(shape.name)
        for shape in model.error_shapes
    }
    return sdk_service_name(model.service_id), declared


def _service_errors(sdk_service: str) -> tuple[str, dict[str, str]]:
    from botocore.exceptions import UnknownServiceError

    try:
        return _declared_errors(_boto_service(sdk_service))
    except UnknownServiceError:  # no model to read: every error is undeclared
        return pascal_case(sdk_service), {}


def aws_sdk_error(sdk_service: str, code: str) -> tuple[str, str]:
    """(service name, error) for a `code` returned to `arn:aws:states:::aws-sdk:<sdk_service>:...`:
    `Glue.EntityNotFoundException`, `SageMaker.SageMakerException`, `Ec2.Ec2Exception`."""
    service, declared = _service_errors(sdk_service)
    return service, f"{service}.{declared.get(code, f'{service}Exception')}"


def aws_sdk_error_names(sdk_service: str) -> frozenset[str]:
    """Every error an aws-sdk Task of the service can fail with, service errors only: each
    declared exception's, and `<Service>.<Service>Exception` for everything else."""
    service, declared = _service_errors(sdk_service)
    return frozenset(
        {f"{service}.{service}Exception", *(f"{service}.{e}" for e in declared.values())}
    )


def aws_sdk_cause(service: str, response: Mapping[str, Any]) -> str:
    """The Java SDK's message for a service error, which Step Functions puts in the Cause."""
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    details = [
        f"Service: {service}",
        f"Status Code: {metadata.get('HTTPStatusCode')}",
        f"Request ID: {metadata.get('RequestId')}",
    ]
    if metadata.get("HostId"):
        details.append(f"Extended Request ID: {metadata['HostId']}")
    return f"{error.get('Message')} ({', '.join(details)})"
