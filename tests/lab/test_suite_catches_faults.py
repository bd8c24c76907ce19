"""The suite catches real faults: each case breaks the provisioned lab on purpose,
runs the matching control through ``pytest suites/`` as a user would, and expects
it to fail with a message that names the cause. The breakage is undone after.

Slow (boots and provisions the lab if needed): marked ``lab``; needs root.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from labctl import LAB_MARKS, REPO, lab_cluster

from fixtures import baseline
from fixtures.cluster import Cluster
from fixtures.provision import provision

pytestmark = LAB_MARKS


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    cluster = lab_cluster()
    if baseline.problems(cluster):
        provision(cluster, log=lambda m: None)
    yield cluster
    cluster.close()


def run_control(select: str, tmp_path: Path) -> dict[str, dict]:
    """Run the suites' tests matching ``select`` (-k) without provisioning;
    return the report's controls by id."""
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-k", select, "--no-provision",
         "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    data = json.loads((reports / "latest" / "compliance.json").read_text())
    controls = {c["id"]: c for c in data["controls"]}
    controls["_output"] = {"stdout": proc.stdout[-3000:]}
    return controls


BREAKAGES = [
    pytest.param(
        "node1", "sed -i 's/^node node1$/node Node1/' /etc/ha.d/ha.cf",
        "test_each_node_has_its_static_address", "NODE-01", "but ha.cf names",
        ["/etc/ha.d/ha.cf"], None, id="node-name-case-differs-from-uname (the article's slip)"),
    pytest.param(
        "node2", "sed -i 's/ vmstart / /' /etc/ha.d/haresources",
        "test_ha_cf_timings_and_haresources", "HB-01", "haresources differs between the nodes",
        ["/etc/ha.d/haresources"], None, id="haresources-differs-between-nodes"),
    pytest.param(
        "node1", "printf 'auth 1\\n1 crc\\n' > /etc/ha.d/authkeys",
        "test_authkeys", "HB-02", "crc authenticates nothing",
        ["/etc/ha.d/authkeys"], None, id="authkeys-crc"),
    pytest.param(
        "node2", "sed -i 's/^deadtime .*/deadtime 30/' /etc/ha.d/ha.cf",
        "test_ha_cf_timings_and_haresources", "HB-01", "deadtime is 30",
        ["/etc/ha.d/ha.cf"], None, id="wrong-deadtime"),
    pytest.param(
        "node2", "rmdir /var/lib/vmware",
        "test_every_resource_of_the_group_can_start", "HB-01", "mount point /var/lib/vmware",
        [], "mkdir -p /var/lib/vmware", id="mount-point-missing-on-node2"),
    pytest.param(
        "node2", "systemctl enable smbd 2>/dev/null",
        "test_share_is_the_articles", "SMB-01", "smbd is enabled at boot",
        [], "systemctl disable smbd 2>/dev/null", id="smbd-enabled-at-boot"),
]

@pytest.mark.timeout(1800)
@pytest.mark.parametrize("node_name, breakage, select, control, cause, files, undo",
                         BREAKAGES)
def test_the_matching_control_fails_naming_the_cause(cluster, tmp_path, node_name, breakage,
                                                     select, control, cause, files, undo):
    node = cluster.by_name(node_name)
    for f in files:
        node.run(f"cp -p {f} {f}.catch-test", check=True)
    node.run(breakage, check=True)
    try:
        controls = run_control(select, tmp_path)
    finally:
        for f in files:
            node.run(f"mv {f}.catch-test {f}", check=True)
        if undo:
            node.run(undo, check=True)
    result = controls[control]
    assert result["status"] == "failed", (
        f"{control} did not fail: {result['status']} {result['message']}\n"
        f"{controls['_output']['stdout']}")
    assert cause in result["message"], f"{control}'s message does not name the cause: " \
                                       f"{result['message']!r}"


@pytest.mark.timeout(600)
def test_the_unbroken_cluster_passes_the_same_controls(cluster, tmp_path):
    """The same selections pass on the intact cluster: the failures above are the faults'."""
    controls = run_control("test_each_node_has or test_ha_cf_timings or test_authkeys or "
                           "test_every_resource or test_share_is_the_articles", tmp_path)
    for control in ("NODE-01", "HB-01", "HB-02", "SMB-01"):
        assert controls[control]["status"] == "passed", controls[control]["message"]
