"""The rehearsed migration, end to end on the lab, as `make rehearse-migration` runs it:
the suite on Heartbeat, a data set through the VIP, the in-place migration to Corosync +
Pacemaker with its downtime measured, the suite on Pacemaker, every file and the VM disk
checked, and the comparison page opened in Chromium. Two suite runs under TCG: ~1 h."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab import rehearse
from tests.lab.labctl import LAB_MARKS, REPO
from tests.unit.test_compare_browser import Rows, dump_dom
from tests.unit.test_report_browser import CHROMIUM

pytestmark = [*LAB_MARKS, pytest.mark.long]
FILES = 200
REGRESSION = "no control passed before and failed after"  # lab/rehearse.py's check


@pytest.mark.timeout(4 * 3600)
def test_rehearsed_migration_keeps_every_file_and_the_vm(tmp_path: Path):
    out = tmp_path / "rehearsal"
    proc = subprocess.run([sys.executable, "-m", "lab.rehearse", "--out", str(out),
                           "--files", str(FILES)], cwd=REPO, capture_output=True, text=True,
                          timeout=4 * 3600 - 120)
    judge(out, proc, tmp_path)


def judge(out: Path, proc: subprocess.CompletedProcess, tmp_path: Path) -> None:
    """What the rehearsal in ``out`` must show (apart so that a finished rehearsal
    directory can be judged again)."""
    # A control that passed on Heartbeat and failed on Pacemaker fails the change (exit 1):
    # that is a finding the comparison must show, not a broken rehearsal. Anything else
    # that fails (a step, the data set, the VM, the downtime) fails this test.
    state = json.loads((out / "rehearsal.json").read_text()) if (
        out / "rehearsal.json").exists() else {}
    regressed = state.get("failed_checks") == [REGRESSION]
    assert proc.returncode == 0 or (proc.returncode == 1 and regressed), (
        f"rehearse: {proc.stderr.strip()[-2000:]}")
    # every step printed with its duration
    assert re.search(r"migration \(fixtures/migration/migrate.py\): done in \d+\.\d s", proc.stdout)
    assert all(s["ok"] for s in state["steps"]), state["steps"]
    assert state["before"]["verdict"] and state["after"]["verdict"]
    assert state["dataset"]["files"] == FILES and state["dataset"]["intact"] == FILES
    assert state["dataset"]["missing"] == state["dataset"]["corrupt"] == 0

    cmp = json.loads((out / "compare" / "compare.json").read_text())
    assert (cmp["before"]["cluster_manager"], cmp["after"]["cluster_manager"]) == (
        "heartbeat", "pacemaker")
    ch = cmp["change"]
    assert ch["ok"] is not regressed and ch["dataset"]["ok"]
    lost = [c["id"] for c in cmp["controls"] if c["before"] == "passed" and c["after"] == "failed"]
    assert bool(lost) is regressed, lost
    assert ch["dataset"]["intact"] == FILES and ch["dataset"]["missing"] == 0
    # the service stopped once (the window) and came back
    assert ch["downtime"]["outages"] >= 1 and ch["downtime"]["seconds"] > 0
    assert cmp["summary"]["downtime_s"] == ch["downtime"]["seconds"]
    windows = [s for s in ch["steps"] if s["in_window"]]
    assert windows and all(s["seconds"] > 0 for s in ch["steps"])
    # the downtime lies within the change, and the change is its steps (first step to
    # served again), not the whole rehearsal with its two suite runs
    assert ch["downtime"]["seconds"] <= ch["seconds"]
    in_steps = sum(s["seconds"] for s in ch["steps"])
    assert in_steps - 1 <= ch["seconds"] <= in_steps + rehearse.BACK_S + 10, (in_steps, ch)
    assert {c["name"]: c["ok"] for c in ch["checks"]}["file system UUID kept"]
    # the configuration moved from Heartbeat's files to Pacemaker's
    files = {(f["node"], f["path"]): f["status"] for f in cmp["files"]}
    assert any(p.endswith("corosync.conf") and s != "same" for (_, p), s in files.items())

    # the lab was put back: no VM left, nothing that could pass for the Heartbeat baseline
    assert not Path("/run/netns/halab").exists()
    assert not (Path("/var/lib/ha-lab") / "inventory-migrated.yaml").exists()

    if CHROMIUM is None:
        pytest.skip("chromium is not installed: the page was not opened")
    dom = dump_dom(out / "compare" / "compare.html", tmp_path / "profile")
    rows = Rows()
    rows.feed(dom)
    assert re.search(rf'id="change-verdict">{"FAILED" if regressed else "DONE"}<', dom)
    # verdicts of both sides, as compliance.json says
    sides = {r[0]: r[1] for r in rows.tables["sides"][1:]}
    assert set(sides) == {"before", "after"}
    assert state["before"]["verdict"] in sides["before"].upper()
    assert state["after"]["verdict"] in sides["after"].upper()
    # the controls whose status changed, each with both statuses; the lost ones among them
    changed = {r[0]: (r[2], r[3]) for r in rows.tables.get("changed-controls", [])[1:]}
    assert set(changed) == {c["id"] for c in cmp["controls"] if c["changed"]}
    for cid in lost:
        assert [x.lower() for x in changed[cid]] == ["passed", "failed"], changed[cid]
    if regressed:
        check = next(r for r in rows.tables["change-checks"][1:] if r[0] == REGRESSION)
        assert check[1] == "FAILED" and all(cid in check[2] for cid in lost), check
    # every figure both runs have, with its delta
    figures = rows.tables["figures"][1:]
    both = [f for f in cmp["figures"] if f["before"] is not None and f["after"] is not None]
    assert both and len(figures) == len(cmp["figures"])
    shown = {(r[0], r[1]): r[4] for r in figures}
    for f in both:
        assert shown[(f["control"], f["name"])] == f"{f['delta']:+g}", f
    # the configuration moved: corosync.conf appeared, and a unified diff of a changed
    # file that is not secret is on the page
    assert any(r[1].endswith("corosync.conf") and r[4] != "same"
               for r in rows.tables["files"][1:])
    diffs = [f for f in cmp["files"] if f.get("diff")]
    assert diffs and all(f["path"] in dom for f in diffs)
    assert re.search(r'<pre class="diff"><span class="hunk">--- before/', dom)
    assert re.search(r'<span class="hunk">@@ -\d', dom)
    text = re.sub(r"<[^>]+>", "", " ".join(re.search(r'<li id="dataset">(.*?)</li>', dom,
                                                     re.S)[1].split()))
    assert text.startswith(f"data set {FILES}/{FILES} files intact: 0 missing, 0 corrupt")
    assert re.search(r'<li id="downtime">downtime <b class="n-downtime">[\d.]+ s</b>', dom)
    assert len(rows.tables["change-steps"]) == len(ch["steps"]) + 1
