"""Properties of the verdict over every input hypothesis can build: what decide() may never do
(stop while busy, inside the allowance or unwarned), what it must do (stop once all of those are
past), where it looks next, and that no figure it reports is negative.

The expected deadline is worked out here from what each generated tag *means* (a keep-until
value is generated together with the moment it names), not by asking policy.py, so a tag read
wrongly shows up as a broken property. Tag values are hostile: AWS allows up to 256 Unicode
letters, digits, spaces and `_ . : / = + - @` in a value (the restrictions common to services:
https://docs.amazonaws.cn/en_us/batch/latest/userguide/tag-restrictions.md, and the Tag `Value`
pattern `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$` of
https://docs.aws.amazon.com/de_de/servicequotas/2019-06-24/apireference/API_Tag.html); EC2 allows
more, so values outside that set are generated too.

Every property runs a fixed 300 examples, derandomized: the same examples on every machine, so
`make test` stays quick and a failure is the same failure in CI and at a desk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from idle_reaper.policy import DEFAULT_EXEMPT_TAG, IDLE_MINUTES_TAG, KEEP_UNTIL_TAG, Policy
from idle_reaper.resource import Observation, Phase
from idle_reaper.times import ceil_seconds, to_iso
from idle_reaper.verdict import Verdict, decide, warning_key

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)
"""Bounded and deterministic: 300 examples a property, the same ones on every run."""

KIND = "glue-session"
BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Every generated moment is an offset from here."""
ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-8, minutes=-30))]
"""boto3 hands back aware datetimes in whatever zone the answer used."""
PADDING = st.sampled_from(["", " ", "\t", "\n", "\u3000"])
"""Whitespace str.strip() removes, so a padded value means what it says."""
STOPS = {"stopped", "would-stop"}


# -- the meaning of the generated inputs, worked out without decide() or policy.py --------------
def tag_minutes(raw: str | None, policy: Policy) -> int:
    """The rule an idle-minutes tag follows: 1 to 6 ASCII digits once stripped, at least 1,
    capped at MaxIdleMinutes; anything else keeps the kind's default."""
    default = policy.idle_minutes[KIND]
    text = "" if raw is None else raw.strip()
    if not (1 <= len(text) <= 6 and text.isascii() and text.isdigit()) or int(text) < 1:
        return default
    return min(int(text), policy.max_idle_minutes)


@dataclass(frozen=True)
class Expected:
    """What the policy says about one case."""

    exempt: bool
    """The exact exempt tag with `true` (any case, whitespace around it aside), or unwatchable
    without a running cap."""
    signal_says_idle: bool
    """Readable and not busy (always, under a running cap)."""
    signal_reached: bool
    """The signal has reported up to the deadline (always, when it reports live or under a
    running cap): a SageMaker heartbeat before the deadline leaves the work since unseen."""
    minutes: int
    """The allowance: the idle-minutes tag's, the kind's default, or the running cap."""
    lead: timedelta
    idle_since: datetime
    deadline: datetime
    kept_until: datetime | None

    @property
    def allowance(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def key(self) -> str:
        """The warning this idle period (and the keep-until that set its deadline) needs."""
        kept = to_iso(self.kept_until) if self.kept_until else None
        return warning_key(to_iso(self.idle_since), kept)


def expect(seen: Observation, policy: Policy, now: datetime, keep: datetime | None) -> Expected:
    """The policy, restated: `keep` is the moment the keep-until tag names (None when it names
    none), known from how the tag was generated."""
    # unwatchable with a running cap: idle from the start, whatever it is doing
    capped = seen.unwatchable is not None and seen.running_cap_minutes is not None
    exempt_tag = seen.tags.get(policy.exempt_tag_key, "").strip().lower() == "true"
    if capped and seen.running_cap_minutes is not None:
        minutes = seen.running_cap_minutes
        idle_since = seen.started_at or now
    else:
        minutes = tag_minutes(seen.tags.get(IDLE_MINUTES_TAG), policy)
        idle_since = seen.last_activity_at or seen.started_at or now
    deadline = ceil_seconds(idle_since + timedelta(minutes=minutes))
    kept_until = None
    if keep is not None:
        keep = min(keep, idle_since + timedelta(minutes=policy.max_idle_minutes))
        if keep > deadline:
            deadline = kept_until = ceil_seconds(keep)
    return Expected(
        exempt=exempt_tag or (seen.unwatchable is not None and not capped),
        signal_says_idle=capped or (seen.unreadable is None and not seen.busy),
        signal_reached=capped or seen.reported_until is None or seen.reported_until >= deadline,
        minutes=minutes,
        lead=timedelta(minutes=max(0, min(policy.warning_minutes, minutes - 1))),
        idle_since=idle_since,
        deadline=deadline,
        kept_until=kept_until,
    )


@dataclass(frozen=True)
class Case:
    seen: Observation
    policy: Policy
    now: datetime
    warned_since: str | None
    keep: datetime | None
    """The moment the keep-until tag names, by construction."""

    @property
    def expected(self) -> Expected:
        return expect(self.seen, self.policy, self.now, self.keep)

    def verdict(self) -> Verdict:
        return decide(KIND, self.seen, self.policy, self.now, self.warned_since)

    def at(self, now: datetime) -> Case:
        return replace(self, now=now)


def may_stop(case: Case) -> bool:
    """Everything the policy asks before a stop: billing, not exempt, idle on a readable signal
    (or under a running cap), past the deadline and the signal's lag, and warned for this very
    idle period unless there is no warning to give."""
    want = case.expected
    return (
        case.seen.phase == "billing"
        and not want.exempt
        and want.signal_says_idle
        and want.signal_reached
        and case.now >= want.deadline + case.seen.signal_lag
        and (not want.lead or case.warned_since == want.key)
    )


def stops(verdict: Verdict) -> bool:
    return verdict.action == "stop" or verdict.outcome in STOPS


def due(case: Case, late: timedelta) -> Case:
    """The same case made stoppable, looked at `late` after the stop is due, warned."""
    ready = stoppable(case)
    past = ready.at(ready.expected.deadline + ready.seen.signal_lag + late)
    return replace(past, warned_since=past.expected.key)


def stoppable(case: Case) -> Case:
    """The same case with everything but time and warnings out of the way: billing, readable,
    idle (a running cap stays, busy or not: it has no signal), without the exact exempt tag,
    and with a start, so the allowance does not begin at `now` (the near-miss exempt tags, the
    idle-minutes and keep-until tags stay)."""
    seen = replace(
        case.seen, phase="billing", unreadable=None, started_at=case.seen.started_at or BASE
    )
    tags = {k: v for k, v in seen.tags.items() if k != case.policy.exempt_tag_key}
    seen = replace(seen, tags=tags)
    if seen.unwatchable is None or seen.running_cap_minutes is None:
        seen = replace(seen, unwatchable=None, busy=False)
    if seen.reported_until is not None:  # a heartbeat right at the deadline
        seen = replace(seen, reported_until=expect(seen, case.policy, case.now, case.keep).deadline)
    return replace(case, seen=seen)


# -- strategies -----------------------------------------------------------------------------------
def moments(minutes: int = 3 * 1440) -> st.SearchStrategy[datetime]:
    """A moment around BASE: whole minutes, or to the microsecond, in some zone."""
    offset = st.one_of(
        st.integers(-minutes, minutes).map(lambda m: timedelta(minutes=m)),
        st.timedeltas(min_value=timedelta(minutes=-minutes), max_value=timedelta(minutes=minutes)),
    )
    return st.builds(lambda d, zone: (BASE + d).astimezone(zone), offset, st.sampled_from(ZONES))


JITTER = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 999_999).map(lambda us: timedelta(microseconds=-us)),
    st.integers(1, 999_999).map(lambda us: timedelta(microseconds=us)),
    st.integers(-120, 120).map(lambda s: timedelta(seconds=s)),
    st.integers(-3 * 1440, 3 * 1440).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
)
"""How far `now` falls from a moment that matters: on it, under a second before or after it
(`now` is rarely a whole second in Lambda), a few seconds either side, or anywhere."""

IDLE_MINUTES_VALUES = st.one_of(
    st.integers(-5, 10**7).map(str),
    st.builds(lambda a, n, b: f"{a}{n}{b}", PADDING, st.integers(0, 5000), PADDING),
    st.sampled_from(
        [
            *("", " ", "1_0", "+5", "-1", "0", "000030", "0000030", "10.0", "1e3", "0x10"),
            *("\u0663", "\uff11\uff10", "\u00b9", "10 min", "\x0010", "30\x00", "9" * 300),
        ]
    ),
    st.text(max_size=12),
)
"""What people and scripts put in idle-reaper:idle-minutes: numbers, padded numbers, near
misses (`1_0` and `+5` that int() would take, Arabic-Indic and full-width digits), junk."""


NAMES_NO_TIME = st.one_of(
    st.sampled_from(
        [
            "tomorrow",
            "",
            "2026-03-02T11:00:00",  # no offset: whose 11:00?
            "2026-03-02_11:00:00Z",
            "2026-03-02tt11:00:00z",
            "2026-03-02T11:00:00+0100",
            "2026-03-02T11:00:00.1234567890Z",
            "2026-02-30T11:00:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T11:00:00+24:00",
            "0000-03-02T11:00:00Z",
            "\uff12\uff10\uff12\uff16-03-02T11:00:00Z",
            "2026-03-02T11:00:00Z\x00",
            "9" * 300,
        ]
    ),
    st.text(st.characters(exclude_categories=["Nd"]), max_size=40),
)
"""Keep-until values that name no time: no offset, another separator than RFC 3339's `T`, `t`
or space, an offset without its colon, ten fraction digits, days and hours that do not exist,
full-width digits, a NUL."""
KEEP_SHAPES = st.sampled_from(
    ["Z", "minutes", "offset", "tenths", "-00:00", "micro", "lower", "space", "nanos"]
)
"""RFC 3339's spellings (section 5.6 and its NOTEs: lower-case `t` and `z`, a space for `T`,
any number of fraction digits, of which the microseconds count) and ISO 8601's `hh:mm`."""
KEEP_ZONES = st.sampled_from([timezone(timedelta(minutes=m)) for m in (60, -480, 345, 840, -720)])


@st.composite
def keep_until_values(draw: st.DrawFn) -> tuple[str, datetime | None]:
    """An idle-reaper:keep-until value and the moment it names (None: it names none)."""
    if draw(st.integers(0, 3)) == 0:  # one in four names no time at all
        return draw(NAMES_NO_TIME), None
    moment = BASE + timedelta(minutes=draw(st.integers(-3 * 1440, 6 * 1440)))
    shape = draw(KEEP_SHAPES)
    if shape in ("tenths", "micro", "nanos"):
        moment += timedelta(seconds=draw(st.integers(0, 59)))
    if shape == "Z":
        text = f"{moment:%Y-%m-%dT%H:%M:%S}Z"
    elif shape == "lower":
        text = f"{moment:%Y-%m-%dt%H:%M:%S}z"
    elif shape == "space":
        text = moment.astimezone(draw(KEEP_ZONES)).isoformat(sep=" ")
    elif shape == "nanos":
        nanos = draw(st.integers(0, 999_999_999))
        moment += timedelta(microseconds=nanos // 1000)  # the digits past the sixth are cut
        text = f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"
    elif shape == "minutes":
        text = f"{moment:%Y-%m-%dT%H:%M}Z"
    elif shape == "offset":
        text = moment.astimezone(draw(KEEP_ZONES)).isoformat()
    elif shape == "tenths":
        tenths = draw(st.integers(0, 9))
        moment += timedelta(microseconds=tenths * 100_000)
        text = f"{moment:%Y-%m-%dT%H:%M:%S}.{tenths}Z"
    elif shape == "-00:00":
        text = f"{moment:%Y-%m-%dT%H:%M:%S}-00:00"
    else:
        moment += timedelta(microseconds=draw(st.integers(1, 999_999)))
        text = moment.isoformat()
    return f"{draw(PADDING)}{text}{draw(PADDING)}", moment


KEEP_UNTIL_VALUES = keep_until_values()


def exempt_tags(key: str) -> st.SearchStrategy[tuple[str, str]]:
    """The exempt tag, and the near misses people write instead."""
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in key)
    keys = st.sampled_from([key, key, key.title(), key.upper(), f"{key} ", f" {key}", fullwidth])
    values = st.one_of(
        st.sampled_from(
            ["true", "TRUE", "True", "tRuE", "true ", " true", "yes", "1", "", "false"]
        ),
        st.sampled_from(["\uff54\uff52\uff55\uff45", "true\x00"]),
        st.text(max_size=8),
    )
    return st.tuples(keys, values)


EXEMPT_KEYS = (DEFAULT_EXEMPT_TAG, "team:keep-alive")
EXEMPT_TAGS = {key: exempt_tags(key) for key in EXEMPT_KEYS}
POLICIES = st.builds(
    Policy,
    idle_minutes=st.fixed_dictionaries({KIND: st.integers(1, 1440)}),
    warning_minutes=st.one_of(st.sampled_from([0, 1, 5]), st.integers(0, 120)),
    dry_run=st.booleans(),
    exempt_tag_key=st.sampled_from([EXEMPT_KEYS[0], *EXEMPT_KEYS]),
    max_idle_minutes=st.integers(1, 2880),
)
OTHER_TAGS = st.dictionaries(
    st.text("abcXYZ 0123_.:/=+-@\u00e9\x00", min_size=1, max_size=12),
    st.text(max_size=12),
    max_size=2,
)
"""Tags of no meaning to the reaper; no key can spell one that has ("i" is not in it)."""


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about one time in n: a middle value of the range, since hypothesis favours a
    range's ends (its "simplest" and its boundaries) over its middle."""
    return st.integers(0, n - 1).map(lambda i: i == n // 2)


NOT_BILLING: list[Phase] = ["starting", "ended", "missing"]
OTHER_PHASES = st.sampled_from(NOT_BILLING)
STATUSES = st.sampled_from(["READY", "PROVISIONING", "STOPPED", "InService", ""])
MAYBE_MOMENT = st.none() | moments()
PRICES = st.none() | st.just(0.0) | st.floats(0, 1000, allow_nan=False, allow_infinity=False)
MAYBE_MINUTES = st.none() | st.integers(1, 10_000)
LAGS = st.sampled_from([timedelta(0), timedelta(minutes=2), timedelta(minutes=5)])
"""No lag (Glue), SageMaker's heartbeat lag or EC2's five-minute metric lag."""
WARNED_SINCE_TEXT = st.none() | st.text(max_size=30)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """One look at one resource: every phase, busy or not, any times, hostile tags, unknown
    prices, unwatchable with or without a running cap, and `now` often right on (or a moment
    either side of) a moment that decides something."""
    policy = draw(POLICIES)
    tags = draw(OTHER_TAGS)
    if draw(st.booleans()):
        tags[IDLE_MINUTES_TAG] = draw(IDLE_MINUTES_VALUES)
    keep = None
    if draw(st.booleans()):
        tags[KEEP_UNTIL_TAG], keep = draw(KEEP_UNTIL_VALUES)
    if draw(st.integers(0, 3)) == 0:
        key, value = draw(EXEMPT_TAGS[policy.exempt_tag_key])
        tags[key] = value
    seen = Observation(
        phase=draw(OTHER_PHASES) if draw(one_in(3)) else "billing",
        status=draw(STATUSES),
        started_at=draw(MAYBE_MOMENT),
        last_activity_at=draw(MAYBE_MOMENT),
        busy=draw(one_in(4)),
        tags=tags,
        cost_per_hour=draw(PRICES),
        own_idle_timeout_minutes=draw(MAYBE_MINUTES),
        unwatchable="no activity signal" if draw(one_in(8)) else None,
        running_cap_minutes=draw(MAYBE_MINUTES),
        unreadable="the activity signal is late" if draw(one_in(8)) else None,
        recheck_minutes=draw(st.integers(-5, 60)),
        signal_lag=draw(LAGS),
    )
    # `now` near a moment that decides something (worked out before `now` is known: a resource
    # with neither time is idle from `now`, and then any anchor will do)
    rough = expect(seen, policy, BASE, keep)
    if draw(one_in(3)):  # a signal that reports up to a heartbeat, near the deadline
        seen = replace(seen, reported_until=(rough.deadline + draw(JITTER)).astimezone(UTC))
    stop_look = rough.deadline + seen.signal_lag
    anchors = (
        stop_look,  # at either end: the ends are what hypothesis draws most
        rough.deadline - rough.lead,
        rough.deadline,
        rough.idle_since,
        (seen.started_at or BASE) + rough.allowance - rough.lead,
        BASE,
        stop_look,
    )
    now = (anchors[draw(st.integers(0, len(anchors) - 1))] + draw(JITTER)).astimezone(UTC)
    want = expect(seen, policy, now, keep)
    keys = (
        None,  # never warned (or the warning was not delivered)
        want.key,
        warning_key(to_iso(want.idle_since)),  # before a keep-until moved the deadline
        want.key,
        warning_key(to_iso(want.idle_since + timedelta(minutes=1))),  # another idle period
        want.key,
    )
    pick = draw(st.integers(0, len(keys)))
    warned_since = keys[pick] if pick < len(keys) else draw(WARNED_SINCE_TEXT)
    return Case(seen=seen, policy=policy, now=now, warned_since=warned_since, keep=keep)


# -- the next-check counterexample, as hypothesis shrank it --------------------------------------
JUST_BEFORE_THE_DEADLINE = Case(
    seen=Observation(phase="billing", status="READY", last_activity_at=BASE, cost_per_hour=None),
    policy=Policy(idle_minutes={KIND: 1}, warning_minutes=0, max_idle_minutes=1),
    now=BASE + timedelta(seconds=59, microseconds=999_999),
    warned_since=None,
    keep=None,
)
"""Idle since 09:00 with a one-minute allowance and no warning, looked at 09:00:59.999999: the
deadline is 09:01:00 and the verdict waits until 09:01:01."""


# -- never stop ---------------------------------------------------------------------------------
@PROPERTY
@given(cases())
def test_stops_exactly_when_the_policy_allows(case: Case) -> None:
    """Stop (or a dry run's would-stop) if and only if every condition holds: never while busy,
    inside the allowance or unwarned; always once they are all past."""
    verdict = case.verdict()
    assert stops(verdict) == may_stop(case), verdict
    assert verdict == case.verdict()  # pure: the same look gives the same answer
    if stops(verdict):
        want = case.expected
        wanted = ("done", "would-stop") if case.policy.dry_run else ("stop", "stopped")
        assert (verdict.action, verdict.outcome) == wanted
        assert (verdict.deadline, verdict.idle_since) == (want.deadline, want.idle_since)
        assert verdict.next_check_at is None


@PROPERTY
@given(cases(), st.sampled_from(["busy", "unreadable", "behind"]))
def test_never_stops_while_work_runs_or_the_signal_cannot_be_read(case: Case, why: str) -> None:
    """Whatever else is true (long past any deadline, warned, dry run or not), and no warning
    either; nor on a signal that has reported only up to a moment before the deadline. A
    running cap is the one designed exception: with no signal to read, it stops on running
    time alone (test_always_stops_a_warned_idle_resource_past_its_deadline)."""
    seen = replace(case.seen, unwatchable=None)
    if why == "behind":
        deadline = expect(seen, case.policy, case.now, case.keep).deadline
        seen = replace(seen, reported_until=deadline - timedelta(microseconds=1))
        if case.now >= deadline - expect(seen, case.policy, case.now, case.keep).lead:
            case = replace(case, warned_since=expect(seen, case.policy, case.now, case.keep).key)
        verdict = replace(case, seen=seen).verdict()
        assert not stops(verdict), verdict
        return
    seen = replace(seen, busy=True) if why == "busy" else replace(seen, unreadable="it is late")
    verdict = replace(case, seen=seen).verdict()
    assert verdict.action in ("wait", "done"), verdict
    assert not stops(verdict), verdict


@PROPERTY
@given(cases(), st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3)))
def test_never_stops_before_the_deadline_and_the_signals_lag(case: Case, early: timedelta) -> None:
    """Even when everything else allows it (idle, warned): the deadline counts idle-minutes tags
    and keep-until, and the look that stops waits for a lagging signal to report up to it."""
    ready = stoppable(case)
    want = ready.expected
    before = ready.at(want.deadline + ready.seen.signal_lag - early)
    before = replace(before, warned_since=want.key)
    assert before.expected == want
    verdict = before.verdict()
    assert not stops(verdict), verdict
    assert verdict.action == "wait", verdict  # warned already: it waits for the deadline


@PROPERTY
@given(cases(), st.one_of(st.none(), st.text(max_size=30)))
def test_never_stops_before_a_warning_for_this_idle_period(case: Case, other: str | None) -> None:
    """With warnings on, an idle resource at or past its deadline is warned, never stopped, until
    a warning for this very idle period (and the keep-until that set its deadline) was delivered:
    none, a warning for an earlier period or for the deadline before a keep moved it, does not
    count."""
    policy = replace(case.policy, warning_minutes=max(1, case.policy.warning_minutes))
    ready = stoppable(replace(case, policy=policy))
    want = ready.expected
    if want.lead == timedelta(0) or other == want.key:  # a one-minute allowance has no warning
        return
    unwarned = [other, warning_key(to_iso(want.idle_since - timedelta(minutes=1)))]
    if want.kept_until is not None:  # warned for the deadline the keep-until then moved
        unwarned.append(warning_key(to_iso(want.idle_since)))
    for warned_since in unwarned:
        verdict = replace(ready, warned_since=warned_since).verdict()
        assert not stops(verdict), verdict
        if ready.now >= want.deadline - want.lead:
            assert verdict.action == "warn", verdict


# -- always stop --------------------------------------------------------------------------------
@PROPERTY
@given(cases(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_always_stops_a_warned_idle_resource_past_its_deadline(case: Case, late: timedelta) -> None:
    """Billing, not exempt, idle on a readable signal (or under a running cap, busy or not), at or
    after the deadline plus the signal's lag, and warned for this idle period (or no warning to
    give): stopped, or `would-stop` in a dry run, with the deadline it was due at."""
    warned = due(case, late)
    assert may_stop(warned)
    verdict = warned.verdict()
    wanted = ("done", "would-stop") if case.policy.dry_run else ("stop", "stopped")
    assert (verdict.action, verdict.outcome) == wanted, verdict
    assert verdict.deadline == warned.expected.deadline


@PROPERTY
@given(
    cases(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    st.sampled_from(["exempt", "unwatchable", *NOT_BILLING]),
    st.sampled_from(["true", "TRUE", "True"]),
)
def test_never_stops_what_is_exempt_gone_or_still_starting(
    case: Case, late: timedelta, why: str, true: str
) -> None:
    """A resource that would be stopped, but for one thing: tagged exempt (the exact key, `true`
    in any case), unwatchable with no running cap, still starting, or already ended or gone."""
    ready = due(case, late)
    seen = ready.seen
    if why == "exempt":
        seen = replace(seen, tags={**seen.tags, ready.policy.exempt_tag_key: true})
    elif why == "unwatchable":
        seen = replace(seen, unwatchable="no activity signal", running_cap_minutes=None)
    else:
        seen = replace(seen, phase=next(phase for phase in NOT_BILLING if phase == why))
    verdict = replace(ready, seen=seen).verdict()
    assert not stops(verdict), verdict
    wanted = {"exempt": "exempt", "unwatchable": "exempt", "ended": "gone", "missing": "gone"}
    assert verdict.outcome == wanted.get(why), verdict


# -- the deadline and the next look ---------------------------------------------------------------
@PROPERTY
@given(cases())
def test_the_deadline_counts_the_tags_and_a_late_first_look_gets_the_full_warning(
    case: Case,
) -> None:
    """Every deadline a verdict names is the allowance's end (idle-minutes tag, keep-until capped
    at MaxIdleMinutes of idleness), except a warning first given at or past it: that one moves
    the stop a full warning later, never earlier than the allowance's end."""
    verdict = case.verdict()
    want = case.expected
    if verdict.deadline is None:
        return
    assert verdict.idle_since == want.idle_since
    assert verdict.kept_until == want.kept_until
    if verdict.action == "warn" and case.now >= want.deadline:
        assert verdict.deadline == ceil_seconds(case.now + want.lead) > want.deadline
    else:
        assert verdict.deadline == want.deadline
    assert verdict.idle_minutes == want.minutes


@PROPERTY
@given(cases())
def test_next_check_is_a_whole_second_in_the_future(case: Case) -> None:
    """Every wait and warning names its next look, in whole seconds (the Wait state's precision)
    and after `now` (no tight loop); a stop or an end names none."""
    verdict = case.verdict()
    if verdict.action in ("wait", "warn"):
        assert verdict.next_check_at is not None
        assert verdict.next_check_at > case.now
        assert verdict.next_check_at.microsecond == 0
    else:
        assert verdict.next_check_at is None


@PROPERTY
@given(cases())
def test_next_check_is_never_after_the_deadline_but_for_the_one_second_floor(case: Case) -> None:
    """What the code guarantees today: the next look is never after the deadline plus the signal's
    lag, unless that moment is under a second away and `now` is not a whole second: then the
    floor, ceil(now) + 1 s, puts it up to a second past. From a whole-second `now` (the local
    runtime's clock) it is never after."""
    verdict = case.verdict()
    if verdict.deadline is None or verdict.next_check_at is None:
        return
    stop_due = verdict.deadline + case.seen.signal_lag
    floor = ceil_seconds(case.now) + timedelta(seconds=1)
    assert verdict.next_check_at <= max(stop_due, floor), verdict
    if case.now.microsecond == 0:
        assert verdict.next_check_at <= stop_due, verdict


@PROPERTY
@example(JUST_BEFORE_THE_DEADLINE)
@given(cases())
def test_next_check_is_never_after_the_deadline(case: Case) -> None:
    """The next look is never after the moment the stop is due (the deadline plus the signal's
    lag): a watcher that sleeps past it bills minutes the policy did not allow."""
    verdict = case.verdict()
    if verdict.deadline is None or verdict.next_check_at is None:
        return
    assert verdict.next_check_at <= verdict.deadline + case.seen.signal_lag, verdict


@PROPERTY
@given(cases())
def test_a_busy_resource_is_looked_at_again_before_a_warning_could_be_due(case: Case) -> None:
    """If the work ended right now, the warning would be due one allowance minus the warning lead
    from now: the next look is never later (no warning missed) and at least a minute away."""
    ready = stoppable(case)
    busy = replace(ready, seen=replace(ready.seen, busy=True, unwatchable=None))
    verdict = busy.verdict()
    want = busy.expected
    assert verdict.action == "wait" and verdict.next_check_at is not None
    assert verdict.next_check_at <= ceil_seconds(case.now + want.allowance) - want.lead
    assert verdict.next_check_at >= case.now + timedelta(minutes=1)


# -- money ----------------------------------------------------------------------------------------
@PROPERTY
@given(cases())
def test_cost_and_savings_are_never_negative_and_never_guessed(case: Case) -> None:
    """Cost so far and savings are at least zero; an unknown price gives neither; only a stop
    (or a dry run's would-stop) carries savings."""
    verdict = case.verdict()
    price_known = case.seen.cost_per_hour is not None
    if verdict.outcome != "gone":
        assert (verdict.cost_usd is not None) == price_known, verdict
    if verdict.cost_usd is not None:
        assert verdict.cost_usd >= 0
    if verdict.savings_usd is not None or verdict.idle_minutes_reclaimed is not None:
        assert stops(verdict) and price_known, verdict
        assert verdict.savings_usd is not None and verdict.savings_usd >= 0
        assert verdict.idle_minutes_reclaimed is not None and verdict.idle_minutes_reclaimed >= 0
    if stops(verdict) and price_known:
        assert verdict.savings_usd is not None


# -- hostile keep-until values ------------------------------------------------------------------
def iso_shaped(dates: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`<date>T<hh>:<mm>:00<±hh:mm>`: the shape the keep-until pattern accepts."""
    return st.builds(
        lambda date, hour, minute, sign, zone, zone_minute: (
            f"{date}T{hour:02d}:{minute:02d}:00{sign}{zone:02d}:{zone_minute:02d}"
        ),
        dates,
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from(["+", "-"]),
        st.integers(0, 23),
        st.sampled_from([0, 30, 45]),
    )


ISO_SHAPED = st.one_of(
    iso_shaped(st.sampled_from(["0001-01-01", "9999-12-31"])),
    iso_shaped(
        st.builds(
            lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
            st.integers(1, 9999),
            st.integers(1, 12),
            st.integers(1, 31),
        )
    ),
)
"""Keep-until values of the accepted shape, on the first and last days a datetime can hold and
anywhere between, in any offset up to ±23:45 (all characters an AWS tag value may hold)."""


@PROPERTY
@example("0001-01-01T00:00:00+00:30")  # as hypothesis shrank it
@given(ISO_SHAPED)
def test_any_keep_until_value_gives_a_verdict(value: str) -> None:
    """A keep-until value is the owner's to write: whatever it says, the look gives a verdict."""
    seen = Observation(
        phase="billing", status="READY", last_activity_at=BASE, tags={KEEP_UNTIL_TAG: value}
    )
    verdict = decide(KIND, seen, Policy(idle_minutes={KIND: 30}), BASE)
    assert verdict.deadline is not None
