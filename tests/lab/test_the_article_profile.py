"""The truth about the article's single-link design: provisioned literally
(`article` profile), a pulled cable makes both nodes owners and DRBD meets a
split brain when it is plugged back; HB-06/HB-07 must fail and say so. The lab
goes back to the hardened profile afterwards. Slow: marked ``lab``; needs root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from labctl import LAB_MARKS, REPO, lab_up

pytestmark = LAB_MARKS


def _suite(tmp_path: Path, select: str) -> dict[str, dict]:
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-k", select, "--provision",
         "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=2400)
    latest = reports / "latest" / "compliance.json"
    assert latest.exists(), f"no report written:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    return {c["id"]: c for c in json.loads(latest.read_text())["controls"]}


@pytest.mark.timeout(3600)
def test_a_pulled_cable_splits_the_articles_cluster_and_the_suite_says_so(tmp_path):
    lab_up("--profile", "article")
    try:
        controls = _suite(tmp_path / "article",
                          "test_authkeys or test_pulled_cable or test_never_two_owners_during and "
                          "link_cut")
    finally:
        lab_up("--profile", "hardened")
        restored = _suite(tmp_path / "hardened", "test_drbd_is_connected")
    assert controls["HB-02"]["status"] == "failed" and "crc" in controls["HB-02"]["message"]
    assert controls["HB-07"]["status"] == "failed", controls["HB-07"]["message"]
    assert "split brain" in controls["HB-07"]["message"].lower(), controls["HB-07"]["message"]
    assert controls["HB-06"]["status"] == "failed", controls["HB-06"]["message"]
    assert restored["DRBD-03"]["status"] == "passed", restored["DRBD-03"]["message"]
