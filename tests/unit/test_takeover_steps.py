"""A takeover's steps as the cluster managers' own logs tell them: Pacemaker's transitions
and their actions (pacemaker.log of both nodes, crm_simulate's graph of the saved input),
Heartbeat's handover resource by resource (ha-log), read after the scenario.

The Pacemaker samples (data/pacemaker-log-hb03-node*.txt) are an HB-03 on the lab's CIB
written from Pacemaker 2.1.5's own formats (lib/common/logging.c; controld_te_actions.c,
controld_execd.c, controld_te_events.c, controld_te_utils.c, controld_transition.c,
execd_commands.c log_finished, pcmk_graph_producer.c and pcmk_graph_consumer.c), noise
between them: node 1, the DC, stops pacemaker; transition 12 stops the group and demotes
DRBD there and is aborted by a promotion score; transition 13 stops DRBD on node 1,
promotes node 2 and starts the group there; node 2, DC once node 1 left, calculates an
empty transition 0. Two lines are missing on purpose: smbd's stop has no executor line,
vm's monitor no result at all. The dot files are crm_simulate --save-dotfile's form
(pcmk_simulate.c) of those two transitions' graphs.

data/pacemaker-log-lab-hb03-node*.txt are the lab's own (Debian 12, Pacemaker 2.1.5, an
HB-03 on 2026-12-07: the group moved off node 1 at 17:13:10, pacemaker stopped there at
17:14:20 and started again at 17:14:40), the lines of that window the node-side filter keeps.
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures.access.evidence import Evidence, TakeoverSteps, Timeline, activate, deactivate
from fixtures.access.inventory import Inventory
from fixtures.access.node import NodeError, Result, quoted
from fixtures.managers import logs
from fixtures.managers.heartbeat.driver import Heartbeat
from fixtures.managers.logs import LogWindow, log_seconds
from fixtures.managers.pacemaker import parsers as pacemaker
from fixtures.managers.pacemaker.driver import Pacemaker
from fixtures.managers.pacemaker.parsers import (
    TRANSITION_LINES,
    PacemakerError,
    interval_ms,
    parse_dot,
    transition_graph,
    transition_steps,
)
from fixtures.scenarios.records import HeartbeatStop
from tests.unit.test_lock import LocalNode

DATA = Path(__file__).parent / "data"
T0 = 1_795_687_200.0  # the fault: pacemaker stopped on node 1 at 10:00:00.000
OFFSET = T0 - log_seconds("Nov 26 10:00:00.000")  # the nodes' clocks read the controller's
PE47 = "/var/lib/pacemaker/pengine/pe-input-47.bz2"
PE48 = "/var/lib/pacemaker/pengine/pe-input-48.bz2"


def _lines(node: str) -> list[str]:
    return (DATA / f"pacemaker-log-hb03-{node}.txt").read_text().splitlines()


def _windows(nodes=("node1", "node2"), keep=lambda line: True) -> list[LogWindow]:
    return [LogWindow(n, [line for line in _lines(n) if keep(line)], OFFSET) for n in nodes]


def _graphs() -> dict[tuple[str, str], pacemaker.Graph]:
    return {("node1", pe): parse_dot((DATA / f"crm_simulate-hb03-{Path(pe).stem}.dot")
                                     .read_text()) for pe in (PE47, PE48)}


def _action(steps, what: str, node: str) -> pacemaker.Action:
    [found] = [a for a in steps.actions if a.describe() == what and a.node == node]
    return found


def _at(t: float | None) -> float | None:
    return None if t is None else round(t - T0, 3)


# -- the parser ---------------------------------------------------------------------------


def test_both_transitions_of_the_handover_with_their_actions_and_executor_figures():
    steps = transition_steps(_windows(), T0 - 1, T0 + 20)
    assert [(t.dc, t.number, t.outcome) for t in steps.transitions] == [
        ("node1", 12, "Stopped"), ("node1", 13, "Complete"), ("node2", 0, "Complete")]
    aborted = steps.transitions[0]
    assert aborted.aborted == "Transient attribute change" and aborted.pe_input == PE47
    # node 2's transition 0 ran nothing: no scheduler input to draw again
    assert steps.pe_inputs == [("node1", PE47), ("node1", PE48)]
    assert len(steps.actions) == 28 and all(a.transition.dc == "node1" for a in steps.actions)
    vip = _action(steps, "start vip", "node2")
    assert (vip.transition.number, vip.id, vip.result) == (13, 36, "ok")
    assert [_at(t) for t in (vip.initiated, vip.queued, vip.started, vip.finished,
                             vip.confirmed)] == [12.362, 12.365, 12.37, 12.62, 12.642]
    assert (vip.queue_ms, vip.exec_ms) == (5, 250)
    # the executor's "3s" and "1.310s" read as Pacemaker writes them
    assert _action(steps, "stop vm", "node1").exec_ms == 3000
    assert _action(steps, "start smbd", "node2").exec_ms == 1310


def test_a_notification_is_matched_through_the_dcs_confirmation_of_its_call():
    """The executor names a notification drbd_notify_0, the graph drbd_pre_notify_demote_0:
    the DC's confirmation names the call, and without it the resource does."""
    steps = transition_steps(_windows(), T0 - 1, T0 + 20)
    pre = _action(steps, "notify drbd (pre demote)", "node2")
    assert (pre.key, pre.exec_ms, _at(pre.finished), _at(pre.confirmed)) == (
        "drbd_pre_notify_demote_0", 41, 5.77, 5.79)
    unconfirmed = [line for line in _lines("node1") if "process_graph_event" not in line]
    alone = transition_steps([LogWindow("node1", unconfirmed, OFFSET),
                              LogWindow("node2", _lines("node2"), OFFSET)], T0 - 1, T0 + 20)
    pre = _action(alone, "notify drbd (pre demote)", "node2")
    assert (pre.exec_ms, _at(pre.done), pre.confirmed) == (41, 5.77, None)


def test_missing_lines_are_said_never_filled_in():
    steps = transition_steps(_windows(), T0 - 1, T0 + 20)
    smbd = _action(steps, "stop smbd", "node1")  # no executor line: its Result still says
    assert (smbd.exec_ms, smbd.started, _at(smbd.finished), smbd.result) == (
        None, None, 4.876, "ok")
    assert smbd.detail() == "execd's times not logged; ok"
    vm = _action(steps, "monitor vm every 30s", "node2")
    assert (vm.done, vm.detail()) == (None, "no result in the lines read")
    assert steps.problems == [
        "monitor vm every 30s on node2 (transition 13): initiated, no result in the lines read"]


def test_without_the_graph_each_action_follows_the_one_finished_last_before_it():
    """The fence device's move finished just before vm's stop was initiated: without the
    graph it passes for vm's predecessor."""
    steps = transition_steps(_windows(), T0 - 1, T0 + 20)
    assert steps.method.startswith("approximate (no transition graph)")
    assert [f"{a.describe()} {a.node}" for a in steps.critical] == [
        "stop fence-sbd node1", "start fence-sbd node2", "stop vm node1", "stop smbd node1",
        "stop fs node1", "notify drbd (pre demote) node2", "demote drbd node1",
        "notify drbd (post demote) node2", "notify drbd (pre stop) node2", "stop drbd node1",
        "notify drbd (post stop) node2", "notify drbd (pre promote) node2",
        "promote drbd node2", "notify drbd (post promote) node2", "start fs node2",
        "start smbd node2", "start vm node2", "start vip node2"]


def test_with_the_graph_each_action_follows_what_it_was_ordered_after():
    """The graph orders vm's stop after vip's, not after the fence device (a dashed edge,
    an ordering the transition does not keep, says otherwise and is not followed); the
    first action of transition 13 follows transition 12's last."""
    graphs = _graphs()
    drawn = graphs[("node1", PE47)].nodes  # in the transition: bold; instance numbers out
    assert "drbd_promote_0 node2" in drawn and "vip_monitor_20000 node1" not in drawn
    steps = transition_steps(_windows(), T0 - 1, T0 + 20, graphs)
    path = [f"{a.describe()} {a.node}" for a in steps.critical]
    assert path[:3] == ["stop vip node1", "stop vm node1", "stop smbd node1"]
    assert "start fence-sbd node2" not in path
    assert path[path.index("notify drbd (post demote) node2") + 1] == (
        "notify drbd (pre stop) node2")
    assert path[-1] == "start vip node2"
    assert steps.method.startswith("the transition graph's ordering (crm_simulate on "
                                   "pe-input-47.bz2, pe-input-48.bz2)")


def _lab(node: str) -> LogWindow:
    return LogWindow(node, (DATA / f"pacemaker-log-lab-hb03-{node}.txt").read_text()
                     .splitlines())


def test_the_labs_own_handover_reads_whole():
    """The lab's pacemaker.log: every action of the move has its result, the executor's
    figures where it logs them, and a systemd resource (smbd), whose end execd does not
    log, its execution from execd's "executing" line to its result."""
    t0 = log_seconds("Dec 07 17:13:10.000")
    steps = transition_steps([_lab("node1"), _lab("node2")], t0 - 1,
                             log_seconds("Dec 07 17:14:40.000"))
    assert [(t.dc, t.number, t.outcome) for t in steps.transitions] == [
        ("node1", 5, "Complete"), ("node1", 6, "Stopped"), ("node1", 7, "Complete"),
        ("node2", 0, "Complete"), ("node2", 1, "Complete")]
    assert steps.transitions[1].aborted == "Transient attribute change"
    assert len(steps.actions) == 30 and steps.problems == []
    vm = _action(steps, "start vm", "node2")
    assert (vm.exec_ms, vm.queue_ms, round(vm.done - vm.initiated, 3)) == (16807, 7, 17.752)
    smbd = _action(steps, "start smbd", "node2")
    assert (smbd.exec_ms, round(smbd.finished - smbd.started, 3)) == (None, 7.076)
    assert smbd.detail().startswith("exec 7.076 s by the stamps, execd's figures not logged")
    path = [f"{a.describe()} {a.node}" for a in steps.critical]
    assert path[:5] == ["stop vip node1", "stop vm node1", "stop smbd node1", "stop fs node1",
                        "demote drbd node1"]
    handed = path.index("start vip node2")
    assert path[handed - 5:handed + 1] == [
        "promote drbd node2", "notify drbd (post promote) node2", "start fs node2",
        "start smbd node2", "start vm node2", "start vip node2"]
    # node 1's own shutdown comes after: transition 6 waited for all of transition 5
    assert path[handed + 1:] == ["monitor vip every 20s node2", "notify drbd (pre stop) node2",
                                 "stop drbd node1", "notify drbd (post stop) node2"]


def test_the_lines_kept_on_the_node_are_all_the_parser_needs():
    """The node-side filter (grep -E TRANSITION_LINES) drops the noise, not a step."""
    keep = re.compile(TRANSITION_LINES).search
    full = transition_steps(_windows(), T0 - 1, T0 + 20)
    kept = transition_steps(_windows(keep=keep), T0 - 1, T0 + 20)
    assert kept.table(T0) == full.table(T0)
    dropped = [line for line in _lines("node1") + _lines("node2") if not keep(line)]
    assert any("cib_perform_op" in line for line in dropped)
    assert any("corosync" in line for line in dropped)


def test_the_dcs_log_alone_still_tells_when_each_action_was_done():
    """Node 2's log unread: its actions end at the DC's confirmation, without the
    executor's figures."""
    steps = transition_steps(_windows(("node1",)), T0 - 1, T0 + 20)
    vip = _action(steps, "start vip", "node2")
    assert (_at(vip.done), vip.exec_ms, vip.finished) == (12.642, None, None)
    assert steps.critical[-1] is vip


def test_the_window_keeps_the_transitions_calculated_in_it():
    only_13 = transition_steps(_windows(), T0 + 1, T0 + 20)
    assert [t.number for t in only_13.transitions] == [13, 0]
    only_12 = transition_steps(_windows(), T0 - 1, T0 + 6)
    assert [t.number for t in only_12.transitions] == [12]
    assert {a.transition.number for a in only_12.actions} == {12}


def _line(t: str, node: str, daemon: str, level: str, msg: str) -> str:
    return f"Nov 26 10:00:{t} {node} {daemon:<20}[900] (fn) \t{level}: {msg}"


def test_a_fence_is_an_action_the_starts_wait_for():
    """HB-05 on Pacemaker: node 2, the DC, fences node 1, then starts the group."""
    dc = [
        _line("20.000", "node2", "pacemaker-schedulerd", "warning", "Calculated transition 3 "
              "(with warnings), saving inputs in /var/lib/pacemaker/pengine/pe-warn-7.bz2"),
        _line("20.010", "node2", "pacemaker-controld", "notice", "Requesting fencing (reboot) "
              "of node node1 | action=2 timeout=60000 priority_delay=15"),
        _line("41.500", "node2", "pacemaker-controld", "info",
              "Fence operation 5 for node1 succeeded"),
        _line("41.510", "node2", "pacemaker-controld", "notice", "Peer node1 was terminated "
              "(reboot) by node2 on behalf of pacemaker-controld.900: OK | event=f2"),
        _line("41.520", "node2", "pacemaker-controld", "notice",
              "Initiating start operation drbd:1_start_0 locally on node2 | action 7"),
        _line("42.020", "node2", "pacemaker-execd", "info", "drbd start (call 12, PID 77) "
              "exited with status 0 (execution time 480ms after being queued 12ms)"),
        _line("42.030", "node2", "pacemaker-controld", "notice", "Result of start operation "
              "for drbd on node2: ok | CIB update 9, graph action confirmed; call=12 "
              "key=drbd_start_0 rc=0"),
    ]
    steps = transition_steps([LogWindow("node2", dc)])
    fence, drbd = steps.actions
    assert (fence.describe(), fence.name, fence.result) == (
        "fence node1 (reboot)", "stonith 'reboot' node1", "succeeded")
    assert round(fence.done - fence.initiated, 3) == 21.49
    # a clone instance's number is not the executor's: drbd:1_start_0 is drbd_start_0
    assert (drbd.key, drbd.exec_ms, drbd.queue_ms) == ("drbd_start_0", 480, 12)
    assert [a.describe() for a in steps.critical] == ["fence node1 (reboot)", "start drbd"]
    graph = parse_dot(' digraph "g" {\n'
                      '"stonith \'reboot\' node1" [ style=bold color="green" fontcolor="black"]\n'
                      '"drbd:1_start_0 node2" [ style=bold color="green" fontcolor="black"]\n'
                      '"stonith \'reboot\' node1" -> "drbd:1_start_0 node2" [ style = bold]\n}')
    assert graph.waits_for(drbd.name, {fence.name, drbd.name}) == {fence.name}


def test_a_restarted_executor_counts_its_calls_again():
    """The first end of a call after the initiation is its end, not an older one."""
    dc = [
        _line("00.000", "node1", "pacemaker-schedulerd", "notice", "Calculated transition 1"),
        _line("05.000", "node1", "pacemaker-controld", "notice",
              "Initiating start operation vip_start_0 on node2 | action 4"),
    ]
    peer = [
        _line("01.000", "node2", "pacemaker-execd", "info",
              "vip stop (call 7, PID 3) exited with status 0 (execution time 90ms)"),
        _line("06.000", "node2", "pacemaker-execd", "info",
              "vip start (call 7, PID 9) exited with status 0 (execution time 1.250s)"),
        _line("06.010", "node2", "pacemaker-controld", "notice", "Result of start operation "
              "for vip on node2: ok | CIB update 3, graph action confirmed; call=7 "
              "key=vip_start_0 rc=0"),
    ]
    [vip] = transition_steps([LogWindow("node2", peer), LogWindow("node1", dc)]).actions
    assert (vip.exec_ms, round(vip.finished - vip.initiated, 3)) == (1250, 1.0)


def test_the_executor_line_with_a_reason_or_without_execution():
    windows = [LogWindow("node1", [
        _line("00.000", "node1", "pacemaker-schedulerd", "notice", "Calculated transition 2"),
        _line("00.100", "node1", "pacemaker-controld", "notice",
              "Initiating start operation fs_start_0 locally on node1 | action 3"),
        _line("02.100", "node1", "pacemaker-execd", "info", "fs start (call 4, PID 5) exited "
              "with status 1 (Couldn't mount device (/dev/drbd0)) (execution time 2s)"),
        _line("02.110", "node1", "pacemaker-controld", "notice", "Result of start operation "
              "for fs on node1: error (Couldn't mount device) | CIB update 5, graph action "
              "confirmed; call=4 key=fs_start_0 rc=1"),
    ])]
    [fs] = transition_steps(windows).actions
    assert (fs.exec_ms, fs.result) == (2000, "error (Couldn't mount device)")
    assert pacemaker._EXECUTED.match("vm start (call 9) could not be executed: Timed Out "
                                     "(execution time 2m500ms)")["exec"] == "2m500ms"
    assert interval_ms("2m500ms") == 120500 and interval_ms("1h") == 3_600_000


def test_a_transition_graph_is_drawn_only_from_a_scheduler_input():
    node = SimpleNamespace(name="node1", commands=[])

    def run(command, *args, timeout=None):
        node.commands.append((quoted(command, *args), timeout))
        return Result(command, 0, (DATA / "crm_simulate-hb03-pe-input-48.dot").read_text(), "",
                      0.1)

    node.run = run
    graph = transition_graph(node, PE48)
    assert {"vip_start_0 node2", "ha-group_start_0"} <= graph.nodes
    assert graph.waits_for("fs_start_0 node2", {"drbd_promote_0 node2", "fs_start_0 node2",
                                                "drbd_post_notify_promote_0 node2"}) == {
        "drbd_promote_0 node2", "drbd_post_notify_promote_0 node2"}  # through pseudo ones
    [(command, timeout)] = node.commands
    assert f"crm_simulate --xml-file {PE48} --save-dotfile" in command and timeout == 60
    with pytest.raises(PacemakerError, match="not a scheduler input file"):
        transition_graph(node, "/etc/shadow; reboot")
    with pytest.raises(PacemakerError, match="not a crm_simulate dot graph"):
        parse_dot("crm_simulate: no such file")


# -- reading the logs after the scenario (managers/logs.py, on a local shell) ------------


def test_a_log_window_is_what_the_log_gained_since_its_mark(tmp_path):
    log = tmp_path / "pacemaker.log"
    log.write_text("old 1\nold 2\n")
    node = LocalNode(name="node1")
    mark = logs.mark(node, str(log))
    with log.open("a") as f:
        f.write("Nov 26 10:00:00.245 node1 Calculated transition 12\nnoise\n"
                "Nov 26 10:00:01.000 node1 Initiating start operation\n")
    window = logs.read(node, str(log), mark, TRANSITION_LINES)
    assert mark == 2 and window.note == ""
    assert window.lines == ["Nov 26 10:00:00.245 node1 Calculated transition 12",
                            "Nov 26 10:00:01.000 node1 Initiating start operation"]
    # this host's clock read as the node's: its offset maps a stamp of now to now
    offset, read_at = logs.clock(node)
    stamp = log_seconds(time.strftime("%b %d %H:%M:%S", time.localtime(read_at)))
    assert abs(stamp + offset - read_at) < 2
    log.write_text("Nov 26 10:00:02.000 node1 Calculated transition 13\n")  # rotated
    rotated = logs.read(node, str(log), mark, TRANSITION_LINES)
    assert rotated.lines == ["Nov 26 10:00:02.000 node1 Calculated transition 13"]
    assert "rotated" in rotated.note
    assert logs.mark(node, str(tmp_path / "absent.log")) == 0
    with pytest.raises(NodeError, match="could not be read"):
        logs.read(node, str(tmp_path / "absent.log"), 0, TRANSITION_LINES)


def test_a_window_keeps_the_lines_stamped_between_two_instants():
    w = LogWindow("node2", ["2026/11/26_08:13:41  x: Acquiring resource group",
                            "a continuation without a stamp",
                            "Nov 26 08:13:50 node2 heartbeat: after"], offset=0.0)
    t = log_seconds("Nov 26 08:13:41")
    assert w.between(t, t + 5) == w.lines[:2]
    assert log_seconds("Feb 30 10:00:00") is None and log_seconds("no stamp") is None


class LogNode:
    """A node whose log and clock answer from text (the real commands, quoted)."""

    def __init__(self, name: str, lines: list[str], now: str = "Nov 26 10:00:30.000000000",
                 dots: dict[str, str] | None = None, silent: bool = False):
        self.name, self.lines, self.now, self.silent = name, lines, now, silent
        self.dots = dots or {}
        self.commands: list[str] = []

    def run(self, command: str, *args, timeout: float | None = None, **kw) -> Result:
        command = quoted(command, *args)
        self.commands.append(command)
        assert timeout is not None, command  # every remote command has its time limit
        if self.silent:
            return Result(command, None, "", "", timeout, error=f"{self.name}: timed out")
        if command.startswith("wc -l"):
            return Result(command, 0, "0\n", "", 0.01)
        if "date" in command:
            return Result(command, 0, self.now + "\n", "", 0.01)
        if "crm_simulate" in command:
            dot = next((d for path, d in self.dots.items() if path in command), None)
            if dot is None:
                return Result(command, 1, "", "crm_simulate: input file not found", 0.5)
            return Result(command, 0, dot, "", 0.5)
        # the node-side filter, as grep -E would apply the command's own pattern
        pattern = re.compile(shlex.split(re.search(r"grep -aE -- ('[^']*'|\S+)", command)[1])[0])
        return Result(command, 0, "".join(f"{line}\n" for line in self.lines
                                          if pattern.search(line)), "", 0.2)


def _inventory(manager: str) -> Inventory:
    return Inventory.model_validate({
        "cluster": "lab", "cluster_manager": manager,
        "nodes": [{"name": "node1", "address": "192.168.1.1", "ssh": {"key": "/k"}},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {"key": "/k"}}]})


def _clock(monkeypatch, now: float) -> None:
    """The controller's clock, as logs.clock reads it around the node's."""
    monkeypatch.setattr(logs, "time", SimpleNamespace(time=lambda: now))


def test_the_pacemaker_driver_reads_both_logs_and_the_graphs_on_the_dc(monkeypatch):
    """t0 is 10:00:00 on both nodes' clocks, read at 10:00:30; pe-input-47 is gone."""
    _clock(monkeypatch, T0 + 30)
    dot48 = (DATA / "crm_simulate-hb03-pe-input-48.dot").read_text()
    n1 = LogNode("node1", _lines("node1"), dots={PE48: dot48})
    n2 = LogNode("node2", _lines("node2"))
    steps = Pacemaker(_inventory("pacemaker")).takeover_steps(
        [n1, n2], {"node1": 0, "node2": 0}, T0, T0 + 20, "node1", "node2")
    assert steps.unavailable == "" and steps.manager == "pacemaker"
    assert [c for c in n1.commands if "crm_simulate" in c] and not [
        c for c in n2.commands if "crm_simulate" in c]  # the graph is drawn on its DC
    # pe-input-47 could not be drawn again: said, and that transition approximated
    assert f"crm_simulate on {PE47}: crm_simulate: input file not found" in steps.source
    assert "graphs: crm_simulate on node1:pe-input-48.bz2" in steps.source
    assert "monitor vm every 30s on node2 (transition 13): initiated" in steps.source
    assert steps.method.startswith("the transition graph's ordering (crm_simulate on "
                                   "pe-input-48.bz2)")
    rows = {(s.what, s.node): s for s in steps.steps}
    assert rows[("transition 12: Stopped (aborted: Transient attribute change)", "node1")].at \
        == 0.245
    vip = rows[("start vip", "node2")]
    assert (vip.at, vip.seconds, vip.critical) == (12.362, 0.28, True)
    assert vip.detail == ("queued +12.365, started +12.370, finished +12.620 (queue 5 ms, "
                          "exec 0.250 s); ok")
    assert steps.steps[0].what.startswith("transition 12") and not any(
        s.what.startswith("transition 0") for s in steps.steps)  # nothing ran in it
    assert steps.summary.endswith("start vip (node2); the last was done at t0+12.6s")


def test_the_pacemaker_driver_says_why_there_are_no_steps(monkeypatch):
    _clock(monkeypatch, T0 + 30)
    silent = [LogNode("node1", [], silent=True), LogNode("node2", _lines("node2"))]
    steps = Pacemaker(_inventory("pacemaker")).takeover_steps(
        silent, {}, T0, T0 + 20, "node1", "node2")
    assert steps.steps == [] and steps.unavailable.startswith("not available: node1: its "
                                                              "clock could not be read")
    assert "no transition with an action was calculated from the fault to t0+20s" in (
        steps.unavailable)


HB = DATA / "ha-log-heartbeat-stop-node1.txt", DATA / "ha-log-heartbeat-stop-node2.txt"
HB_T0 = 1_795_680_791.0  # 08:13:11 on the nodes' clocks (read at 08:14:41)


def test_the_heartbeat_driver_times_the_handover_from_the_fault(monkeypatch):
    _clock(monkeypatch, HB_T0 + 90)
    nodes = [LogNode(n, p.read_text().splitlines(), now="Nov 26 08:14:41.000000000")
             for n, p in zip(("node1", "node2"), HB, strict=True)]
    steps = Heartbeat(_inventory("heartbeat")).takeover_steps(
        nodes, {"node1": 0, "node2": 0}, HB_T0, HB_T0 + 90, "node1", "node2")
    assert steps.unavailable == "" and steps.method.startswith("sequential")
    first, last = steps.steps[0], steps.steps[-1]
    # "Heartbeat shutdown in progress" is stamped 08:13:12, a second after the fault
    assert (first.what, first.node, first.at, first.seconds) == (
        "release: before the first stop", "node1", 1.0, 3)
    assert (last.what, last.node, last.at, last.seconds) == ("acquire: IPaddr2", "node2", 59.0,
                                                             8)
    assert all(s.critical for s in steps.steps) and steps.summary == (
        "15 steps, 66 s from t0+1.0s to t0+67.0s")
    # node 1 never said it relinquished everything
    nodes[0].lines = nodes[0].lines[:10]
    cut = Heartbeat(_inventory("heartbeat")).takeover_steps(
        nodes, {}, HB_T0, HB_T0 + 90, "node1", "node2")
    assert cut.steps == [] and cut.unavailable == (
        "not available: the ha-log lines from the fault to t0+90s lack node1's release "
        "(shutdown in progress ... all resources relinquished) and node2's acquisition")


def test_the_heartbeat_driver_reads_a_takeover_after_a_hard_failure(monkeypatch):
    """mach_down's last word ends it, nice_failback or not."""
    _clock(monkeypatch, HB_T0 + 90)
    taken = [line for line in HB[1].read_text().splitlines()
             if "foreign resources acquired" not in line] + [
        "Nov 26 08:14:18 node2 heartbeat: [1067]: info: mach_down takeover complete for node "
        "node1."]
    nodes = [LogNode("node1", [], now="Nov 26 08:14:41.000000000"),
             LogNode("node2", taken, now="Nov 26 08:14:41.000000000")]
    steps = Heartbeat(_inventory("heartbeat")).takeover_steps(
        nodes, {}, HB_T0, HB_T0 + 90, None, "node2")
    assert [s.what for s in steps.steps][:2] == ["acquire: before the first start",
                                                 "acquire: drbddisk"]
    assert steps.steps[0].at == 30.0 and {s.node for s in steps.steps} == {"node2"}


# -- the scenario's evidence ---------------------------------------------------------------


def test_a_scenario_reads_its_takeover_steps_after_its_body_even_when_it_failed(monkeypatch):
    from fixtures.scenarios import engine

    calls = []

    class Manager:
        name = "pacemaker"

        def takeover_steps(self, cluster, marks, t0, until, releasing, acquiring):
            calls.append((marks, t0, until, releasing, acquiring))
            if len(calls) > 1:
                raise NodeError("node2: connection lost")
            return TakeoverSteps("pacemaker", summary="critical path, 2 actions")

    run = SimpleNamespace(manager=Manager(), cluster=[])
    sc = HeartbeatStop(Timeline("heartbeat-stop", T0))
    sc.t0, sc.log_marks = T0, {"node1": 10, "node2": 4}
    engine.Run.read_steps(run, sc, T0 + 50, "node1", "node2")
    assert calls == [({"node1": 10, "node2": 4}, T0, T0 + 50, "node1", "node2")]
    assert sc.takeover.scenario == "heartbeat-stop" and sc.takeover.summary
    engine.Run.read_steps(run, sc, T0 + 50, "node1", "node2")
    assert sc.takeover.unavailable == "not available: node2: connection lost"
    ev = Evidence()
    token = activate(ev)
    try:
        sc.require()
        sc.require()
    finally:
        deactivate(token)
    assert ev.steps == [sc.takeover]  # every test asserting on the scenario, once
    assert "steps" not in sc.summary() and "log_marks" not in sc.summary()


def test_the_takeover_scenarios_name_their_window():
    from fixtures.scenarios.registry import SCENARIOS

    cluster = SimpleNamespace(node1=SimpleNamespace(name="node1"),
                              node2=SimpleNamespace(name="node2"))
    run = SimpleNamespace(cluster=cluster)
    sc = HeartbeatStop(Timeline("heartbeat-stop", T0), manager_start=T0 + 80)
    assert SCENARIOS["heartbeat_stop"].takeover(run, sc) == (T0 + 80, "node1", "node2")
    power = SCENARIOS["power_off"].record(Timeline("power-off", T0), power_on=T0 + 90)
    assert SCENARIOS["power_off"].takeover(run, power) == (T0 + 90, None, "node2")
    cut = SCENARIOS["link_cut"].record(Timeline("link-cut", T0))  # the cable never back
    until, releasing, acquiring = SCENARIOS["link_cut"].takeover(run, cut)
    assert until > T0 and (releasing, acquiring) == (None, "node2")
    assert SCENARIOS["role_flip"].takeover(run, sc) is None


def test_no_record_shadows_the_takeover_steps_field():
    """A record's own field named like the base's takeover steps replaced them with
    something else (the role flip's own steps once did, and the report failed to write)."""
    import dataclasses

    from fixtures.scenarios import records

    kinds = [c for c in vars(records).values()
             if isinstance(c, type) and issubclass(c, records.Record)]
    assert len(kinds) > 5
    for kind in kinds:
        field = next(f for f in dataclasses.fields(kind) if f.name == "takeover")
        assert field.type == "TakeoverSteps | None", kind
