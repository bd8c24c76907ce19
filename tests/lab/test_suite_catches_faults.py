"""The suite catches real faults: each case breaks the lab's cluster on purpose, runs the
matching control through ``pytest suites/`` as a user would, and expects it to fail with
a message that names the cause. The breakage is undone after.

On the suite's own Heartbeat cluster (``make test``) and, marked ``builds`` (`make
test-builds`), on the cluster built by following the article's text (lab/builds/): the
cases name the cluster's own nodes, VM and mount, never the project's.

Slow (boots and provisions the lab if needed): marked ``lab``; needs root.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from labctl import LAB_MARKS, REPO, lab_cluster, run_control

from fixtures.faults import baseline
from fixtures.provision.run import provision
from fixtures.resources.cluster import Cluster

pytestmark = LAB_MARKS
BUILDS = [pytest.param("heartbeat", id="suite-built"),
          pytest.param("article-text", id="article-text", marks=pytest.mark.builds)]


@pytest.fixture(scope="module", params=BUILDS)
def cluster(request) -> Cluster:
    build = request.param
    if build == "heartbeat":
        cluster = lab_cluster()
        if baseline.problems(cluster):
            provision(cluster, log=lambda m: None)
    else:
        cluster = lab_cluster("--build", build, manager="heartbeat")
        saved = subprocess.run([sys.executable, "-m", "lab", "snapshot", "save",
                                "--if-provisioning"], cwd=REPO, capture_output=True,
                               text=True, timeout=2400)
        assert saved.returncode == 0, saved.stderr
        baseline.wait(cluster, timeout=300)
    yield cluster
    cluster.close()


def _names(cluster: Cluster) -> dict[str, str]:
    """What a case's text may name: the cluster's own nodes, VM, mount point and VIP."""
    inv = cluster.inventory
    return {"node1": cluster.node1.name, "node2": cluster.node2.name,
            "vm": inv.hypervisor.vm_name, "mount": inv.drbd.mount_point,
            "vip": inv.network.virtual_ip}


# "node1"/"node2" name the article's roles; {node1}, {vm}, {mount}, {vip} in a case's text
# are the cluster's own names (_names)
BREAKAGES = [
    pytest.param(
        "node1", "sed -i 's/^node {node1}$/node X{node1}/' /etc/ha.d/ha.cf",
        "test_each_node_has_its_static_address", "NODE-01", "but ha.cf names",
        ["/etc/ha.d/ha.cf"], None, id="node-name-differs-from-uname (the article's slip)"),
    pytest.param(
        "node2", "sed -i 's/ vmstart / /' /etc/ha.d/haresources",
        "test_haresources_gives_node1", "HB-01", "haresources differs between",
        ["/etc/ha.d/haresources"], None, id="haresources-differs-between-nodes"),
    pytest.param(
        "node1", "printf 'auth 1\\n1 crc\\n' > /etc/ha.d/authkeys",
        "test_authkeys", "HB-02", "crc authenticates nothing",
        ["/etc/ha.d/authkeys"], None, id="authkeys-crc"),
    pytest.param(
        "node2", "sed -i 's/^deadtime .*/deadtime 30/' /etc/ha.d/ha.cf",
        "test_ha_cf_carries", "HB-01", "deadtime 30s (written '30'), inventory: 10s",
        ["/etc/ha.d/ha.cf"], None, id="wrong-deadtime"),
    pytest.param(
        "node2", "rmdir {mount}",
        "test_every_resource_of_the_group_can_start", "HB-01", "mount point {mount}",
        [], "mkdir -p {mount}", id="mount-point-missing-on-node2"),
    pytest.param(
        "node2", "systemctl enable smbd 2>/dev/null",
        "test_share_is_the_articles", "SMB-01", "smbd is enabled at boot",
        [], "systemctl disable smbd 2>/dev/null", id="smbd-enabled-at-boot"),
]
# these need nothing undone on the controller
BREAKAGES = [pytest.param(*case.values, None, id=case.id) for case in BREAKAGES]

# The read-only liveness controls (SPEC §3), each run with all four selected and
# `-m "not disruptive"`: a cluster with every file right that does not serve, or will
# not after its next reboot. The VIP on both nodes confuses the namespace's ARP cache:
# flushed after.
LIVENESS = ("test_a_reboot_brings_back or test_one_node_holds_the_whole or "
            "test_the_share_answers_through_the_vip or test_vm_console_answers_on_the_vip_now")
BREAKAGES += [
    pytest.param(
        "node2", "systemctl disable drbd 2>/dev/null",
        LIVENESS, "NODE-04", "{node2}: the DRBD service is not enabled at boot (drbd disabled",
        [], "systemctl enable drbd 2>/dev/null", None, id="drbd-disabled-at-boot"),
    pytest.param(
        "node2", "ip addr add {vip}/24 dev eth0",
        LIVENESS, "HB-08", "VIP on both nodes ({node1}, {node2})",
        [], "ip addr del {vip}/24 dev eth0", "ip neigh flush all",
        id="vip-on-the-standby-too"),
    pytest.param(
        "node1", "systemctl stop smbd",
        LIVENESS, "SMB-04", "smbd is inactive on {node1}, which holds the VIP",
        [], "systemctl start smbd", None, id="smbd-stopped-on-the-active-node"),
    pytest.param(
        "node1", "virsh -c qemu:///system destroy {vm}",
        LIVENESS, "VIRT-04", "VM {vm} is not running on {node1}, which holds the VIP",
        [], "/etc/ha.d/resource.d/vmstart start", None, id="vm-destroyed"),
]

@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    "node_name, breakage, select, control, cause, files, undo, controller_undo", BREAKAGES)
def test_the_matching_control_fails_naming_the_cause(cluster, tmp_path, node_name, breakage,
                                                     select, control, cause, files, undo,
                                                     controller_undo):
    names = _names(cluster)
    node = cluster.node1 if node_name == "node1" else cluster.node2
    breakage, cause = breakage.format(**names), cause.format(**names)
    undo = undo.format(**names) if undo else undo
    for f in files:
        node.run(f"cp -p {f} {f}.catch-test", check=True)
    node.run(breakage, check=True)
    try:
        controls = run_control(select, tmp_path, read_only=select == LIVENESS)
    finally:
        for f in files:
            node.run(f"mv {f}.catch-test {f}", check=True)
        if undo:
            node.run(undo, check=True)
        if controller_undo:
            subprocess.run(controller_undo, shell=True, timeout=30, check=True)
        baseline.wait(cluster, timeout=300)  # the next case starts from an intact cluster
    if select == LIVENESS:  # which of the liveness controls the breakage reached
        seen = {c: f"{controls[c]['status']}: {controls[c]['message']}"
                for c in ("NODE-04", "HB-08", "SMB-04", "VIRT-04")}
        print(f"\n{control} case: {seen}")
    result = controls[control]
    assert result["status"] == "failed", (
        f"{control} did not fail: {result['status']} {result['message']}\n"
        f"{controls['_output']['stdout']}")
    assert cause in result["message"], f"{control}'s message does not name the cause: " \
                                       f"{result['message']!r}"


@pytest.mark.timeout(600)
def test_the_unbroken_cluster_passes_the_same_controls(cluster, tmp_path):
    """The same selections pass on the intact cluster: the failures above are the faults'."""
    controls = run_control("test_each_node_has or test_ha_cf_carries or test_haresources_gives "
                           "or test_authkeys or test_every_resource or "
                           "test_share_is_the_articles or " + LIVENESS, tmp_path)
    for control in ("NODE-01", "HB-01", "HB-02", "SMB-01", "NODE-04", "HB-08", "SMB-04",
                    "VIRT-04"):
        assert controls[control]["status"] == "passed", controls[control]["message"]
