"""Node access for real: every command has a limit, a node that dies mid-command
fails that command within it, and the connection rebuilds itself when the node
is back. Marked ``lab``; needs root."""

from __future__ import annotations

import threading
import time

import pytest
from labctl import LAB_MARKS, lab_cluster

from fixtures import faults
from fixtures.access import evidence
from fixtures.resources.cluster import Cluster

pytestmark = LAB_MARKS


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    cluster = lab_cluster()
    yield cluster
    cluster.close()


@pytest.mark.timeout(120)
def test_a_command_longer_than_its_limit_is_cut_at_the_limit(cluster):
    # the connection is made first: the limit is the command's, not the handshake's
    assert cluster.node1.run("true", timeout=60).ok
    start = time.monotonic()
    result = cluster.node1.run("sleep 60", timeout=5)
    took = time.monotonic() - start
    assert result.exit_status is None and "timed out" in result.error, result.error
    assert took < 10, f"a 5 s limit took {took:.1f}s"
    # the remote `timeout` ended it on the node too
    time.sleep(5)
    left = cluster.node1.run("pgrep -f '[s]leep 60'", timeout=30)
    assert left.exit_status == 1, f"sleep still runs on the node, or pgrep failed: {left}"
    assert cluster.node1.run("true", timeout=30).ok, "the node is reached again afterwards"


@pytest.mark.timeout(120)
def test_every_command_is_kept_as_evidence(cluster):
    ev = evidence.Evidence()
    token = evidence.activate(ev)
    try:
        cluster.node2.run("echo evidence-check", timeout=60)
    finally:
        evidence.deactivate(token)
    [record] = ev.commands
    assert record.node == cluster.node2.name and record.stdout == "evidence-check\n"
    assert record.exit_status == 0 and record.duration >= 0


@pytest.mark.timeout(600)
def test_a_node_powered_off_mid_command_fails_it_within_its_limit(cluster):
    node = cluster.node2
    assert node.run("true", timeout=60).ok
    outcome = {}

    def long_command() -> None:
        start = time.monotonic()
        outcome["result"] = node.run("sleep 40", timeout=12)
        outcome["took"] = time.monotonic() - start

    worker = threading.Thread(target=long_command)
    worker.start()
    time.sleep(2)
    faults.run_hook(node, "power_off")
    worker.join(timeout=30)
    assert not worker.is_alive(), "the command hung past its limit"
    assert outcome["result"].exit_status is None
    assert outcome["took"] < 12 + 5, f"took {outcome['took']:.1f}s with a 12 s limit"
    faults.run_hook(node, "power_on")
    deadline = time.monotonic() + cluster.inventory.budgets.scaled.node_boot
    while time.monotonic() < deadline and not node.reachable(5):
        time.sleep(2)
    assert node.run("uname -n", timeout=30).stdout.strip() == node.name, (
        "the connection did not rebuild itself after the node came back")
