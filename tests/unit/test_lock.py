"""The cluster lock and the guard before the first fault.

The lock's shell commands run for real, in a local ``sh`` on a file under tmp_path
(the same commands node 1 runs under /run); the guard is exercised on a Run whose
nodes are that local shell, with the baseline check and restore replaced, so the
test sees exactly which scenarios start and what they are told.
"""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from fixtures import faults
from fixtures.access.evidence import RunInfo
from fixtures.access.fault_hooks import HOOKS
from fixtures.access.inventory import Inventory
from fixtures.access.lock import ClusterLock, Holder, LockHeld, parse, stale_reason
from fixtures.access.node import Result, quoted
from fixtures.faults import baseline
from fixtures.resources.cluster import Cluster
from fixtures.scenarios.engine import NotRun, Run, Scenario
from fixtures.scenarios.registry import SCENARIOS


class LocalNode:
    """Runs commands in a local shell, with their time limit; nothing leaves this host."""

    def __init__(self, spec=None, name: str = "node1"):
        self.spec, self.name = spec, (spec.name if spec else name)
        self.commands: list[str] = []

    def run(self, command: str, *args: object, timeout: float | None = None,
            check: bool = False, stdin=None, record: bool = True) -> Result:
        command = quoted(command, *args)  # the real node's quoting of its arguments
        self.commands.append(command)
        p = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                           timeout=timeout or 10)
        return Result(command, p.returncode, p.stdout, p.stderr, 0.0)

    def reachable(self, timeout: float = 5.0) -> bool:
        return True

    def disconnect(self) -> None:
        pass


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _write(path, holder: Holder) -> None:
    path.write_text(holder.render())


def test_a_free_cluster_is_locked_with_owner_pid_time_and_cluster(tmp_path):
    path = tmp_path / "ha-acceptance.lock"
    lock = ClusterLock(LocalNode(), "lab", path=str(path))
    assert lock.acquire() == ""
    held = parse(path.read_text())
    assert (held.owner, held.pid, held.cluster) == (lock.me.owner, lock.me.pid, "lab")
    assert "@" in held.owner and abs(held.started - time.time()) < 60
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    lock.release()
    assert not path.exists()


def test_a_second_run_is_refused_and_told_who_holds_the_lock(tmp_path):
    path = str(tmp_path / "lock")
    first = ClusterLock(LocalNode(), "lab", path=path)
    first.acquire()
    second = ClusterLock(LocalNode(), "lab", path=path)
    with pytest.raises(LockHeld) as refused:
        second.acquire()
    assert str(refused.value).startswith(f"cluster locked by {first.me.owner} pid "
                                         f"{first.me.pid} since ")
    second.release()  # never held: must leave the first run's lock alone
    assert parse((tmp_path / "lock").read_text()).token == first.me.token


def test_of_two_runs_starting_together_exactly_one_takes_the_lock(tmp_path):
    path = str(tmp_path / "lock")
    locks = [ClusterLock(LocalNode(), "lab", path=path) for _ in range(6)]
    outcomes: list[str] = []

    def take(lock: ClusterLock) -> None:
        try:
            lock.acquire()
            outcomes.append("taken")
        except LockHeld:
            outcomes.append("refused")

    threads = [threading.Thread(target=take, args=(lock,)) for lock in locks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused"] * 5 + ["taken"]


def test_a_lock_whose_process_is_gone_on_this_host_is_reported_and_replaced(tmp_path):
    path = tmp_path / "lock"
    lock = ClusterLock(LocalNode(), "lab", path=str(path))
    dead = Holder("old@" + lock.me.host, lock.me.host, _dead_pid(), time.time() - 60, "lab", "t0")
    _write(path, dead)
    note = lock.acquire()
    assert "replaced a stale cluster lock held by old@" in note
    assert f"its process {dead.pid} on {lock.me.host} is gone" in note
    assert parse(path.read_text()).token == lock.me.token


def test_a_recent_lock_from_another_host_is_respected_an_old_one_replaced(tmp_path):
    path = tmp_path / "lock"
    lock = ClusterLock(LocalNode(), "lab", path=str(path))
    _write(path, Holder("ops@elsewhere", "elsewhere", 1, time.time() - 600, "lab", "t1"))
    with pytest.raises(LockHeld, match="cluster locked by ops@elsewhere pid 1 since"):
        lock.acquire()
    _write(path, Holder("ops@elsewhere", "elsewhere", 1, time.time() - 5 * 3600, "lab", "t1"))
    assert "h old" in lock.acquire()


def test_stale_rules():
    now = 10_000.0
    mine = Holder("u@here", "here", 42, now - 10)
    assert stale_reason(mine, "here", now, alive=lambda pid: True) == ""
    assert "is gone" in stale_reason(mine, "here", now, alive=lambda pid: False)
    other = Holder("u@there", "there", 42, now - 10)
    assert stale_reason(other, "here", now, alive=lambda pid: False) == ""  # not our pids
    assert "h old" in stale_reason(other, "here", now, max_age=5, alive=lambda pid: True)


def test_a_half_written_lock_reads_as_an_unknown_owner_since_its_mtime():
    assert parse("", mtime=100.0) == Holder("unknown", "", 0, 100.0, "", "")


def test_the_lock_is_taken_back_after_node1_rebooted(tmp_path):
    path = tmp_path / "lock"
    lock = ClusterLock(LocalNode(), "lab", path=str(path))
    lock.acquire()
    path.unlink()  # /run is emptied by the reboot of the power-off scenario
    assert "taken again" in lock.reassert()
    assert parse(path.read_text()).token == lock.me.token
    assert lock.reassert() == ""


# -- the guard before the first fault ---------------------------------------------

def _run(tmp_path, hooks: bool = True) -> Run:
    faults_ = dict.fromkeys(HOOKS, "true") if hooks else {}
    inv = Inventory.model_validate({
        "cluster": "lab", "disposable": True,
        "nodes": [{"name": "node1", "address": "192.168.1.1", "ssh": {"key": "/k"},
                   "faults": faults_},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {"key": "/k"}}]})
    cluster = Cluster.__new__(Cluster)
    cluster.inventory = inv
    cluster.node1, cluster.node2 = LocalNode(inv.nodes[0]), LocalNode(inv.nodes[1])
    cluster.nodes = (cluster.node1, cluster.node2)
    run = Run(cluster, log=lambda m: None, info=RunInfo())
    run.lock_path = str(tmp_path / "lock")
    return run


@pytest.fixture
def restores(monkeypatch) -> list[str]:
    done: list[str] = []
    monkeypatch.setattr(baseline, "restore",
                        lambda cluster, log, injected: done.append("restore"))
    return done


def _with_body(name: str, body) -> Scenario:
    """The registry's scenario ``name`` with its body replaced."""

    class Replaced(type(SCENARIOS[name])):
        def body(self, run: Run, sc) -> None:
            body(run, sc)

    return Replaced()


def test_a_missing_hook_is_not_run_before_anything_starts(tmp_path, monkeypatch, restores):
    run = _run(tmp_path, hooks=False)
    monkeypatch.setattr(baseline, "problems", lambda c: pytest.fail("baseline checked"))
    with pytest.raises(NotRun) as skipped:
        run.record(SCENARIOS["power_off"])
    assert str(skipped.value) == (
        "the inventory has no `power_off` or `power_on` hook for node1")
    with pytest.raises(NotRun, match="no `link_down` or `link_up` hook for node1"):
        run.record(SCENARIOS["link_cut"])
    assert run.cluster.node1.commands == [] and not restores and not run.records
    assert faults.ManagerStop.applicable(run.inv) == ""
    assert faults.PowerOff.applicable(_run(tmp_path).inv) == ""


def test_off_baseline_before_the_first_fault_no_scenario_starts(tmp_path, monkeypatch,
                                                                  restores):
    run = _run(tmp_path)
    monkeypatch.setattr(baseline, "problems", lambda c: ["node2 holds 192.168.1.3"])
    injecting = _with_body("heartbeat_stop", lambda run, sc: pytest.fail("fault injected"))
    for spec in (injecting, SCENARIOS["role_flip"], injecting):
        with pytest.raises(NotRun) as skipped:
            run.record(spec)
        assert str(skipped.value) == ("the cluster is not at its baseline before the "
                                      "first fault: node2 holds 192.168.1.3")
    assert not restores and not run.records  # no restore path (--discard-my-data) either
    run.close()
    assert not (tmp_path / "lock").exists()


def test_a_cluster_locked_by_another_run_gets_no_fault(tmp_path, monkeypatch, restores):
    other = ClusterLock(LocalNode(), "lab", path=str(tmp_path / "lock"))
    other.acquire()
    run = _run(tmp_path)
    monkeypatch.setattr(baseline, "problems", lambda c: pytest.fail("baseline checked"))
    with pytest.raises(NotRun, match=f"^cluster locked by {other.me.owner} pid "):
        run.record(SCENARIOS["heartbeat_stop"])
    run.close()
    assert (tmp_path / "lock").exists() and not restores


def test_each_scenario_records_its_body_and_its_restore_as_phases(tmp_path, monkeypatch,
                                                                   restores):
    run = _run(tmp_path)
    monkeypatch.setattr(baseline, "problems", lambda c: [])
    sc = run.record(_with_body("heartbeat_stop", lambda run, sc: time.sleep(0.01)))
    assert sc.error == "" and sc.seconds is not None and sc.restore_seconds is not None
    assert (tmp_path / "lock").exists()
    phases = [(p.name, p.kind, p.parent) for p in run.info.phases]
    assert phases == [("cluster lock and baseline before the first fault", "checks", ""),
                      ("heartbeat-stop", "scenario", "heartbeat-stop"),
                      ("heartbeat-stop: restore", "restore", "heartbeat-stop")]
    assert all(p.seconds is not None for p in run.info.phases) and restores == ["restore"]
    shown = run.info.scenarios
    assert [(s.name, s.fixture, s.seconds) for s in shown] == [
        ("heartbeat-stop", "heartbeat_stop", sc.seconds)]
    run.close()
    assert not (tmp_path / "lock").exists()


def test_the_cluster_waits_of_a_scenario_come_from_its_records_stamps(tmp_path, monkeypatch,
                                                                        restores):
    """Fault → takeover and manager start → failback are the cluster's; the rest of the
    body (files, SMB round trips, probes) and a recovery never seen are the suite's."""
    run = _run(tmp_path)
    monkeypatch.setattr(baseline, "problems", lambda c: [])

    def body(run: Run, sc) -> None:
        sc.t0 = time.time()
        time.sleep(0.05)
        sc.node2_serves = time.time()
        time.sleep(0.05)  # the suite reads its files back: not a wait of the cluster's
        sc.manager_start = time.time()  # the failback is never seen (node1_serves_again)

    run.record(_with_body("heartbeat_stop", body))
    body_phase = next(p for p in run.info.phases if p.kind == "scenario")
    [wait] = run.info.scenarios[0].waits
    assert (wait.name, wait.kind, wait.parent) == ("fault → node2 serves", "cluster",
                                                   "heartbeat-stop")
    assert body_phase.started <= wait.started and wait.ended <= body_phase.ended
    assert 0.04 < wait.ended - wait.started < body_phase.ended - body_phase.started
