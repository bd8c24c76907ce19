"""SMB-02 compares what it reads back with what it wrote: the file written through the
VIP during node 2's tenure is altered on the node between its write and its read-back
(a test hook, tests/lab/smb_tamper.py), and SMB-02 must fail naming the file and both
contents; the same run's SMB-03 (the writer's own files) is untouched and passes.

Slow (a heartbeat stop, a takeover and a failback under TCG): marked ``lab``; needs root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from labctl import LAB_MARKS, REPO, lab_cluster

from fixtures.access import netns
from fixtures.access.inventory import DEFAULT_PATH, InventoryError, load
from fixtures.access.node import NodeError
from fixtures.faults import baseline
from fixtures.resources.cluster import Cluster
from fixtures.scenarios.registry import SCENARIOS

pytestmark = LAB_MARKS


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    """The lab as it runs; brought up only when it does not answer (a `lab up` from a tree
    whose provisioning code differs re-keys the lab's snapshot and provisions again)."""
    try:
        inventory = load(DEFAULT_PATH)
        netns.enter(inventory.netns)
        cluster = Cluster(inventory)
        cluster.check_reachable()
    except (InventoryError, netns.NetnsError, NodeError):
        cluster = lab_cluster()
    try:
        baseline.wait(cluster, timeout=300)
    except baseline.BaselineError as exc:
        pytest.fail(f"the lab is not at its baseline (python -m lab up): {exc}")
    yield cluster
    cluster.close()

SELECT = ("test_files_written_through_the_vip_survive_heartbeat_stop or "
          "test_no_acknowledged_write_is_lost_across_heartbeat_stop")


@pytest.mark.timeout(7200)
def test_smb02_fails_when_the_file_read_back_differs(cluster, tmp_path):
    reports = tmp_path / "reports"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'tests' / 'lab'}:{REPO}"}
    limit = 600 + SCENARIOS["heartbeat_stop"].deadline(cluster.inventory)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-k", SELECT, "-p", "smb_tamper",
         "--no-provision", "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=limit, env=env)
    data = json.loads((reports / "latest" / "compliance.json").read_text())
    controls = {c["id"]: c for c in data["controls"]}
    smb02, smb03 = controls["SMB-02"], controls["SMB-03"]
    assert smb02["status"] == "failed", (
        f"SMB-02 {smb02['status']} although the file read back was altered: "
        f"{smb02['message']}\n{proc.stdout[-3000:]}")
    assert "smb-during-stop.txt reads b'node2 tenurX" in smb02["message"], smb02["message"]
    assert "written b'node2 tenure" in smb02["message"], smb02["message"]
    assert smb03["status"] == "passed", smb03["message"]
    assert not baseline.problems(cluster), "the lab was not back at its baseline afterwards"
