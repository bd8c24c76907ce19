"""Provisioning for real: blank lab nodes to the article's cluster, then a second
run that changes nothing. Slow (TCG): marked ``lab``; needs root."""

from __future__ import annotations

import time

import pytest
from labctl import LAB_MARKS, lab_cluster

from fixtures.faults import baseline
from fixtures.provision.run import provision
from fixtures.resources.cluster import Cluster

pytestmark = LAB_MARKS


@pytest.fixture(scope="module")
def blank_cluster() -> Cluster:
    cluster = lab_cluster("--fresh")
    yield cluster
    cluster.close()


@pytest.mark.timeout(1500)
def test_blank_nodes_are_provisioned_to_the_baseline(blank_cluster, capsys):
    start = time.monotonic()
    result = provision(blank_cluster, log=lambda m: None)
    seconds = time.monotonic() - start
    with capsys.disabled():
        print(f"\nprovisioning from blank nodes: {seconds:.0f}s, {len(result.changes)} changes, "
              f"figures {result.figures}")
    assert result.changes, "blank nodes needed no change?"
    assert baseline.problems(blank_cluster) == []
    node1, node2 = blank_cluster.node1, blank_cluster.node2
    assert blank_cluster.drbd(node1).state().role == "Primary"
    assert blank_cluster.active is node1
    for node in (node1, node2):
        assert node.run("systemctl is-active --quiet heartbeat").ok
        assert node.run("systemctl is-enabled smbd").stdout.strip() != "enabled"


@pytest.mark.timeout(900)
def test_a_second_run_changes_nothing_and_says_so(blank_cluster, capsys):
    result = provision(blank_cluster, log=lambda m: None)
    with capsys.disabled():
        print(f"\nsecond provisioning run: {result.seconds:.0f}s, {result.summary()}")
    assert result.changes == []
    assert "nothing to change" in result.summary()
    assert baseline.problems(blank_cluster) == []


def test_a_cluster_not_marked_disposable_is_refused(blank_cluster):
    from fixtures.provision.run import ProvisionRefused

    keep = Cluster(blank_cluster.inventory.model_copy(update={"disposable": False}))
    with pytest.raises(ProvisionRefused, match="not marked disposable"):
        provision(keep)
