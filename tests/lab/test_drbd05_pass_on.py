"""DRBD-05 judges what DRBD does with a failing disk, not the configuration's text: with
``on-io-error pass_on`` in force on both nodes (DRBD 8.4's default is ``detach``), the
lab's disk fault (node 1's reads fail) leaves node 1's DRBD disk attached, Inconsistent,
and DRBD-05 must fail naming it. The setting goes back to ``detach`` after (``drbdadm
adjust``) and the baseline is restored (the restore re-attaches the disk DRBD kept).

Why pass_on shows only when reads fail: DRBD 8.4 passes on data I/O errors alone; a failed
metadata write detaches whatever the setting (lab/qemu.py, DISK_READ_ERRORS).

Slow (the disk-failure scenario and two resyncs under TCG): marked ``lab``; needs root.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from labctl import LAB_MARKS, REPO
from test_smb02_compares_bytes import cluster  # noqa: F401 - the fixture: the lab as it runs

from fixtures.faults import baseline
from fixtures.scenarios.registry import SCENARIOS

pytestmark = LAB_MARKS

DRBD05 = "test_node1_detaches_its_failed_disk_and_serves_from_node2s_disk"
# what DRBD runs, defaults included: plain `drbdsetup show` leaves out 8.4's default, detach
SHOW = "drbdsetup show %s --show-defaults"
DETACH = re.compile(r"^\s*on-io-error\s+detach;", re.M)


@pytest.mark.timeout(7200)
def test_drbd05_fails_when_the_failing_disk_is_passed_on(cluster, tmp_path):  # noqa: F811
    res = cluster.inventory.drbd.resource
    conf = f"/etc/drbd.d/{res}.res"  # where the suite's provisioning writes the resource
    for node in cluster:
        shown = node.run(SHOW, res, check=True).stdout
        assert DETACH.search(shown), f"{node.name} does not run on-io-error detach:\n{shown}"
        node.run("cp -p %s %s.drbd05-test", conf, conf, check=True)
    reports = tmp_path / "reports"
    try:
        for node in cluster:
            node.run("sed -i 's/on-io-error detach;/on-io-error pass_on;/' %s && drbdadm adjust %s",
                     conf, res, check=True)
            shown = node.run(SHOW, res, check=True).stdout
            assert not DETACH.search(shown), f"{node.name} still detaches:\n{shown}"
        limit = 600 + SCENARIOS["disk_failure"].deadline(cluster.inventory)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "suites/", "-k", DRBD05, "--no-provision",
             "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
            cwd=REPO, capture_output=True, text=True, timeout=limit)
    finally:
        for node in cluster:
            node.run("mv %s.drbd05-test %s && drbdadm adjust %s", conf, conf, res, check=True)
        if baseline.problems(cluster):  # the run's own restore did not get there
            baseline.restore(cluster, log=print)
    data = json.loads((reports / "latest" / "compliance.json").read_text())
    drbd05 = next(c for c in data["controls"] if c["id"] == "DRBD-05")
    assert drbd05["status"] == "failed", (
        f"DRBD-05 {drbd05['status']} with on-io-error pass_on: {drbd05['message']}\n"
        f"{proc.stdout[-3000:]}")
    assert f"{cluster.node1.name} did not detach its failing disk" in drbd05["message"], (
        drbd05["message"])
    assert "Inconsistent" in drbd05["message"], drbd05["message"]  # kept, and failing
    for node in cluster:
        assert DETACH.search(node.run(SHOW, res, check=True).stdout), (
            f"{node.name}: on-io-error detach not back in force")
    assert not baseline.problems(cluster), "the lab was not back at its baseline afterwards"
