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
    said = f"{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    assert latest.exists(), f"no report written:\n{said}"
    controls = {c["id"]: c for c in json.loads(latest.read_text())["controls"]}
    # what the run said travels with the controls: a CI failure must say why by itself
    return {k: {**c, "said": said} for k, c in controls.items()}


def _why(control: dict) -> str:
    return f"{control['status']}: {control['message']}\n{control['said']}"


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
    hb02, hb06, hb07 = controls["HB-02"], controls["HB-06"], controls["HB-07"]
    assert hb02["status"] == "failed" and "crc" in hb02["message"], _why(hb02)
    assert hb07["status"] == "failed", _why(hb07)
    assert "split brain" in hb07["message"].lower(), _why(hb07)
    assert hb06["status"] == "failed", _why(hb06)
    assert restored["DRBD-03"]["status"] == "passed", _why(restored["DRBD-03"])
