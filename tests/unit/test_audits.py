"""The audits that judge a recorded scenario: never-two-owners over the watcher's
feeds, console outage windows, SMB outages, and the figures read off the marks."""

from __future__ import annotations

from types import SimpleNamespace

from fixtures.access.evidence import Evidence, Timeline, activate, deactivate
from fixtures.access.inventory import Inventory
from fixtures.access.timing import wait_for
from fixtures.probes.console import ConsoleObservation, ConsoleReport
from fixtures.probes.watch import ClusterWatcher, Sample, _Feed
from fixtures.resources.hypervisor import ConsoleReading
from fixtures.resources.samba import WriterReport
from fixtures.scenarios.records import FileCopy, HeartbeatStop, LinkCut, SmbRoundTrip
from fixtures.scenarios.registry import SCENARIOS


def _watcher() -> ClusterWatcher:
    inv = Inventory.model_validate({"cluster": "t", "nodes": [
        {"name": "node1", "address": "10.0.0.1", "ssh": {"key": "/k"}},
        {"name": "node2", "address": "10.0.0.2", "ssh": {"key": "/k"}}],
        "network": {"virtual_ip": "10.0.0.3"}})
    nodes = [SimpleNamespace(name="node1"), SimpleNamespace(name="node2")]
    cluster = type("Cluster", (), {"inventory": inv, "__iter__": lambda self: iter(nodes)})()
    return ClusterWatcher(cluster, Timeline("t", 0.0))


def _feed(states: list[tuple[float, str, bool]], offset: float = 1000.0) -> _Feed:
    feed = _Feed()
    for uptime, role, vip in states:
        feed.add(uptime + offset, Sample(uptime, role, "Connected", "UpToDate/UpToDate",
                                         vip, vip, False))
    return feed


def test_a_clean_handover_is_not_two_owners():
    w = _watcher()
    w._feeds["node1"] = [_feed([(0, "Primary", True), (1, "Primary", True),
                                (2, "Secondary", False), (3, "Secondary", False)])]
    w._feeds["node2"] = [_feed([(0, "Secondary", False), (2.25, "Primary", True),
                                (3, "Primary", True)])]
    assert w.violations() == []


def test_both_primary_with_the_vip_for_seconds_is_two_owners():
    w = _watcher()
    w._feeds["node1"] = [_feed([(t, "Primary", True) for t in range(0, 10)])]
    w._feeds["node2"] = [_feed([(0, "Secondary", False)] + [(t, "Primary", True)
                                                           for t in range(3, 10)])]
    found = w.violations()
    assert {v.what for v in found} == {"both nodes held the VIP", "both nodes were DRBD Primary"}
    assert all(v.end - v.start >= 6 for v in found)


def test_a_node_that_was_off_between_two_feeds_held_nothing_meanwhile():
    w = _watcher()
    # node1 Primary, powered off at t=1, back (new feed, new uptime) as Secondary
    w._feeds["node1"] = [_feed([(0, "Primary", True), (1, "Primary", True)]),
                         _feed([(0, "Secondary", False), (5, "Secondary", False)], 1020.0)]
    w._feeds["node2"] = [_feed([(0, "Secondary", False)] + [(t, "Primary", True)
                                                           for t in range(12, 30)])]
    assert w.violations() == []


def test_a_delayed_line_keeps_its_node_time():
    feed = _Feed()
    feed.add(1000.0, Sample(10.0, "Primary", "-", "-", True, True, False))
    feed.add(1040.0, Sample(20.0, "Primary", "-", "-", True, True, False))  # held back 30 s
    samples, _ = feed.stamped()
    assert [s.t for s in samples] == [1000.0, 1010.0]


def test_console_outage_window_and_first_answer_of_a_new_boot():
    obs = [ConsoleObservation(t, ConsoleReading(boot, 0, "x") if boot else None)
           for t, boot in [(0, 3), (1, 3), (2, None), (9, None), (10, 4), (11, 4)]]
    report = ConsoleReport(obs)
    assert report.outage(after=0.5) == (1, 10)
    assert report.first_answer_after(0.5, boot_above=3).t == 10


def test_writer_longest_outage():
    assert WriterReport(outages=[(0, 3), (10, 22.5)]).longest_outage() == 12.5
    assert WriterReport().longest_outage() == 0.0


def test_scenario_figures_are_recorded_even_when_unobserved():
    sc = HeartbeatStop(Timeline("s", 100.0), t0=100.0)
    sc.node2_serves = sc.event(124.0, "node2 serves")
    ev = Evidence()
    token = activate(ev)
    try:
        assert sc.figure("takeover", sc.node2_serves, budget=30) == 24.0
        assert sc.figure("missing", sc.node1_serves_again, budget=30) is None
    finally:
        deactivate(token)
    assert [(m.name, m.value, m.passed) for m in ev.measurements] == [
        ("takeover", 24.0, True), ("missing", None, False)]
    assert [e.what for e in sc.timeline.events] == ["node2 serves"]


def test_an_smb_round_trip_is_intact_only_when_the_bytes_read_are_the_bytes_written():
    trip = SmbRoundTrip("f.txt", written=b"node2 tenure\n", read_back=b"node2 tenure\n")
    assert trip.intact and trip.why() == ""
    assert not SmbRoundTrip("f.txt", written=b"x\n", read_back=b"").intact  # empty read
    altered = SmbRoundTrip("f.txt", written=b"node2 tenure\n", read_back=b"node2 tenurX\n")
    assert not altered.intact and "reads b'node2 tenurX" in altered.why()
    assert not SmbRoundTrip("f.txt", read_back=b"x").intact  # never written
    assert not SmbRoundTrip("f.txt", written=b"x").intact  # never read
    failed = SmbRoundTrip("f.txt", written=b"x", read_back=b"x", error="read failed: gone")
    assert not failed.intact and failed.why() == "f.txt: read failed: gone"
    assert FileCopy("a", "a").intact and not FileCopy("a", None).intact
    assert not FileCopy("", "").intact


def test_a_typo_in_an_observation_is_an_error_not_none():
    sc = LinkCut(Timeline("s", 0.0))
    try:
        sc.drbd_heal_again  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("a misspelt observation read as a value")
    assert sc.summary().startswith("scenario link-cut: node2_declares_dead: None")


def test_timeline_rebase_moves_the_origin_to_the_fault():
    tl = Timeline("s", 100.0)
    tl.add("probe", "before", at=101.0)
    tl.rebase(105.0)
    tl.add("probe", "after", at=107.0)
    assert [e.t for e in tl.events] == [-4.0, 2.0]


def test_wait_for_returns_the_value_or_none_in_time():
    values = iter([None, False, [], "yes"])
    assert wait_for(lambda: next(values), timeout=5, interval=0.01) == "yes"
    assert wait_for(lambda: None, timeout=0.1, interval=0.02) is None


def test_a_lost_baseline_still_judges_recorded_scenarios_but_runs_no_new_fault():
    import pytest

    from fixtures.scenarios.engine import NotRun, Run

    run = Run(_watcher().cluster, log=lambda _msg: None)
    recorded = LinkCut(Timeline("link-cut", 0.0), restore_error="heartbeat hung")
    run.records["link-cut"] = recorded
    run.broken = "baseline could not be restored after scenario link-cut: heartbeat hung"
    assert run.record(SCENARIOS["link_cut"]) is recorded
    with pytest.raises(NotRun, match="^baseline could not be restored"):
        run.record(SCENARIOS["power_off"])
