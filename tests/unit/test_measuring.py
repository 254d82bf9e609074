"""The tools that measure the runtime: side-by-side runs compare what two trees did, and the
profile charges every thread's time to an area."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_runtime import profiling, side_by_side
from local_runtime.errors import LocalRuntimeError
from local_runtime.measured_run import fingerprint, workload


def test_fingerprints_ignore_only_the_secrets_random_suffix() -> None:
    one = "Arn=arn:aws:secretsmanager:us-east-1:1:secret:idle-reaper/slack-webhook-zkjlRH"
    two = one.replace("zkjlRH", "YTCTwB")
    assert fingerprint(one) == fingerprint(two)
    assert fingerprint(one) != fingerprint(one.replace("us-east-1", "us-west-2"))


def test_the_workload_is_the_seeded_week() -> None:
    first, again = workload(30, 1, seed=7), workload(30, 1, seed=7)
    assert first == again
    assert workload(30, 1, seed=8) != first
    assert [r.id for r in first.resources] == [f"s{n:05d}" for n in range(30)]


def test_speedup_is_the_ratio_of_medians() -> None:
    runs = {
        "base": [{"wall_seconds": 300.0}, {"wall_seconds": 320.0}, {"wall_seconds": 310.0}],
        "head": [{"wall_seconds": 100.0}, {"wall_seconds": 155.0}, {"wall_seconds": 150.0}],
    }
    assert side_by_side._ratio(runs, "wall_seconds") == round(310 / 150, 2)


@pytest.mark.parametrize("base", ["", "--upload-pack=evil", "-x", "0" * 40])
def test_a_base_that_is_not_a_commit_is_refused(base: str) -> None:
    with pytest.raises(LocalRuntimeError):
        side_by_side.compare(base, 1, 1, 7, 1)


def test_bad_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert side_by_side.main(["--sessions", "0"]) == 2
    assert side_by_side.main(["--days", "nan"]) == 2
    assert profiling.main(["--sessions", "0"]) == 2
    assert all(line.startswith("error: ") for line in capsys.readouterr().err.splitlines())


def test_areas_come_from_the_file_and_the_standard_library_goes_to_its_caller() -> None:
    assert profiling.area_of("/x/site-packages/moto/core/serialize.py") == (
        "moto: response serialization"
    )
    assert profiling.area_of("/x/site-packages/moto/glue/models.py") == "moto: service backends"
    assert profiling.area_of("/repo/local_runtime/iam/policies.py") == (
        "IAM evaluation (the runtime's)"
    )
    assert profiling.area_of("~") is None
    assert profiling.area_of(copy.__file__) is None  # the standard library: its caller's
    assert profiling.area_of(json.__file__) == "JSON (encoding, decoding)"
    assert profiling.area_of("/x/site-packages/somethingelse/mod.py") == profiling.OTHER


def test_every_thread_is_profiled_and_parked_time_is_apart() -> None:
    document = {"a": [list(range(50)) for _ in range(50)]}
    gate = threading.Event()

    def work() -> None:
        gate.wait()  # parked
        for _ in range(200):
            copy.deepcopy(document)
            json.dumps(document)

    with profiling.every_thread_profiled() as profiles:
        thread = threading.Thread(target=work)
        thread.start()
        threading.Timer(0.05, gate.set).start()
        thread.join()
    stats = profiling.merged(profiles)
    areas, parked = profiling.by_area(stats)
    assert areas["JSON (encoding, decoding)"] > 0
    assert areas[profiling.OTHER] > 0  # deepcopy, charged to this test's own function
    assert parked > 0.01
    assert not any(a is None for a in areas)


class Ticks:
    """A clock the test moves by hand: own times come out exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def sqs() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def on(client: Any, operation: str, action: Any) -> None:
    """Run `action` while `operation` is being made (as a handler's calls run inside Invoke)."""
    client.meta.events.register_first(
        f"before-call.sqs.{operation}", lambda **_: (action(), None)[1]
    )  # a before-call handler that returns something replaces the call's answer: None


def own(tally: dict[str, list[float]]) -> dict[str, tuple[int, float]]:
    return {name: (int(calls), seconds) for name, (calls, seconds) in tally.items()}


def test_calls_nested_three_deep_each_keep_only_their_own_time(sqs: Any) -> None:
    ticks = Ticks()
    sqs.create_queue(QueueName="q0")
    on(sqs, "ListQueues", lambda: [ticks.advance(1), sqs.create_queue(QueueName="q")])
    on(sqs, "CreateQueue", lambda: [ticks.advance(2), sqs.get_queue_url(QueueName="q0")])
    on(sqs, "GetQueueUrl", lambda: ticks.advance(4))
    with profiling.calls_by_operation(ticks) as tally:
        sqs.list_queues()
    assert own(tally) == {
        "sqs:ListQueues": (1, 1.0),
        "sqs:CreateQueue": (1, 2.0),
        "sqs:GetQueueUrl": (1, 4.0),
    }


def test_a_call_that_raises_is_counted_and_leaves_the_next_one_right(sqs: Any) -> None:
    ticks = Ticks()
    on(sqs, "GetQueueUrl", lambda: ticks.advance(3))
    with profiling.calls_by_operation(ticks) as tally:
        with pytest.raises(ClientError):
            sqs.get_queue_url(QueueName="missing")
        on(sqs, "ListQueues", lambda: ticks.advance(5))
        sqs.list_queues()
    assert own(tally) == {"sqs:GetQueueUrl": (1, 3.0), "sqs:ListQueues": (1, 5.0)}


def test_calls_on_two_threads_at_once_are_not_nested_in_each_other(sqs: Any) -> None:
    """A's call spans B's whole call on another thread: B's time is still A's (wall time)."""
    ticks = Ticks()
    inside, done = threading.Event(), threading.Event()
    on(sqs, "ListQueues", lambda: [ticks.advance(1), inside.set(), done.wait(5)])
    on(sqs, "CreateQueue", lambda: ticks.advance(5))
    with profiling.calls_by_operation(ticks) as tally:
        a = threading.Thread(target=sqs.list_queues)
        a.start()
        inside.wait(5)
        b = threading.Thread(target=lambda: sqs.create_queue(QueueName="b"))
        b.start()
        b.join()
        done.set()
        a.join()
    assert own(tally) == {"sqs:ListQueues": (1, 6.0), "sqs:CreateQueue": (1, 5.0)}


def test_a_measured_run_keeps_what_it_fingerprinted(tmp_path: Path) -> None:
    from local_runtime.measured_run import measure

    result = measure(2, 0.02, 7, keep=tmp_path)
    assert result["executions"] == 2
    assert fingerprint((tmp_path / "timeline.txt").read_text()) == result["timeline_sha256"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["resources"]) == 2
    assert result["cpu_seconds"] > 0


def _kept(folder: Path, summary: dict[str, Any], timeline: str) -> Path:
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    (folder / "timeline.txt").write_text(timeline)
    return folder


BASE_SUMMARY: dict[str, Any] = {
    "parameters": {"GlueIdleMinutes": "30", "SlackWebhookSecretArn": "x:slack-webhook-AbC123"},
    "resources": [{"id": "s00001", "outcome": "stopped", "warnings": 1}],
}


def test_what_a_later_tree_adds_is_set_aside_and_named(tmp_path: Path) -> None:
    """A parameter and a counter added since the base are not behaviour; the same outcome,
    the same warnings and the same timeline (but for its parameter line) are."""
    head = json.loads(json.dumps(BASE_SUMMARY))
    head["parameters"]["PolicyParameterName"] = ""
    head["parameters"]["SlackWebhookSecretArn"] = "x:slack-webhook-ZzZ999"  # random suffix
    head["resources"][0]["kept"] = 0
    base = _kept(tmp_path / "base", BASE_SUMMARY, "# week (GlueIdleMinutes=30)\n10:00 stop\n")
    other = _kept(tmp_path / "head", head, "# week (GlueIdleMinutes=30 Policy=)\n10:00 stop\n")
    added: set[str] = set()
    assert side_by_side._same_but_added("summary_sha256", base, other, added)
    assert side_by_side._same_but_added("timeline_sha256", base, other, added)
    assert added == {"parameters.PolicyParameterName", "resources.[].kept"}


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["resources"][0].update(outcome="gone"),  # a different outcome
        lambda s: s["resources"][0].pop("warnings"),  # a field the base reported, gone
        lambda s: s["resources"].append({"id": "s00002"}),  # one resource more
    ],
)
def test_a_different_behaviour_is_still_a_difference(
    tmp_path: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    head = json.loads(json.dumps(BASE_SUMMARY))
    change(head)
    base = _kept(tmp_path / "base", BASE_SUMMARY, "# w\n10:00 stop\n")
    other = _kept(tmp_path / "head", head, "# w\n10:05 stop\n")
    assert not side_by_side._same_but_added("summary_sha256", base, other, set())
    assert not side_by_side._same_but_added("timeline_sha256", base, other, set())


def test_lines_of_one_instant_may_come_in_either_order_but_not_move_in_time(tmp_path: Path) -> None:
    """Two threads report what happens at 19:40:02 in whichever order they ran; a line at
    another time is another behaviour."""
    lines = ["19:40:02 s1 start event delivered", "19:40:02 s1 EXEMPT"]
    first = "# w\n03-06 " + "\n03-06 ".join(lines) + "\n03-06 19:40:22 s1 READY\n"
    swapped = "# w\n03-06 " + "\n03-06 ".join(reversed(lines)) + "\n03-06 19:40:22 s1 READY\n"
    moved = "# w\n03-06 " + "\n03-06 ".join(lines) + "\n03-06 19:40:23 s1 READY\n"
    base = _kept(tmp_path / "base", BASE_SUMMARY, first)
    assert side_by_side._same_but_added(
        "timeline_sha256", base, _kept(tmp_path / "swapped", BASE_SUMMARY, swapped), set()
    )
    assert not side_by_side._same_but_added(
        "timeline_sha256", base, _kept(tmp_path / "moved", BASE_SUMMARY, moved), set()
    )
