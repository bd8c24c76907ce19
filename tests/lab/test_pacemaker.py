"""The Pacemaker path for real (SPEC §6, issue 11): blank lab nodes provisioned to the
article's cluster on Corosync + Pacemaker with SBD fencing, a second run that changes
nothing, a fence that really resets a node, and broken CIBs each failed by HB-01.

Slow (boots and provisions the lab under TCG; 16-19 min here, 7 of 7 passed): marked ``lab``,
in ``make test``; needs root.
"""

from __future__ import annotations

import time

import pytest
from labctl import LAB_MARKS, lab_cluster, run_control

from fixtures.access.timing import wait_for
from fixtures.faults import baseline
from fixtures.managers.pacemaker import parsers as pacemaker
from fixtures.provision.run import provision
from fixtures.resources.cluster import Cluster

pytestmark = LAB_MARKS


@pytest.fixture(scope="module")
def blank_cluster() -> Cluster:
    cluster = lab_cluster("--fresh", manager="pacemaker")
    yield cluster
    cluster.close()


@pytest.mark.timeout(1800)
def test_blank_nodes_are_provisioned_to_the_baseline_on_pacemaker(blank_cluster, capsys):
    start = time.monotonic()
    result = provision(blank_cluster, log=lambda m: None)
    seconds = time.monotonic() - start
    with capsys.disabled():
        print(f"\npacemaker provisioning from blank nodes: {seconds:.0f}s, "
              f"{len(result.changes)} changes, figures {result.figures}")
    assert result.changes, "blank nodes needed no change?"
    assert baseline.problems(blank_cluster) == []
    for node in blank_cluster:
        for unit in ("corosync", "pacemaker", "sbd"):
            assert node.run(f"systemctl is-active --quiet {unit}").ok, f"{node.name}: {unit}"
        assert not node.run("systemctl is-active --quiet heartbeat").ok, (
            f"{node.name}: heartbeat runs beside pacemaker")
        assert node.run("systemctl is-enabled drbd").stdout.strip() != "enabled"
    status = pacemaker.status(blank_cluster.node1)
    assert status is not None and status.quorate
    assert status.group_on(pacemaker.IDS["group"]) == blank_cluster.node1.name
    assert all(n.online and not n.standby for n in status.nodes.values()), status.nodes
    slots = blank_cluster.node1.run(pacemaker.SBD_LIST, check=True).stdout
    assert blank_cluster.node1.name in slots and blank_cluster.node2.name in slots, slots


@pytest.mark.timeout(900)
def test_a_second_pacemaker_run_changes_nothing_and_says_so(blank_cluster, capsys):
    result = provision(blank_cluster, log=lambda m: None)
    with capsys.disabled():
        print(f"\nsecond pacemaker provisioning run: {result.seconds:.0f}s, {result.summary()}")
    assert result.changes == []
    assert "nothing to change" in result.summary()


@pytest.mark.timeout(900)
def test_a_fence_really_resets_the_node(blank_cluster, capsys):
    """Fencing is real: node 1 fences node 2 through SBD; node 2 reboots (its boot id
    changes), the fence shows in the history, node 2 rejoins and the baseline returns."""
    node1, node2 = blank_cluster.node1, blank_cluster.node2
    boot_id = node2.run("cat /proc/sys/kernel/random/boot_id", check=True).stdout.strip()
    start = time.time()
    node1.run(f"stonith_admin --reboot {node2.name} --timeout 120", timeout=180, check=True)
    fenced = time.time() - start
    node2.disconnect()
    assert wait_for(lambda: node2.reachable(5) or None,
                    blank_cluster.inventory.budgets.scaled.node_boot, 2), "node2 never came back"
    assert node2.run("cat /proc/sys/kernel/random/boot_id").stdout.strip() != boot_id, (
        "node2's boot id did not change: the fence did not reset it")
    history = pacemaker.fence_history(node1)
    done = [e for e in history if e.target == node2.name and e.state == "success"
            and (e.completed_epoch or 0) >= start - 1]
    assert done, f"no successful fence of node2 in the history: {history}"
    settled = baseline.wait(blank_cluster, timeout=600)
    with capsys.disabled():
        print(f"\nfence of node2 confirmed in {fenced:.1f}s ({done[-1]}); "
              f"baseline again {settled:.0f}s later")


# A CIB broken on purpose, each failed by the CIB check of HB-01 with the cause named;
# the CIB is put back whole afterwards (cibadmin --replace). Pacemaker's own C tools, not
# crmsh: crmsh's Python start-up alone overran 30 s on a loaded TCG node in CI.
CIB_BREAKAGES = [
    pytest.param("crm_attribute --type crm_config --name stonith-enabled --update false",
                 "stonith-enabled is false", id="fencing-disabled"),
    pytest.param("cibadmin --delete --scope constraints"
                 f" --xml-text '<rsc_colocation id=\"{pacemaker.IDS['group']}-with-promoted\"/>'",
                 "is not colocated", id="colocation-with-promoted-removed"),
    pytest.param("cibadmin --delete --scope constraints"
                 f" --xml-text '<rsc_order id=\"{pacemaker.IDS['group']}-after-promote\"/>'",
                 "is not ordered", id="group-not-ordered-after-promote"),
]
MAINTENANCE = "crm_attribute --type crm_config --name maintenance-mode --update %s"
SAVED_CIB = "/root/cib.catch-test.xml"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("breakage, cause", CIB_BREAKAGES)
def test_a_broken_cib_fails_hb01_naming_the_cause(blank_cluster, tmp_path, breakage, cause):
    node1 = blank_cluster.node1
    node1.run(f"cibadmin --query --scope configuration > {SAVED_CIB}", timeout=30, check=True)
    # maintenance mode: a broken constraint must not move anything while it is judged
    node1.run(MAINTENANCE % "true", timeout=60, check=True)
    try:
        node1.run(breakage, timeout=60, check=True)
        controls = run_control("test_the_cib_makes_the_articles_service", tmp_path, read_only=True)
    finally:
        node1.run(f"cibadmin --replace --scope configuration --xml-file {SAVED_CIB}",
                  timeout=60, check=True)
        node1.run(MAINTENANCE % "false", timeout=60, check=True)
        baseline.wait(blank_cluster, timeout=300)
    result = controls["HB-01"]
    assert result["status"] == "failed", (
        f"HB-01 did not fail: {result['status']} {result['message']}\n"
        f"{controls['_output']['stdout']}")
    assert cause in result["message"], result["message"]


@pytest.mark.timeout(600)
def test_the_intact_pacemaker_cluster_passes_the_read_only_controls(blank_cluster, tmp_path):
    controls = run_control("not test_budget", tmp_path, read_only=True)
    for cid in ("NODE-01", "NODE-04", "HB-01", "HB-02", "HB-08", "SMB-01", "SMB-04", "VIRT-04"):
        assert controls[cid]["status"] == "passed", f"{cid}: {controls[cid]['message']}"

