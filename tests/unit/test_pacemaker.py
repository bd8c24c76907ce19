"""Pacemaker's answers as the suite reads them: crm_mon, the fence history, the SBD header
and the log lines, on output captured from the lab (tests/unit/data/), and the driver
behind the manager seam."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures.managers.base import manager_for
from fixtures.managers.heartbeat.driver import Heartbeat
from fixtures.managers.pacemaker.driver import Pacemaker
from fixtures.managers.pacemaker.parsers import (
    IDS,
    PacemakerError,
    parse_corosync_conf,
    parse_crm_mon,
    parse_fence_history,
    parse_sbd_dump,
)
from tests.unit.test_provision_pacemaker import _corosync, _inventory

DATA = Path(__file__).with_name("data")


def _read(name: str) -> str:
    return (DATA / name).read_text()


def test_crm_mon_at_the_baseline_group_and_promoted_drbd_on_node1():
    st = parse_crm_mon(_read("crm_mon-baseline.xml"))
    assert (st.dc, st.quorate) == ("node1", True)
    assert {n: (s.online, s.standby, s.unclean) for n, s in st.nodes.items()} == {
        "node1": (True, False, False), "node2": (True, False, False)}
    assert st.nodes["node1"].is_dc and st.nodes["node1"].resources_running == 5
    assert st.group_on(IDS["group"]) == "node1"
    assert set(st.group_nodes(IDS["group"])) == {IDS["vip"], IDS["fs"], IDS["smbd"], IDS["vm"]}
    assert st.where(IDS["drbd"], "Promoted") == {"node1"}
    assert st.where(IDS["drbd"], "Unpromoted") == {"node2"}
    assert st.where(IDS["fence"]) == {"node2"}
    assert st.holds_anything("node1") and not st.holds_anything("node2")
    assert st.failures == []


def test_crm_mon_with_node1_stopped_group_on_node2_vm_still_starting():
    st = parse_crm_mon(_read("crm_mon-node1-stopped.xml"))
    assert st.dc == "node2" and not st.nodes["node1"].online
    # the VM was still starting when captured: the group has not fully moved yet
    assert st.group_on(IDS["group"]) is None
    assert {r.role for r in st.resource(IDS["vm"])} == {"Starting"}
    assert all(nodes == {"node2"} for nodes in st.group_nodes(IDS["group"]).values())
    assert st.where(IDS["drbd"], "Promoted") == {"node2"}
    assert st.holds_anything("node2") and not st.holds_anything("node1")


def test_crm_mon_rejects_what_is_not_its_xml():
    with pytest.raises(PacemakerError, match="not XML"):
        parse_crm_mon("crm_mon: Connection to cluster failed: Connection refused")
    with pytest.raises(PacemakerError, match="pacemaker-result"):
        parse_crm_mon("<cib/>")


def test_fence_history_of_the_lab_reboot_of_node2():
    events = parse_fence_history(_read("stonith-history-node2-rebooted.xml"))
    assert len(events) == 1
    e = events[0]
    assert (e.target, e.action, e.state, e.origin, e.delegate) == (
        "node2", "reboot", "success", "node1", "node1")
    assert e.completed == "2026-11-25 18:27:22Z"
    assert e.completed_epoch == datetime(2026, 11, 25, 18, 27, 22,
                                         tzinfo=UTC).timestamp()


def test_fence_history_sorted_oldest_first_and_empty_history():
    xml = """<pacemaker-result api-version="2.25" request="stonith_admin --history *">
      <list name="fencing history" count="2">
        <fence_event action="reboot" target="node1" origin="node2" status="success"
                     delegate="node2" completed="2026-11-25 18:40:00Z"/>
        <fence_event action="off" target="node2" origin="node1" status="failed"
                     delegate="node1" completed="2026-11-25 18:30:00 +01:00"/>
      </list><status code="0" message="OK"/></pacemaker-result>"""
    events = parse_fence_history(xml)
    assert [(e.target, e.state) for e in events] == [("node2", "failed"), ("node1", "success")]
    empty = '<pacemaker-result><list name="fencing history" count="0"/></pacemaker-result>'
    assert parse_fence_history(empty) == []


def test_sbd_dump_of_the_lab_header():
    assert parse_sbd_dump(_read("sbd-dump.txt")) == {
        "watchdog": 10, "allocate": 2, "loop": 1, "msgwait": 20}
    assert parse_sbd_dump("sbd: failed to read header") == {}


def test_corosync_conf_parser_rejects_unbalanced_sections():
    with pytest.raises(PacemakerError, match="not closed"):
        parse_corosync_conf("totem {\n token: 1\n")
    with pytest.raises(PacemakerError, match="without a section"):
        parse_corosync_conf("}\n")
    text, _ = _corosync(_inventory())
    assert parse_corosync_conf(text)["totem"]["transport"] == "knet"


def _lab_log() -> list[str]:
    return _read("pacemaker-log-node2-fenced.txt").splitlines()


def test_driver_patterns_match_the_lab_log_of_a_fenced_peer():
    drv = Pacemaker(_inventory())
    log = _lab_log()

    def first(pattern: str) -> str | None:
        return next((line for line in log if re.search(pattern, line)), None)

    dead = first(drv.dead_pattern("node2"))
    assert dead and "Node node2 state is now lost" in dead
    assert first(drv.dead_pattern("node1")) is None  # the peer named, not any node
    late = first(drv.late_pattern("node2"))
    assert late and "Token has not been received in 7500 ms" in late
    # the warning (75 % of the token) comes before the verdict
    assert log.index(late) < log.index(dead)
    done = first(drv.takeover_pattern())
    assert done and "Result of start operation for vm on node1: ok" in done
    assert first(drv.split_brain_pattern()) is None


def test_manager_for_pacemaker_inventory_is_the_pacemaker_driver():
    drv = manager_for(_inventory())
    assert isinstance(drv, Pacemaker)
    assert drv.name == "pacemaker" and drv.log_path == "/var/log/pacemaker/pacemaker.log"
    assert isinstance(manager_for(_inventory(manager="heartbeat")), Heartbeat)


def test_crm_mons_fence_history_is_read_too():
    """crm_mon's <fence_history> (lab, after the pulled cable) held node1's fence of node2
    that stonith_admin's list lacked; the same parser reads it, oldest first."""
    events = parse_fence_history(_read("crm_mon-fence-history.xml"))
    assert [(e.target, e.origin, e.state) for e in events] == [
        ("node1", "node2", "success"), ("node2", "node1", "success")]
    assert events[1].completed_epoch - events[0].completed_epoch == 365


def test_the_service_found_in_the_cib_is_what_crm_mon_shows_running():
    """The driver hands over what the CIB's graph names (fixtures.managers.pacemaker.cib), not
    the project's ids: at the lab's baseline all of it runs on node1; with node1 stopped the VM
    is still starting on node2, so the service is not yet on any one node."""
    from fixtures.managers.pacemaker.cib import Cib, find_service
    from tests.unit.test_cib import INV, SAMPLE

    members = find_service(Cib.parse(SAMPLE), INV).members
    assert sorted(members) == ["fs", "smbd", "vip", "vm"]
    assert parse_crm_mon(_read("crm_mon-baseline.xml")).runs_on(members) == "node1"
    moving = parse_crm_mon(_read("crm_mon-node1-stopped.xml"))
    assert moving.runs_on(members) is None
    assert all(nodes == {"node2"} for nodes in moving.nodes_of(members).values())
    assert moving.runs_on([]) is None and moving.runs_on(["absent"]) is None


class _ScriptedNode:
    """node1 of the lab as the driver's stop and start talk to it: its CIB, crm_mon
    answering at the baseline until the promotion is banned, then with the service on
    node2; every command recorded."""

    def __init__(self, serving: bool = True):
        self.name = "node1"
        self.commands: list[str] = []
        self.banned = False
        baseline = _read("crm_mon-baseline.xml")
        swapped = (baseline.replace("node1", "@").replace("node2", "node1")
                   .replace("@", "node2"))
        self.before, self.after = (baseline, swapped) if serving else (swapped, swapped)

    def run(self, command: str, timeout: float | None = None, check: bool = False):
        from fixtures.access.node import Result

        self.commands.append(command)
        out = ""
        if command.startswith("cibadmin --query"):
            out = _read("cib-lab.xml")
        elif command.startswith("crm_mon"):
            out = self.after if self.banned else self.before
        elif command.startswith("crm_resource --ban"):
            self.banned = True
        elif command.startswith("drbdadm cstate"):
            out = "WFConnection\n"
        status = 3 if command.startswith("systemctl is-active") else 0
        return Result(command, status, out, "", 0.0)


def test_stop_hands_the_service_over_before_pacemaker_stops_and_start_clears_the_ban():
    """HB-03 on Pacemaker stops the node as an admin takes it out for maintenance: the
    promotion banned there first (the promoted-move transition), pacemaker stopped only
    once the service runs on the peer; start lifts the ban (HB-04's failback)."""
    node = _ScriptedNode()
    drv = Pacemaker(_inventory())
    drv.stop(node)
    ban = next(i for i, c in enumerate(node.commands) if c.startswith("crm_resource --ban"))
    stop = node.commands.index("systemctl stop pacemaker")
    assert "--promoted --resource drbd-clone --node node1" in node.commands[ban]
    assert ban < stop and any(c.startswith("crm_mon") for c in node.commands[ban:stop])
    node.commands.clear()
    drv.start(node)
    assert "crm_resource --clear --resource drbd-clone --quiet" in node.commands


def test_stop_of_a_node_that_does_not_serve_bans_nothing():
    node = _ScriptedNode(serving=False)
    Pacemaker(_inventory()).stop(node)
    assert not any(c.startswith("crm_resource --ban") for c in node.commands)
    assert "systemctl stop pacemaker" in node.commands
