"""The scenario layer without a cluster: the registry and its deadlines, faults paired
with their undo, the restore undoing what was injected, the probes' context manager,
and the cluster-manager seam."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures import faults
from fixtures.access.evidence import Timeline
from fixtures.access.fault_hooks import DISK, HOOKS, POWER
from fixtures.access.inventory import Inventory
from fixtures.access.node import NodeError
from fixtures.faults import baseline
from fixtures.managers.base import manager_for
from fixtures.managers.heartbeat.driver import Heartbeat
from fixtures.plugin import _scenario_deadlines
from fixtures.probes import Probe, Probes
from fixtures.scenarios.records import HeartbeatStop, LinkCut, Record
from fixtures.scenarios.registry import SCENARIOS, deadline


def _inventory(scale: float = 1.0, hooks: bool | tuple[str, ...] = True) -> Inventory:
    """A lab-like inventory; node 1 has every hook, none, or the ones named."""
    named = HOOKS if hooks is True else hooks or ()
    return Inventory.model_validate({
        "cluster": "lab", "disposable": True, "budgets": {"scale": scale},
        "nodes": [{"name": "node1", "address": "192.168.1.1", "ssh": {"key": "/k"},
                   "faults": dict.fromkeys(named, "true")},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {"key": "/k"}}]})


def test_the_registry_names_the_scenario_fixtures_with_typed_records():
    assert list(SCENARIOS) == ["role_flip", "disk_failure", "heartbeat_stop", "power_off",
                               "link_cut", "lone_boot"]
    for spec in SCENARIOS.values():
        assert issubclass(spec.record, Record) and spec.record.name
        assert spec.record.__doc__  # the fixture's documentation


def test_each_record_names_its_own_instants_as_actions_and_recoveries():
    for spec in SCENARIOS.values():
        fields = {f.name for f in dataclasses.fields(spec.record)}
        assert "t0" in spec.record.actions and spec.record.recoveries, spec.record.name
        assert set(spec.record.actions) | set(spec.record.recoveries) <= fields


def test_a_cluster_wait_runs_from_the_latest_action_before_its_recovery():
    """SMB served again is timed from the fault without fencing, from the cable put back
    with it (node 2 was reset and waited alone meanwhile: the suite's observation)."""
    t0 = 1_795_642_427.0
    cut = LinkCut(Timeline("link-cut", t0), t0=t0)
    cut.node2_serves, cut.smb_served_again = t0 + 60, t0 + 62
    cut.link_up, cut.drbd_healthy_again = t0 + 70, t0 + 75
    assert [(w.name, w.started - t0, w.seconds) for w in cut.waits(t0 - 5, t0 + 80)] == [
        ("fault → node2 serves", 0.0, 60.0), ("fault → SMB served again", 0.0, 62.0),
        ("link up → DRBD UpToDate on both", 70.0, 5.0)]
    race = LinkCut(Timeline("link-cut", t0), t0=t0)
    race.node2_down, race.node2_back = t0 + 20, t0 + 90
    race.link_up, race.smb_served_again, race.node2_rejoined = t0 + 150, t0 + 160, t0 + 170
    assert [(w.name, w.started - t0) for w in race.waits(t0, t0 + 200)] == [
        ("fault → node2 fenced", 0.0), ("fault → node2 answers SSH", 0.0),
        ("link up → SMB served again", 150.0), ("link up → node2 rejoined", 150.0)]
    assert LinkCut(Timeline("link-cut", t0)).waits(t0, t0 + 10) == []  # never injected


def test_the_scenarios_import_without_a_cycle_and_leave_pytest_to_the_plugin():
    root = Path(__file__).resolve().parents[2]
    for first in ("fixtures.probes", "fixtures.scenarios.records", "fixtures.scenarios.registry"):
        subprocess.run([sys.executable, "-c", f"import {first}, fixtures.scenarios.registry"],
                       cwd=root, check=True, timeout=60)
    # a scenario that may not run says why (NotRun); only the plugin turns that into a skip
    for module in (root / "fixtures" / "scenarios").glob("*.py"):
        assert "import pytest" not in module.read_text(), module.name


def test_deadlines_come_from_the_budgets():
    slow, fast = _inventory(scale=5.0), _inventory()
    for name, spec in SCENARIOS.items():
        assert spec.deadline(slow) > spec.deadline(fast) > 0, name
    # on a lab five times slower the pulled plug may take longer than the old hand-set 1500 s
    assert SCENARIOS["power_off"].deadline(slow) > 1500
    both = deadline(["inventory", "power_off", "link_cut"], fast)
    assert both == SCENARIOS["power_off"].deadline(fast) + SCENARIOS["link_cut"].deadline(fast)
    assert deadline(["cluster", "inventory"], fast) == 0


def test_the_lone_boot_needs_fencing_and_both_nodes_power_hooks():
    hb = _inventory()
    assert SCENARIOS["lone_boot"].applicable(hb) == "heartbeat has no quorum or fencing"
    pcmk = hb.model_copy(update={"cluster_manager": "pacemaker"})
    assert SCENARIOS["lone_boot"].applicable(pcmk) == (
        "the inventory has no `power_off` or `power_on` hook for node2")
    both = pcmk.model_copy(update={"nodes": (pcmk.nodes[0], pcmk.nodes[1].model_copy(
        update={"faults": pcmk.nodes[0].faults}))})
    assert SCENARIOS["lone_boot"].applicable(both) == ""


def test_a_fenced_failover_allows_for_token_consensus_delay_and_msgwait():
    from fixtures.managers.base import manager_for
    hb = _inventory()
    pcmk = hb.model_copy(update={"cluster_manager": "pacemaker"})
    assert manager_for(hb).failover_allowance() == hb.heartbeat.deadtime
    # 10 s token + 12 s consensus + 15 s priority-fencing-delay + 20 s msgwait
    assert manager_for(pcmk).failover_allowance() == 57
    assert manager_for(pcmk).detection_floor()[0] == 10
    assert SCENARIOS["power_off"].deadline(pcmk) > SCENARIOS["power_off"].deadline(hb)


def test_the_managers_stop_and_start_limits_are_their_drivers():
    hb = _inventory()
    pcmk = hb.model_copy(update={"cluster_manager": "pacemaker"})
    assert (manager_for(hb).start_s, manager_for(pcmk).start_s) == (35, 180)
    # the role flip stops and starts the manager twice, the restore four times at most
    longer = 6 * (manager_for(pcmk).start_s - manager_for(hb).start_s)
    assert SCENARIOS["role_flip"].deadline(pcmk) - SCENARIOS["role_flip"].deadline(hb) == longer


def test_a_test_using_a_scenario_gets_the_default_limit_plus_its_deadline():
    inv = _inventory()

    class Item(SimpleNamespace):
        def add_marker(self, mark) -> None:
            self.marks.append(mark)

    uses, reads = Item(fixturenames=["power_off"], marks=[]), Item(fixturenames=["cluster"],
                                                                  marks=[])
    config = SimpleNamespace(getoption=lambda name, default=None: None,
                             getini=lambda name: "600")
    _scenario_deadlines(config, [uses, reads], inv)
    [mark] = uses.marks
    assert mark.name == "timeout"
    assert mark.args == (round(600 + SCENARIOS["power_off"].deadline(inv)),)
    assert reads.marks == []


def test_applicable_is_decided_from_the_inventory_hooks():
    assert SCENARIOS["power_off"].applicable(_inventory()) == ""
    assert SCENARIOS["power_off"].applicable(_inventory(hooks=False)) == (
        "the inventory has no `power_off` or `power_on` hook for node1")
    assert SCENARIOS["heartbeat_stop"].applicable(_inventory(hooks=False)) == ""


def test_the_disk_failure_runs_only_where_the_inventory_fails_a_disk():
    assert SCENARIOS["disk_failure"].applicable(_inventory()) == ""
    fail, restore = DISK.hooks
    assert SCENARIOS["disk_failure"].applicable(_inventory(hooks=False)) == (
        f"the inventory has no `{fail}` or `{restore}` hook for node1")
    # a site (Vagrant) that cannot fail a disk but can pull the plug
    power_only = _inventory(hooks=POWER.hooks)
    assert SCENARIOS["disk_failure"].applicable(power_only) == (
        f"the inventory has no `{fail}` or `{restore}` hook for node1")
    assert SCENARIOS["power_off"].applicable(power_only) == ""


def test_the_disk_failure_waits_for_the_resync_budget():
    from fixtures.scenarios.disk_failure import detach_wait

    inv = _inventory()
    longer = inv.model_copy(update={"budgets": inv.budgets.model_copy(update={"resync": 500})})
    spec = SCENARIOS["disk_failure"]
    # the scenario's own wait for the resync, and the restore's, each grow with the budget
    assert spec.deadline(longer) - spec.deadline(inv) == 2 * (500 - inv.budgets.resync)
    assert detach_wait(_inventory(scale=3.0)) == 3 * detach_wait(inv)


class Recorded(faults.Fault):
    name = "recorded"

    def __init__(self, node, log: list[str], fail_undo: bool = False):
        super().__init__(node)
        self.log, self.fail_undo = log, fail_undo

    def _inject(self) -> float:
        self.log.append(f"inject {self.node.name}")
        return 1.0

    def _undo(self) -> float:
        self.log.append(f"undo {self.node.name}")
        if self.fail_undo:
            raise NodeError(f"{self.node.name}: hook failed")
        return 2.0


def test_a_fault_pairs_inject_and_undo_and_the_restore_undoes_what_is_still_injected():
    log: list[str] = []
    n1, n2, n3 = (SimpleNamespace(name=f"node{i}") for i in (1, 2, 3))
    a, b, c = Recorded(n1, log), Recorded(n2, log, fail_undo=True), Recorded(n3, log)
    for fault in (a, b, c):
        assert fault.inject() == 1.0 and fault.active
    assert c.undo() == 2.0 and not c.active  # the scenario undid it itself
    messages: list[str] = []
    undone = baseline._undo([a, b, c], messages.append)
    assert log == ["inject node1", "inject node2", "inject node3", "undo node3",
                   "undo node2", "undo node1"]  # last injected first, each once
    assert undone == {"node1"} and b.active  # a failed undo is left to the fallbacks
    assert "restore: node2: hook failed" in messages


class Tracer(Probe):
    key = "tracer"
    fail = False

    def start(self) -> None:
        self.record.notes.append(f"start {type(self).__name__}")
        if self.fail:
            raise RuntimeError("probe broke")

    def stop(self) -> None:
        self.record.notes.append(f"stop {type(self).__name__}")


class First(Tracer):
    pass


class Second(Tracer):
    fail = True


def test_probes_start_in_order_stop_last_first_and_a_failed_start_stops_the_others():
    sc = HeartbeatStop(Timeline("t", 0.0))
    with Probes(None, sc, kinds=(First, First)):
        sc.notes.append("fault")
    assert sc.notes == ["start First", "start First", "fault", "stop First", "stop First"]
    sc.notes.clear()
    with pytest.raises(RuntimeError), Probes(None, sc, kinds=(First, Second)):
        pass
    assert sc.notes == ["start First", "start Second", "stop First"]


def test_every_manager_operation_is_each_drivers_own():
    from fixtures.managers.base import ClusterManager
    from fixtures.managers.pacemaker.driver import Pacemaker

    abstract = ClusterManager.__abstractmethods__
    assert {"status", "fence_history", "detection_floor", "failover_allowance", "problems",
            "tidy", "start", "stop"} <= abstract
    # no default on either side: only who holds the group is read alike for both
    shared = {name for name, value in vars(ClusterManager).items()
              if callable(value) and not name.startswith("_")} - abstract
    assert shared == {"holdings", "holders"}
    for driver in (Heartbeat, Pacemaker):
        assert abstract <= set(vars(driver)), driver.name
        assert driver.stop_s > 0 and driver.start_s > 0
    hb = manager_for(_inventory())
    assert hb.status(None) is None and hb.fence_history(None) == []  # no quorum, no fencing


def test_the_heartbeat_driver_knows_its_log_lines():
    manager = manager_for(_inventory())
    assert isinstance(manager, Heartbeat) and manager.log_path == "/var/log/ha-log"
    dead = re.compile(manager.dead_pattern("node1"))
    assert dead.search("heartbeat[812]: WARN: node node1: is dead")
    assert dead.search("heartbeat[812]: info: Link node1:eth0 dead.")
    assert not dead.search("heartbeat[812]: WARN: node node2: is dead")
    assert re.search(manager.late_pattern("node1"), "WARN: Late heartbeat: Node node1: "
                                                    "interval 7010 ms")
    # heartbeat logs node names lowered: the article's HAdebian01 (reports of a lab run)
    article = re.compile(manager.dead_pattern("HAdebian01"))
    assert article.search("heartbeat: [358]: WARN: node hadebian01: is dead")
    assert article.search("heartbeat: [358]: info: Link hadebian01:/dev/ttyS1 dead.")
    assert not article.search("heartbeat: [358]: WARN: node hadebian02: is dead")
    assert re.search(manager.late_pattern("HAdebian01"), "Late heartbeat: Node hadebian01")
    assert re.search(manager.takeover_pattern(), "info: mach_down takeover complete.")
    assert re.search(manager.split_brain_pattern(), "ERROR: Both machines own our resources!")


def test_smb02_fails_when_the_bytes_read_back_are_not_the_bytes_written():
    from fixtures.access.evidence import Evidence, activate, deactivate
    from fixtures.resources.samba import WriterReport
    from suites import test_samba as smb_suite  # the control's own assertion

    inv = _inventory()
    sc = HeartbeatStop(Timeline("heartbeat-stop", 0.0), writer=WriterReport())
    sc.smb_before.written = sc.smb_before.read_back = b"before stop\n"
    sc.smb_during.written, sc.smb_during.read_back = b"node2 tenure\n", b"node2 tenure\n"
    token = activate(Evidence())
    try:
        smb_suite._files_survive(sc, inv)  # intact: passes
        sc.smb_during.read_back = b"node2 tenurX\n"
        with pytest.raises(AssertionError, match=r"smb-during-stop.txt reads b'node2 tenurX"):
            smb_suite._files_survive(sc, inv)
        sc.smb_during.read_back = b""  # an empty file passed the old isinstance check
        with pytest.raises(AssertionError, match="differs"):
            smb_suite._files_survive(sc, inv)
    finally:
        deactivate(token)


def test_a_test_using_a_scenario_gets_its_timeline_and_summary_as_evidence():
    """The why behind a slow figure: every test that reads a scenario carries its
    timeline (fault, probes, log lines) and its one-line summary, once each."""
    from fixtures.access.evidence import Evidence, activate, deactivate
    from fixtures.resources.samba import WriterReport

    t0 = 1_795_642_427.0
    timeline = Timeline("heartbeat-stop", t0 - 1)
    timeline.add("fault", "pacemaker stop", "node1", at=t0)
    sc = HeartbeatStop(timeline, writer=WriterReport())
    sc.t0, sc.node2_serves = t0, t0 + 59.5
    ev = Evidence()
    token = activate(ev)
    try:
        sc.require()
        sc.require()  # a second reader in the same test adds nothing twice
    finally:
        deactivate(token)
    assert ev.timelines == [timeline]
    assert len(ev.notes) == 1 and "node2_serves: t0+59.50s" in ev.notes[0]
    sc.error = "node2 never took over"
    token = activate(Evidence())
    try:
        with pytest.raises(AssertionError, match="did not complete: node2 never took over"):
            sc.require()
        assert evidence_of_now().timelines == [timeline]  # failed, yet with its evidence
    finally:
        deactivate(token)


def evidence_of_now():
    from fixtures.access.evidence import current
    return current()


@pytest.mark.parametrize("cs, ds, pds, lost", [
    ("Connected", "Diskless", "UpToDate", True),  # detached after an I/O error (detach)
    ("WFConnection", "Diskless", "DUnknown", True),
    ("Connected", "Inconsistent", "UpToDate", True),  # kept though failed (pass_on)
    ("SyncTarget", "Inconsistent", "UpToDate", False),  # mending by itself
    ("Connected", "UpToDate", "UpToDate", False),
    ("StandAlone", "Diskless", "DUnknown", False),  # down: the manager's stop, or unstarted
    ("StandAlone", "UpToDate", "DUnknown", False),  # split brain: settled elsewhere
])
def test_the_baseline_knows_a_disk_lost_to_an_io_error(cs, ds, pds, lost):
    from fixtures.resources.drbd import DrbdState

    assert baseline._lost_disk(DrbdState(0, cs, "Primary", "Secondary", ds, pds)) is lost
    assert baseline._lost_disk(None) is False


@pytest.mark.parametrize("hooked, undone", [(True, False), (True, True), (False, False)])
def test_the_baseline_gives_a_failed_disk_back_then_attaches_it(monkeypatch, hooked, undone):
    inv = _inventory(hooks=True if hooked else POWER.hooks)
    commands, hooks, log = [], [], []

    def run(command, *args, timeout=None, check=False):
        commands.append(command)
        raise NodeError("node1: exit 10: (114) Device is attached to a disk")  # logged

    node = SimpleNamespace(name="node1", spec=inv.nodes[0], run=run)
    monkeypatch.setattr(faults, "run_hook", lambda n, action: hooks.append(action) or 1.0)
    baseline._reattach(SimpleNamespace(inventory=inv), node, log.append,
                       restore_disk=not undone)
    # the disk back first (unless the scenario's undo did it), then detach and attach
    assert hooks == ([DISK.undo_hook] if hooked and not undone else [])
    assert commands == ["drbdadm detach r0 2>/dev/null; drbdadm attach r0"]
    assert log[-1] == "restore: node1: exit 10: (114) Device is attached to a disk"


def _disk_failure(kept: bool):
    """What the disk-failure scenario records on a cluster that detaches the failed disk,
    or (``kept``) on one that keeps it attached, Inconsistent (on-io-error pass_on)."""
    from fixtures.resources.samba import WriterReport
    from fixtures.scenarios.records import DiskFailure

    t0 = 1_795_642_427.0
    sc = DiskFailure(Timeline("disk-failure", t0), writer=WriterReport(acknowledged={"f": b"1"}))
    sc.t0, sc.last_write, sc.vm_on_node1, sc.console_answers = t0, t0 + 14, True, t0 + 2
    for trip in (sc.smb_before, sc.smb_during):
        trip.written = trip.read_back = b"bytes\n"
    if kept:
        sc.node1_disks = ["UpToDate", "Inconsistent"]
        sc.attach_error = "(114) Device is attached to a disk (use detach first)"
    else:
        sc.node1_disks, sc.detached = ["UpToDate", "Failed", "Diskless"], t0 + 1.5
        sc.attached, sc.resynced = t0 + 16, t0 + 21
    return sc


def test_drbd05_fails_when_node1_keeps_its_failing_disk():
    """The control's own assertions: a detached disk passes; the same run with the failing
    disk kept attached (Inconsistent: DRBD's pass_on) fails, naming what was seen."""
    from fixtures.access.evidence import Evidence, activate, deactivate
    from suites import test_drbd as drbd_suite  # the control's own assertion

    control = drbd_suite.test_node1_detaches_its_failed_disk_and_serves_from_node2s_disk
    inv = _inventory()
    n1, n2 = (SimpleNamespace(name=n.name) for n in inv.nodes)
    token = activate(Evidence())
    try:
        control(_disk_failure(kept=False), n1, n2, inv)
        with pytest.raises(AssertionError, match="node1 did not detach its failing disk: its "
                                                 "DRBD disk was UpToDate/Inconsistent while it "
                                                 "failed, never Diskless"):
            control(_disk_failure(kept=True), n1, n2, inv)
        slow = _disk_failure(kept=False)
        slow.resynced = slow.attached + inv.budgets.scaled.resync + 1
        with pytest.raises(AssertionError, match="DRBD resync after the disk was attached "
                                                 "again 121.0s, budget 120s"):
            control(slow, n1, n2, inv)
    finally:
        deactivate(token)
