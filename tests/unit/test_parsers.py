"""Parsers of what the nodes print: /proc/drbd, drbdadm status, heartbeat files,
and the watcher's lines."""

from __future__ import annotations

from pathlib import Path

from fixtures.managers.heartbeat.parsers import handover_steps
from fixtures.probes.watch import LogLine, Sample, _spans, parse_line
from fixtures.resources.drbd import (
    parse_drbdadm_status,
    parse_proc_drbd,
    proc_drbd_version,
    state_of,
)

PROC_SYNCING = """version: 8.4.11 (api:1/proto:86-101)
srcversion: 211FB288A383ED945B83420
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:412672 nr:0 dw:0 dr:414784 al:8 bm:0 lo:0 pe:1 ua:0 ap:0 ep:1 wo:f oos:636064
	[=======>............] sync'ed: 39.5% (636064/1048508)K
	finish: 0:00:15 speed: 41,248 (41,248) K/sec
"""

PROC_SPLIT = """version: 8.4.11 (api:1/proto:86-101)
 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----
    ns:0 nr:0 dw:4 dr:2 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:4
 1: cs:Unconfigured
"""


def test_proc_drbd_during_initial_sync():
    assert proc_drbd_version(PROC_SYNCING) == "8.4.11"
    s = parse_proc_drbd(PROC_SYNCING)[0]
    assert (s.connection, s.role, s.peer_role) == ("SyncSource", "Primary", "Secondary")
    assert (s.disk, s.peer_disk, s.protocol) == ("UpToDate", "Inconsistent", "C")
    assert s.synced_percent == 39.5 and s.speed_kib == 41248
    assert not s.healthy and not s.split_brain


def test_proc_drbd_split_brain_is_standalone():
    states = parse_proc_drbd(PROC_SPLIT)
    assert list(states) == [0]
    assert states[0].split_brain and states[0].peer_disk == "DUnknown"
    assert str(states[0]) == "cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown"


def test_drbdadm_status_connecting_peer():
    text = "r0 role:Secondary\n  disk:UpToDate\n  node2 connection:Connecting\n"
    r0 = parse_drbdadm_status(text)["r0"]
    assert r0.fields["role"] == "Secondary" and list(r0.peers) == ["node2"]
    assert r0.peers["node2"].fields["connection"] == "Connecting"
    assert str(state_of(r0)) == "cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown"


def test_watcher_lines():
    s = parse_line("S 100.25 Secondary WFConnection UpToDate/DUnknown 0 0 0")
    assert isinstance(s, Sample) and s.connection == "WFConnection" and not s.serving
    log = parse_line("L 101.00 heartbeat[812]: 2026/11/24_16:40:27 WARN: node node1: is dead")
    assert isinstance(log, LogLine) and "is dead" in log.text
    assert parse_line("garbage") is None and parse_line("S 1 2 3") is None


def test_spans_of_a_held_role_end_at_the_next_sample():
    samples = []
    for t, role in [(0.0, "Secondary"), (0.25, "Primary"), (0.5, "Primary"), (0.75, "Secondary"),
                    (1.0, "Primary")]:
        s = Sample(t, role, "Connected", "UpToDate/UpToDate", False, False, False)
        s.t = t
        samples.append(s)
    assert _spans(samples, "role") == [(0.25, 0.75), (1.0, 1.25)]


# -- HB-08: one node holds the whole group ------------------------------------------

def _held(**parts_by_node):
    from fixtures.managers.heartbeat.parsers import GROUP_PARTS
    return {node: {p: p in parts for p in GROUP_PARTS} for node, parts in parts_by_node.items()}


ALL = ("VIP", "DRBD Primary", "mount", "smbd", "VM")


def test_the_whole_group_on_the_preferred_node_is_no_problem():
    from fixtures.managers.heartbeat.parsers import group_problems
    assert group_problems(_held(node1=ALL, node2=()), "node1", True) == []
    assert group_problems(_held(node1=(), node2=ALL), "node1", False) == []


def test_a_group_off_its_preferred_node_with_auto_failback_is_named():
    from fixtures.managers.heartbeat.parsers import group_problems
    assert group_problems(_held(node1=(), node2=ALL), "node1", True) == [
        "the group is on node2, not on the preferred node node1 (auto_failback on)"]


def test_what_is_where_is_named_when_the_group_is_not_whole():
    from fixtures.managers.heartbeat.parsers import describe_holdings, group_problems
    both_vip = _held(node1=ALL, node2=("VIP",))
    assert group_problems(both_vip, "node1", True) == ["VIP on both nodes (node1, node2)"]
    assert describe_holdings(both_vip) == (
        "node1 holds VIP, DRBD Primary, mount, smbd, VM; node2 holds VIP")
    no_smbd = _held(node1=("VIP", "DRBD Primary", "mount", "VM"), node2=())
    assert group_problems(no_smbd, "node1", True) == ["smbd on no node"]
    split = _held(node1=("VIP", "smbd"), node2=("DRBD Primary", "mount", "VM"))
    assert group_problems(split, "node1", True) == [
        "the group is split between node1 and node2"]
    silent = {**_held(node1=ALL), "node2": None}
    assert group_problems(silent, "node1", True) == [
        "node2 does not answer: what it holds is unknown"]
    assert describe_holdings(silent).endswith("; node2 does not answer")


def test_proc_drbd_standalone_and_diskless_is_a_resource_brought_down_not_a_split_brain():
    # as Pacemaker leaves node 1 after its start took the resource down (role flip restore)
    text = PROC_SPLIT.replace("ds:UpToDate/DUnknown", "ds:Diskless/DUnknown").replace(
        "ro:Primary/Unknown", "ro:Secondary/Unknown")
    state = parse_proc_drbd(text)[0]
    assert state.down and not state.split_brain
    assert parse_proc_drbd(PROC_SPLIT)[0].down is False


DATA = Path(__file__).parent / "data"


def test_a_heartbeat_stop_handover_splits_into_release_gap_and_acquisition():
    """Lines of the lab's ha-log during HB-03 (2026-11-26, 64.4 s to node 2 serving):
    every resource's step in order, summing to the handover's 66 s in heartbeat's
    whole-second stamps."""
    off = (DATA / "ha-log-heartbeat-stop-node1.txt").read_text().splitlines()
    on = (DATA / "ha-log-heartbeat-stop-node2.txt").read_text().splitlines()
    steps = handover_steps(off, on)
    assert [name for name, _ in steps] == [
        "release: before the first stop", "release: IPaddr2", "release: vmstart",
        "release: libvirtd", "release: samba", "release: Filesystem", "release: drbddisk",
        "handover to node 2", "acquire: before the first start", "acquire: drbddisk",
        "acquire: Filesystem", "acquire: samba", "acquire: libvirtd", "acquire: vmstart",
        "acquire: IPaddr2"]
    assert dict(steps)["release: vmstart"] == 11 and dict(steps)["acquire: vmstart"] == 15
    assert sum(s for _, s in steps) == 66


def test_no_handover_steps_without_both_nodes_marks():
    off = (DATA / "ha-log-heartbeat-stop-node1.txt").read_text().splitlines()
    assert handover_steps(off, []) == []
    assert handover_steps([], off) == []
    assert handover_steps(off[:-4], off) == []  # node 1 never said it relinquished
