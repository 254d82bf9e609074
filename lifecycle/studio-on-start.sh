#!/bin/bash
# idle-reaper: a SageMaker Studio lifecycle configuration (JupyterLab: the stack creates it;
# KernelGateway: create one from this file), attached to a domain, user profile or space.
#
# Writes idle-reaper's activity signal publisher to disk and starts it in the background.
# Every minute it asks the app's Jupyter server for its kernels and terminals, reads the load
# average, and tags this app with idle-reaper:last-activity and idle-reaper:heartbeat in one
# AddTags call. Without these tags idle-reaper never judges the app idle (it is exempt, or
# stopped by SageMakerMaxHours). The server depends on the AppType (STUDIO_SERVERS below): a
# KernelGateway that answers elsewhere or wants a token gives no heartbeat (never judged
# idle); CodeEditor has none, so no signal (Studio's own IdleSettings is the tool for it).
#
# Whoever may write these tags decides the app's fate, whatever the key condition: "now" as
# last activity keeps it for ever (as idle-reaper:exempt does); an old one with a fresh
# heartbeat has it deleted. So this goes on a role only the space's owner uses, for the apps of
# that private space (PARTITION: aws, aws-cn, aws-us-gov; lower case, as DescribeApp's AppArn):
#   {
#     "Effect": "Allow",
#     "Action": "sagemaker:AddTags",
#     "Resource": "arn:PARTITION:sagemaker:REGION:ACCOUNT:app/DOMAIN-ID/SPACE-NAME/*",
#     "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [
#       "idle-reaper:last-activity", "idle-reaper:heartbeat"]}}
#   }
# AddTags has no ownership condition on apps (Service Authorization Reference: tag conditions
# and sagemaker:TaggingAction only): with one role for a domain, any user can keep any app alive
# or have it deleted. Give each user profile its own role (UserSettings.ExecutionRole); a
# Studio Classic user-profile app may use app/${sagemaker:DomainId}/${sagemaker:UserProfileName}/*
# (IAM policy variables). AmazonSageMakerFullAccess lets a role tag every app with anything,
# idle-reaper:exempt included.
#
# It returns at once (a lifecycle script has 5 minutes): it writes a file and starts one
# background process (nohup), which waits for the server; it always exits 0, never failing
# the app's start.
set -u
DIR="${IDLE_REAPER_DIR:-/var/tmp/idle-reaper}"
mkdir -p "$DIR" || exit 0
cat > "$DIR/activity_signal_publisher.py" <<'IDLE_REAPER_PUBLISHER'
"""idle-reaper's activity signal, published from a SageMaker notebook instance or Studio app.

Every minute: ask the local Jupyter server for its kernels and terminals, work out when it
last saw work (now while a kernel is busy or the load average is high), and write it with the
check's own time as two tags on this resource, in one AddTags call (no AWS API shows kernel
activity). Python 3.8+, standard library only (boto3 if importable, else the AWS CLI). Errors
are logged and retried a minute later.

Unseen, so stopped while under way: a program that mostly waits (on the network, a remote job
such as a training job it started, a GPU, a sleep between polls) using under half a CPU.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc  # noqa: UP017 (datetime.UTC is Python 3.11; this runs on 3.8)

try:  # else the AWS CLI
    import boto3
except ImportError:
    boto3 = None  # type: ignore[assignment]

LAST_ACTIVITY_TAG = "idle-reaper:last-activity"
HEARTBEAT_TAG = "idle-reaper:heartbeat"
PUBLISH_SECONDS = 60
METADATA = "/opt/ml/metadata/resource-metadata.json"
NOTEBOOK_SERVER = "https://localhost:8443/"
"""A notebook instance's Jupyter server: TLS, self-signed certificate."""
STUDIO_SERVERS = {
    "JupyterLab": "http://127.0.0.1:8888/jupyterlab/default/",
    "KernelGateway": "http://127.0.0.1:8888/",
}
"""CodeEditor has no Jupyter server to say if a program works: no signal (never idle)."""
NOT_WORKING = ("idle", "dead")
"""Kernel states that are not work; any other (busy, starting, unknown) counts as work."""
LOAD_WORKING = 0.5
"""A 1-minute load average this high is work no kernel shows (`!nohup python train.py &`, a
job in a terminal, a thread). One busy CPU lifts it past 0.5 in 42 s; it falls back 42 s
after it ends; a server that only waits stays far below. All work on the instance counts."""
CLI_PATHS = ("/usr/local/bin/aws", "/opt/conda/bin/aws", "/home/ec2-user/anaconda3/bin/aws")
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?", re.ASCII
)
log = logging.getLogger("idle-reaper")


def parse_time(value: Any) -> datetime | None:
    """A Jupyter `last_activity` (ISO 8601, UTC `Z` or an offset) as aware UTC, else None."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    moment += timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (moment - offset).replace(tzinfo=UTC)


def working(kernels: list[Any]) -> bool:
    """Whether any kernel is doing work (or in a state that is not known to be idle)."""
    return any(
        not isinstance(k, dict) or k.get("execution_state") not in NOT_WORKING for k in kernels
    )


def load() -> float | None:
    """The 1-minute load average; None when the system cannot say."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def last_activity(
    kernels: list[Any],
    terminals: list[Any],
    now: datetime,
    previous: datetime,
    load_average: float | None = 0.0,
) -> datetime:
    """Now while a kernel works or the load is LOAD_WORKING or more (or unknown: when in
    doubt, work); else the latest activity of any kernel or terminal, never before what was
    published last (a kernel shut down takes its time with it), never after now."""
    if working(kernels) or load_average is None or load_average >= LOAD_WORKING:
        return now
    seen = [parse_time(x.get("last_activity")) for x in kernels + terminals if isinstance(x, dict)]
    return min(max([previous] + [t for t in seen if t is not None]), now)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tags(last: datetime, now: datetime) -> list[dict[str, str]]:
    """The two tags, written together: when work was last seen, and when this check ran."""
    return [
        {"Key": LAST_ACTIVITY_TAG, "Value": stamp(min(last, now))},
        {"Key": HEARTBEAT_TAG, "Value": stamp(now)},
    ]


def server_for(metadata: dict[str, Any]) -> str | None:
    """Where this resource's Jupyter server answers; None: it has none to ask."""
    app_type = metadata.get("AppType")
    if app_type is None:
        return NOTEBOOK_SERVER
    return STUDIO_SERVERS.get(app_type)


def resource_arn(metadata: dict[str, Any]) -> str:
    """This resource's own ARN, checked: the tags go on nothing else."""
    arn = metadata.get("ResourceArn")
    if not isinstance(arn, str) or not re.fullmatch(
        r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:(notebook-instance|app)/[A-Za-z0-9/._-]+",
        arn,
    ):
        raise ValueError(f"no SageMaker ResourceArn in {METADATA}: {str(arn)[:80]!r}")
    return arn


def cli_command(aws: str, arn: str, payload: list[dict[str, str]]) -> list[str]:
    """`aws sagemaker add-tags` in the resource's own region (arguments, never a shell line)."""
    region = arn.split(":")[3]
    command = [aws, "sagemaker", "add-tags", "--region", region, "--resource-arn", arn]
    return [*command, "--tags", json.dumps(payload)]


def publish(arn: str, payload: list[dict[str, str]]) -> None:
    """One AddTags call on this resource, through boto3 if this Python has it, else the CLI."""
    if boto3 is not None:
        client = boto3.client("sagemaker", region_name=arn.split(":")[3])
        client.add_tags(ResourceArn=arn, Tags=payload)
        return
    aws = shutil.which("aws") or next((p for p in CLI_PATHS if shutil.which(p)), None)
    if aws is None:
        raise RuntimeError("neither boto3 nor the AWS CLI is installed")
    done = subprocess.run(
        cli_command(aws, arn, payload), capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"aws sagemaker add-tags: {done.stderr.strip()[-300:]}")


def fetch(url: str, missing_ok: bool = False) -> list[Any]:
    """A JSON list from the local server ([] for a 404 when `missing_ok`)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # localhost only
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as answer:
            data = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if missing_ok and exc.code == 404:
            return []
        raise
    if not isinstance(data, list):
        raise ValueError(f"{url}: not a JSON list")
    return data


def check(server: str, arn: str, previous: datetime) -> datetime:
    """One check and one publication; returns the last activity published."""
    kernels = fetch(server + "api/kernels")
    terminals = fetch(server + "api/terminals", missing_ok=True)
    now = datetime.now(UTC)
    last = last_activity(kernels, terminals, now, previous, load())
    publish(arn, tags(last, now))
    return last


def run(metadata_path: str = METADATA, rounds: int | None = None) -> int:
    logging.basicConfig(format="%(asctime)s idle-reaper %(levelname)s %(message)s", level="INFO")
    started = last = datetime.now(UTC)
    server = arn = None
    done = 0
    while rounds is None or done < rounds:
        done += 1
        try:
            if arn is None:
                with open(metadata_path) as file:
                    metadata = json.load(file)
                server, arn = server_for(metadata), resource_arn(metadata)
                if server is None:
                    log.info("%s has no Jupyter server: no activity signal", arn)
                    return 0
            last = check(str(server), arn, last)
            log.info("published last activity %s", stamp(last))
        except Exception as exc:  # every failure waits for the next minute, none ends the loop
            log.warning("not published (%s: %s); trying again in a minute", type(exc).__name__, exc)
        if rounds is None or done < rounds:
            time.sleep(PUBLISH_SECONDS - time.time() % PUBLISH_SECONDS)
    log.info("stopped after %d checks since %s", done, stamp(started))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else METADATA))
IDLE_REAPER_PUBLISHER
LOG="$DIR/publisher.log"
if [ -w /var/log/apps/app_container.log ]; then
  LOG=/var/log/apps/app_container.log  # Studio sends this file to CloudWatch Logs
fi
PY="${IDLE_REAPER_PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in /opt/conda/bin/python /usr/bin/python3 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
      PY="$candidate"
      break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "idle-reaper: no Python 3.8 or later here: no activity signal"
  exit 0
fi
nohup "$PY" "$DIR/activity_signal_publisher.py" >> "$LOG" 2>&1 &
echo "idle-reaper: activity signal publisher started (log: $LOG)"
exit 0
