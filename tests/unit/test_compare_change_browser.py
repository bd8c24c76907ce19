"""compare.html with a change record, in headless Chromium: the change comes first with its
downtime, data set counts, steps and checks; the verdicts, the changed control, the figure
deltas and the configuration diff are still there. Writes reports/screenshot-compare-change.png
(git-ignored) for a human look."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.report.__main__ import main
from tests.report.links import check_links
from tests.unit.test_compare import add, reports
from tests.unit.test_compare_browser import Rows, dump_dom, shot
from tests.unit.test_migration_change_record import sample_change
from tests.unit.test_report_browser import CHROMIUM


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_compare_page_with_a_change_record_in_chromium(tmp_path: Path, pytestconfig):
    secrets.clear()
    root = reports(tmp_path, history=3)
    a = add(root, "before", 10, takeover=11.5, seed=7)
    b = add(root, "after", 11, takeover=40.2, seed=7, changed=True)
    record = sample_change()
    record["steps"][1]["ok"] = False  # a failed step must show as such
    record["steps"][1]["note"] = "node1: heartbeat did not stop within 180s"
    (b / "change.json").write_text(json.dumps(record))
    assert main(["compare", str(a), str(b), "--reports-dir", str(root)]) == 0
    page = root / "compare-before--after" / "compare.html"
    check_links(page)
    assert "<script" not in page.read_text()

    dom = dump_dom(page, tmp_path / "profile")
    rows = Rows()
    rows.feed(dom)
    t = rows.tables
    # the change, first on the page
    assert dom.index('id="change"') < dom.index('id="change-summary"') < dom.index('id="figures"')
    heading = re.search(r'<h2 id="change">(.*?)</h2>', dom, re.S)[1]
    assert "Heartbeat 3.0.6 to Corosync + Pacemaker + SBD, in place" in heading
    assert re.search(r'id="change-verdict">FAILED<', dom)  # one step failed
    downtime = " ".join(re.search(r'<li id="downtime">(.*?)</li>', dom, re.S)[1].split())
    assert re.sub(r"<[^>]+>", "", downtime).startswith(
        "downtime 301.7 s (1 outage(s), longest 301.7 s)")
    dataset = re.sub(r"<[^>]+>", "", " ".join(
        re.search(r'<li id="dataset">(.*?)</li>', dom, re.S)[1].split()))
    assert dataset.startswith("data set 200/200 files intact: 0 missing, 0 corrupt, "
                              "0 unreadable (39.1 MiB) INTACT")
    assert "banner boot=4 on VIP:902" in dataset
    steps = t["change-steps"][1:]
    assert [(r[1], r[2], r[3], r[4]) for r in steps] == [
        ("Check the cluster before the window", "6.2 s", "up", "OK"),
        ("Open the window: stop Heartbeat, node 2 then node 1", "71.4 s", "down (window)",
         "FAILED"),
        ("Corosync, SBD and Pacemaker", "188.0 s", "down (window)", "OK")]
    assert t["change-checks"][1][:2] == ["file system UUID kept", "PASSED"]
    # what the comparison showed before the change record existed
    sides = {r[0]: r[1] for r in t["sides"][1:]}
    assert sides == {"before": "INCOMPLETE", "after": "FAIL"}
    changed = t["changed-controls"][1:]
    assert [r[0] for r in changed] == ["HB-03"] and changed[0][2:4] == ["PASSED", "FAILED"]
    fig = {(r[0], r[1]): r for r in t["figures"][1:]}
    assert fig[("HB-03", "takeover")][2:5] == ["11.5 s", "40.2 s", "+28.7"]
    files = {(r[0], r[1]): r[4] for r in t["files"][1:]}
    assert files[("node1", "/etc/samba/smb.conf")] == "changed"
    assert re.search(r"\+\s+socket options = TCP_NODELAY", dom)

    shot(page, "compare-change", tmp_path, pytestconfig)
    secrets.clear()
