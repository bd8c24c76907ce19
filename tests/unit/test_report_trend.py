"""The trend over runs: figures' spread, flapping controls, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fixtures.access.evidence import Evidence, RunInfo
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
    "string-overhead": (json.dumps({
        "schema": 1, "cluster": "lab", "started": "2026-11-20T00:00:00Z", "verdict": "PASS",
        "controls": [], "overhead": {"wall": 90.0, "cluster": 30.0, "suite": "60",
                                     "ratio": 0.667, "parts": {}}}),
        "overhead.suite is not a number: '60'"),
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


def doc(day: int, figures: dict[str, float], measured: float | None = None,
        hb09: str = "not applicable") -> dict:
    """A compliance.json document as trend reads it."""
    d = {"schema": 1, "cluster": "lab", "started": f"2026-11-2{day}T00:00:00Z",
         "verdict": "PASS",
         "controls": [{"id": "HB-03", "status": PASSED, "measurements": [
             {"name": name, "value": value, "unit": "s"} for name, value in figures.items()]},
             {"id": "HB-09", "status": hb09, "measurements": []}]}
    if measured is not None:
        d["calibration"] = {"measured": measured, "scale": 2 * measured}
    return d


TAKEOVER = "takeover after heartbeat stop"


def test_a_wide_figure_the_lab_speed_does_not_cover_is_unexplained(tmp_path: Path):
    docs = [doc(i, {TAKEOVER: v}, m) for i, (v, m) in enumerate([(60, 1.5), (80, 1.6),
                                                                  (104, 1.65)])]
    result = trend.compute(docs)
    (fig,) = result["figures"]
    assert fig["spread"] == round(44 / 80, 3) and fig["wide"] and fig["why_kind"] == ""
    assert result["unexplained"] == [f"HB-03 {TAKEOVER}"]
    assert "UNEXPLAINED" in trend.text(result)
    assert "with no cause named: 1 (HB-03 takeover" in trend.text(result)
    trend.write(result, tmp_path)
    html = (tmp_path / "trend.html").read_text()
    assert "1 unexplained" in html and "UNEXPLAINED" in html


def test_a_lab_whose_speed_moved_as_much_explains_the_spread():
    docs = [doc(i, {TAKEOVER: v}, m) for i, (v, m) in enumerate([(60, 1.5), (80, 2.0),
                                                                  (102, 2.6)])]
    result = trend.compute(docs)
    (fig,) = result["figures"]
    assert fig["why_kind"] == "lab speed" and "x1.70 between runs" in fig["why"]
    assert result["unexplained"] == [] and result["lab_speed"]["ratio"] == round(2.6 / 1.5, 3)


def test_without_calibration_only_jitter_and_the_clusters_own_causes_explain():
    docs = [doc(i, {TAKEOVER: v, "takeover after link cut": c, "promote": p})
            for i, (v, c, p) in enumerate([(60, 90, 0.2), (104, 189, 0.9)])]
    result = trend.compute(docs)
    figs = {f["name"]: f for f in result["figures"]}
    assert figs["takeover after link cut"]["why_kind"] == "cluster"
    assert "ipfail" in figs["takeover after link cut"]["why"]
    assert figs["promote"]["why_kind"] == "jitter"
    assert result["lab_speed"] is None and result["unexplained"] == [f"HB-03 {TAKEOVER}"]


def test_a_steady_figure_is_not_wide_and_not_applicable_is_not_not_run():
    result = trend.compute([doc(i, {TAKEOVER: v}) for i, v in enumerate([80, 90, 95])])
    (fig,) = result["figures"]
    assert fig["spread"] == round(15 / 90, 3) and not fig["wide"] and fig["why"] == ""
    hb09 = {c["id"]: c for c in result["controls"]}["HB-09"]
    assert (hb09["not_applicable"], hb09["not_run"], hb09["history"][0]) == (
        3, 0, "not applicable")


def test_the_suites_overhead_over_runs_leaves_out_runs_from_before_the_split(tmp_path: Path,
                                                                            capsys):
    dirs = three_runs(tmp_path)
    before = json.loads((dirs[0] / "compliance.json").read_text())
    del before["overhead"]  # a report written before the split
    (dirs[0] / "compliance.json").write_text(json.dumps(before))
    quiet = json.loads((dirs[1] / "compliance.json").read_text())
    del quiet["overhead"]["problem"]  # optional: nothing to say
    (dirs[1] / "compliance.json").write_text(json.dumps(quiet))
    result = trend.compute(trend.load_runs([tmp_path]))
    split = result["overhead"]
    assert len(split["runs"]) == 2 and split["without"] == 1
    # no scenario in these runs: the whole wall is the suite's own
    assert split["ratio"] == {"min": 1.0, "median": 1.0, "max": 1.0}
    assert split["wall"]["median"] == 60.0 and split["cluster"]["max"] == 0.0
    assert "the suite's own time over 2 runs: median 100% of the wall" in trend.text(result)
    assert main(["trend", str(tmp_path)]) == 0
    html = (tmp_path / "trend.html").read_text()
    assert "1 run from before the split is left out" in html and 'id="overhead"' in html
