"""A run that finds another run's live lock on node 1 refuses, read-only checks included:
they would judge that run's failover, not the cluster. A stale lock does not stop it."""

from __future__ import annotations

import time
from types import SimpleNamespace

from fixtures import plugin
from fixtures.access.node import Result


class LockNode:
    """Answers the lock's read command with a given lock file (pure: no shell)."""

    name = "node1"

    def __init__(self, text: str | None):
        self.text = text

    def run(self, command: str, timeout: float | None = None, **_: object) -> Result:
        if self.text is None:
            return Result(command, 3, "", "", 0.01)
        return Result(command, 0, f"{time.time():.0f}\n{self.text}", "", 0.01)


def _cluster(text: str | None) -> SimpleNamespace:
    return SimpleNamespace(node1=LockNode(text), inventory=SimpleNamespace(cluster="prod"))


def _lock(host: str, pid: int, started: float) -> str:
    return (f"owner=ops@{host}\nhost={host}\npid={pid}\nstarted={started:.0f}\n"
            "cluster=prod\ntoken=abc\n")


def test_no_lock_lets_the_run_go_on():
    assert plugin._locked_by_another_run(_cluster(None)) == ""


def test_a_live_lock_of_another_host_is_named():
    busy = plugin._locked_by_another_run(_cluster(_lock("elsewhere", 4242, time.time() - 60)))
    assert busy.startswith("cluster locked by ops@elsewhere pid 4242 since ")


def test_a_lock_older_than_any_run_is_stale_and_ignored():
    assert plugin._locked_by_another_run(_cluster(_lock("elsewhere", 4242, 1000.0))) == ""
