"""compare.html in a real browser: headless Chromium parses it; its DOM shows the verdicts,
the changed control, the figure deltas and the config diff; a screenshot is not blank.

Also writes reports/screenshot-compare.png (git-ignored) for a human look.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.report import trend
from fixtures.report.__main__ import main
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run
from tests.report.links import check_links
from tests.unit.test_report_browser import CHROMIUM, png_size, screenshot

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic"]


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM as Chromium built it (after parsing, the way a reader's browser sees it)."""
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                           page.resolve().as_uri()], check=True, capture_output=True,
                          text=True, timeout=120)
    return proc.stdout


class Rows(HTMLParser):
    """Text of each table row, per table id: {table id: [[cell text, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = dict(attrs).get("id") or ""
            self.tables.setdefault(self.table, [])
        elif tag == "tr" and self.table is not None:
            self.tables[self.table].append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.table is not None:
            self.tables[self.table][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_compare_page_in_chromium(tmp_path: Path, pytestconfig: pytest.Config, monkeypatch):
    secrets.clear()
    root = tmp_path / "reports"
    for day in range(3):  # the cluster's history: takeover 11, 12, 13 s
        write_report(sample_run(11.0 + day, seed=day, started=1.79e9 + day * 86400),
                     root / f"lab-{day}", past=trend.load_runs([root], cluster="lab"))
    write_report(sample_run(11.5, seed=7, started=1.79e9 + 10 * 86400), root / "before")
    write_report(sample_run(40.2, seed=7, started=1.79e9 + 11 * 86400, changed=True),
                 root / "after")
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "before", "after"]) == 0
    page = root / "compare-before--after" / "compare.html"
    check_links(page)
    assert "<script" not in page.read_text()  # static: no JavaScript

    dom = dump_dom(page, tmp_path / "profile")
    rows = Rows()
    rows.feed(dom)
    t = rows.tables
    sides = {r[0]: r[1] for r in t["sides"][1:]}
    assert sides == {"before": "INCOMPLETE", "after": "FAIL"}
    changed = t["changed-controls"][1:]
    assert [r[:4] for r in changed] == [["HB-03", changed[0][1], "PASSED", "FAILED"]]
    fig = {(r[0], r[1]): r for r in t["figures"][1:]}
    hb03 = fig[("HB-03", "takeover")]
    assert hb03[2:5] == ["11.5 s", "40.2 s", "+28.7"] and hb03[8].startswith("BEYOND SPREAD")
    assert fig[("run", "provision seconds")][8].startswith("within spread")
    files = {(r[0], r[1]): r[4] for r in t["files"][1:]}
    assert files[("node1", "/etc/samba/smb.conf")] == "changed"
    secret = files[("node1", "/etc/ha.d/authkeys (secret)")]
    assert secret == "changed (secret, fingerprints differ)"
    assert re.search(r"\+\s+socket options = TCP_NODELAY", dom)  # the unified diff
    pk = {(r[0], r[1]): r[2:] for r in t["packages"][1:]}
    assert pk[("node1", "samba (changed)")] == ["2:4.17.12", "2:4.17.12+dfsg-0+deb12u1"]

    shot(page, "compare", tmp_path, pytestconfig)
    secrets.clear()


def shot(page: Path, name: str, tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """A screenshot that is not blank, kept as reports/screenshot-<name>.png."""
    png = tmp_path / f"{name}.png"
    screenshot(page, png, tmp_path / "profile-shot")
    assert png_size(png) == (1280, 2000) and png.stat().st_size > 20_000
    keep = pytestconfig.rootpath / "reports"
    if keep.is_dir():
        shutil.copyfile(png, keep / f"screenshot-{name}.png")
