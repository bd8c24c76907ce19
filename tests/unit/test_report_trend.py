"""The trend over runs: figures' spread, flapping controls, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fixtures.evidence import Evidence, RunInfo
from fixtures.report import trend
from fixtures.report.__main__ import main
from fixtures.report.model import FAILED, PASSED, RunResult, TestResult
from fixtures.report.render import write_report

T0 = 1_795_539_600.0


def run(takeover: float | None, hb03: str, day: int, cluster: str = "lab") -> RunResult:
    ev = Evidence()
    ev.measure("takeover", takeover, budget=30.0)
    tests = [
        TestResult("s.py::t_hb03", "t_hb03", ["HB-03"], hb03, "", 1.0, T0, evidence=ev),
        TestResult("s.py::t_node", "t_node", ["NODE-01"], PASSED, "", 1.0, T0),
    ]
    start = T0 + day * 86400
    return RunResult(RunInfo(cluster=cluster), tests, start, start + 60)


def three_runs(reports: Path) -> list[Path]:
    dirs = []
    for day, (value, status) in enumerate([(12.0, PASSED), (40.0, FAILED), (14.0, PASSED)]):
        d = reports / f"lab-2026112{day}T170000Z"
        write_report(run(value, status, day), d)
        dirs.append(d)
    os.symlink(dirs[-1].name, reports / "latest")  # must not count twice
    return dirs


def test_trend_figures_and_flapping(tmp_path: Path):
    three_runs(tmp_path)
    docs = trend.load_runs([tmp_path])
    assert len(docs) == 3
    result = trend.compute(docs)
    (fig,) = [f for f in result["figures"] if f["name"] == "takeover"]
    assert (fig["min"], fig["median"], fig["max"], fig["count"]) == (12.0, 14.0, 40.0, 3)
    assert fig["last"] == 14.0 and fig["budget"] == 30.0 and fig["missing"] == 0
    controls = {c["id"]: c for c in result["controls"]}
    assert controls["HB-03"]["flapped"] is True
    assert (controls["HB-03"]["passed"], controls["HB-03"]["failed"]) == (2, 1)
    assert controls["NODE-01"]["flapped"] is False
    assert controls["DRBD-01"]["not_run"] == 3 and controls["DRBD-01"]["flapped"] is False


def test_missing_values_are_counted_not_averaged(tmp_path: Path):
    write_report(run(None, FAILED, 0), tmp_path / "a")
    write_report(run(20.0, PASSED, 1), tmp_path / "b")
    (fig,) = trend.compute(trend.load_runs([tmp_path]))["figures"]
    assert (fig["count"], fig["missing"], fig["median"]) == (1, 1, 20.0)


def test_other_schema_and_other_cluster_are_ignored(tmp_path: Path):
    write_report(run(12.0, PASSED, 0), tmp_path / "a")
    write_report(run(13.0, PASSED, 1, cluster="prod"), tmp_path / "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "compliance.json").write_text(json.dumps({"schema": 99}))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "compliance.json").write_text("{broken")
    assert len(trend.load_runs([tmp_path])) == 2
    assert [d["cluster"] for d in trend.load_runs([tmp_path], cluster="prod")] == ["prod"]


def test_cli_prints_and_writes(tmp_path: Path, capsys):
    dirs = three_runs(tmp_path)
    assert main(["trend", str(dirs[0]), str(dirs[1]), str(dirs[2])]) == 0
    out = capsys.readouterr().out
    assert "trend over 3 runs" in out and "HB-03" in out and "YES" in out
    doc = json.loads((tmp_path / "trend.json").read_text())
    assert len(doc["runs"]) == 3
    html = (tmp_path / "trend.html").read_text()
    assert "flapping" in html and "HB-03" in html


def test_cli_on_nothing(tmp_path: Path, capsys):
    assert main(["trend", str(tmp_path)]) == 1
    assert "no readable compliance.json" in capsys.readouterr().err


def test_run_page_shows_trend_of_earlier_runs(tmp_path: Path):
    dirs = three_runs(tmp_path)
    past = trend.load_runs(dirs[:2])
    html = write_report(run(15.0, PASSED, 3), tmp_path / "now", past=past).read_text()
    assert "Trend over 3 runs" in html
    assert "FLAPPING" in html


BAD_RUNS = {
    "broken-json": ('{"schema": 1, "cluster": "lab",', "not valid JSON"),
    "a-list": ("[1, 2]", "not a JSON object"),
    "no-controls": ('{"schema": 1, "cluster": "lab", "started": "x", "verdict": "PASS"}',
                    "missing or malformed 'controls'"),
    "string-figure": (json.dumps({
        "schema": 1, "cluster": "lab", "started": "2026-11-20T00:00:00Z", "verdict": "PASS",
        "controls": [{"id": "HB-03", "status": "passed",
                      "measurements": [{"name": "takeover", "value": "fast"}]}]}),
        "control HB-03 figure 'takeover': value is not a number"),
    "bad-run-figure": (json.dumps({
        "schema": 1, "cluster": "lab", "started": "2026-11-20T00:00:00Z", "verdict": "PASS",
        "controls": [], "figures": {"provisioning (s)": "n/a"}}),
        "run figure 'provisioning (s)' is not a number: 'n/a'"),
}


def test_malformed_runs_are_skipped_naming_the_file(tmp_path: Path, capsys):
    three_runs(tmp_path)
    for name, (text, _) in BAD_RUNS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "compliance.json").write_text(text)
    skipped: list[str] = []
    docs = trend.load_runs([tmp_path], skipped=skipped)
    assert len(docs) == 3
    for name, (_, why) in BAD_RUNS.items():
        assert f"skipped {tmp_path / name / 'compliance.json'}: {why}" in skipped
    assert main(["trend", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(BAD_RUNS) and all(ln.startswith("trend: skipped ") for ln in err)
    # the page of a new run is still written with the good ones in its trend
    html = write_report(run(15.0, PASSED, 3), tmp_path / "now",
                        past=trend.load_runs([tmp_path])).read_text()
    assert "Trend over 4 runs" in html


def test_trend_cli_on_a_missing_dir(tmp_path: Path, capsys):
    assert main(["trend", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"trend: no such file or directory: {tmp_path}/nope"
