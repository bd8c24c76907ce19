"""Before and after: python -m fixtures.report compare, on sample runs (no node involved)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.report import changes, trend
from fixtures.report.__main__ import main
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

DAY = 86400.0
T0 = 1_795_000_000.0


@pytest.fixture(autouse=True)
def fresh():
    secrets.clear()
    yield
    secrets.clear()


def reports(tmp_path: Path, history: int = 3) -> Path:
    """A reports dir with ``history`` runs of the lab (takeover 11..13 s) and latest."""
    root = tmp_path / "reports"
    for day in range(history):
        write_report(sample_run(11.0 + day, seed=day, started=T0 + day * DAY),
                     root / f"lab-{day}", past=trend.load_runs([root], cluster="lab"))
    return root


def add(root: Path, name: str, day: int, **kwargs) -> Path:
    page = write_report(sample_run(started=T0 + day * DAY, **kwargs), root / name,
                        past=trend.load_runs([root], cluster="lab"))
    return page.parent


def test_two_runs_with_no_change(tmp_path: Path, capsys):
    root = reports(tmp_path)
    # same figures and states on both sides, the noise of the history around them
    a = add(root, "before", 10, takeover=12.0, seed=7)
    b = add(root, "after", 11, takeover=12.0, seed=7)
    assert main(["compare", str(a), str(b), "--reports-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "controls changed: 0, figures flagged: 0, packages changed: 0, files changed: 0" in out
    doc = json.loads((root / "compare-before--after" / "compare.json").read_text())
    assert not any(r["changed"] for r in doc["controls"])
    assert not any(r["flagged"] for r in doc["figures"])
    assert all(r["status"] in ("same", "same (missing)") for r in doc["files"])
    assert doc["history_runs"] == 3


def test_what_changed_is_said_first(tmp_path: Path):
    root = reports(tmp_path)
    a = add(root, "before", 10, takeover=11.5, seed=7)
    b = add(root, "after", 11, takeover=40.2, seed=7, changed=True)
    before, bcfg = changes.load_run(a)
    after, acfg = changes.load_run(b)
    history = changes.history_for([root], "lab", exclude=[a, b])
    assert len(history) == 3
    cmp = changes.compare(before, after, bcfg, acfg, history)
    # HB-03 passed -> failed comes first
    assert cmp["controls"][0] == {**cmp["controls"][0], "id": "HB-03", "before": "passed",
                                  "after": "failed", "changed": True}
    assert cmp["summary"]["controls_changed"] == 1
    fig = {(f["control"], f["name"]): f for f in cmp["figures"]}
    hb03 = fig[("HB-03", "takeover")]
    assert (hb03["before"], hb03["after"], hb03["delta"]) == (11.5, 40.2, 28.7)
    assert hb03["flagged"] and hb03["spread"] == 2.0  # history: 11, 12, 13
    assert not fig[("run", "provision seconds")]["flagged"]
    pk = [p for p in cmp["packages"] if p["changed"]]
    assert {(p["node"], p["name"]) for p in pk} == {("node1", "samba"), ("node2", "samba")}
    files = {(f["node"], f["path"]): f for f in cmp["files"]}
    smb = files[("node1", "/etc/samba/smb.conf")]
    assert smb["status"] == "changed" and "+   socket options = TCP_NODELAY" in smb["diff"]
    key = files[("node1", "/etc/ha.d/authkeys")]
    assert key["status"] == "changed (secret, fingerprints differ)" and key["diff"] == ""
    assert key["before"] != key["after"] and key["before"].startswith("sha256:")
    assert files[("node1", "/etc/ha.d/ha.cf")]["status"] == "same"
    assert files[("node1", "/etc/corosync/corosync.conf")]["status"] == "same (missing)"


def test_spread_judges_noise(tmp_path: Path):
    before = {"controls": [{"id": "HB-03", "measurements": [{"name": "takeover", "value": 40}]}]}
    after = {"controls": [{"id": "HB-03", "measurements": [{"name": "takeover", "value": 44}]}]}
    wide = [{"controls": [{"id": "HB-03", "measurements": [{"name": "takeover", "value": v}]}]}
            for v in (38, 45)]
    row = changes.compare_figures(before, after, wide)[0]
    assert not row["flagged"] and "<= spread 7" in row["why"]
    row = changes.compare_figures(before, after, wide[:1])[0]  # no history: 25 % rule
    assert not row["flagged"] and "fewer than 2 earlier runs" in row["why"]
    # sub-second noise of a timed figure (seen on the lab: 0.36 s -> 0.52 s) is not flagged
    small = [{"controls": [{"id": "VIRT-04", "measurements": [
        {"name": "banner", "value": v, "unit": "s"}]}]} for v in (0.36, 0.52)]
    row = changes.compare_figures(small[0], small[1], [])[0]
    assert not row["flagged"] and row["why"].endswith("under 1 s, not flagged")
    row = changes.compare_figures(small[0], small[1], [small[0], small[0]])[0]  # spread 0
    assert not row["flagged"]
    after["controls"][0]["measurements"][0]["value"] = None
    assert changes.compare_figures(before, after, wide)[0]["why"] == "not observed after"


def test_compliance_page_links_the_previous_run_and_says_what_changed(tmp_path: Path):
    root = reports(tmp_path, history=2)
    b = add(root, "after", 11, takeover=40.2, seed=7, changed=True)
    html = (b / "compliance.html").read_text()
    assert 'href="../lab-1/compliance.html"' in html
    assert "Changed since the previous run" in html
    top = html.index("Changed since the previous run")
    assert top < html.index("<h2>Controls</h2>")
    assert "HB-03" in html[top:html.index("<h2>Controls</h2>")]
    doc = json.loads((b / "compliance.json").read_text())
    assert doc["changed_since"]["controls_changed"] >= 1
    assert (b / "changes-since-previous.html").is_file()
    assert (root / "lab-0" / "compliance.html").read_text().count("Changed since") == 0


def test_run_names_and_latest(tmp_path: Path, capsys, monkeypatch):
    root = reports(tmp_path, history=2)
    os.symlink("lab-1", root / "latest")
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "lab-0", "reports/latest"]) == 0
    assert (root / "compare-lab-0--lab-1" / "compare.html").is_file()
    out = tmp_path / "elsewhere"
    assert main(["compare", "lab-0", "lab-1", "--out", str(out)]) == 0
    assert (out / "compare.json").is_file()
    assert (out.stat().st_mode & 0o777) == 0o700


@pytest.mark.parametrize("args, line", [
    (["compare", "nope", "lab-1"], "compare: nope: no run there"),
    (["compare", "lab-1", "lab-1"], "compare: lab-1 and lab-1 are the same run"),
    (["compare", "lab-0"], "python -m fixtures.report compare: the following arguments"),
    (["compare", "broken", "lab-1"], "compare: "),
    (["frobnicate"], "python -m fixtures.report: argument command: invalid choice"),
])
def test_bad_arguments_one_line_exit_2(tmp_path: Path, capsys, monkeypatch, args, line):
    root = reports(tmp_path, history=2)
    (root / "broken").mkdir()
    (root / "broken" / "compliance.json").write_text("{")
    monkeypatch.chdir(tmp_path)
    assert exit_code(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(line), err


def exit_code(args: list[str]) -> int:
    """main's return value, or the code argparse exits with."""
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


def test_broken_run_is_named(tmp_path: Path, capsys, monkeypatch):
    root = reports(tmp_path, history=1)
    (root / "broken").mkdir()
    (root / "broken" / "compliance.json").write_text('{"schema": 1}')
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "broken", "lab-0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"compare: {root / 'broken' / 'compliance.json'}: missing or malformed 'cluster'"


def test_runs_kept_apart_for_a_change_still_get_the_clusters_history(tmp_path: Path, capsys):
    """The samba-upgrade demonstration kept its two runs in reports/samba-upgrade-demo/:
    the spreads still come from the cluster's runs in the reports directory."""
    root = reports(tmp_path)
    apart = root / "samba-upgrade-demo"
    a = add(apart, "before", 10, takeover=12.0, seed=7)
    b = add(apart, "after", 11, takeover=12.0, seed=7)
    assert main(["compare", str(a), str(b), "--reports-dir", str(root)]) == 0
    doc = json.loads((apart / "compare-before--after" / "compare.json").read_text())
    assert doc["history_runs"] == 3
    capsys.readouterr()


def test_a_change_of_cluster_manager_lines_up_the_figures_named_for_it():
    # HB-03 names its figure for the manager; across a migration it is the same figure
    def run(manager: str, value: float) -> dict:
        return {"cluster_manager": manager, "controls": [{"id": "HB-03", "measurements": [
            {"name": f"takeover after {manager} stop", "value": value, "unit": "s",
             "budget": 90.0}]}]}

    rows = changes.compare_figures(run("heartbeat", 62.0), run("pacemaker", 130.1), [])
    assert [(r["name"], r["before"], r["after"], r["delta"]) for r in rows] == [
        ("takeover after cluster manager stop", 62.0, 130.1, 68.1)]
    # one manager on both sides: the names stay the manager's own
    rows = changes.compare_figures(run("heartbeat", 62.0), run("heartbeat", 63.0), [])
    assert [r["name"] for r in rows] == ["takeover after heartbeat stop"]
