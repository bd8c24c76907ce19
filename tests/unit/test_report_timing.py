"""Where the time went: phases, the tests' own time and what is unaccounted."""

from __future__ import annotations

import json
from pathlib import Path

from fixtures.access.evidence import Phase
from fixtures.report.model import PASSED, TestResult
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run
from fixtures.report.timing import breakdown, load_setup_phases

T0 = 1_800_000_000.0


def test_rows_children_tests_and_unaccounted():
    phases = [
        Phase("lab up", "setup", T0 - 100, T0 - 10),
        Phase("provisioning", "provisioning", T0, T0 + 40),
        Phase("HB-03 heartbeat stop", "scenario", T0 + 60, T0 + 130),
        Phase("fault → recovered", "scenario", T0 + 60, T0 + 100, parent="HB-03 heartbeat stop"),
        Phase("checks", "checks", T0 + 100, T0 + 110, parent="HB-03 heartbeat stop"),
        Phase("baseline restore", "restore", T0 + 110, T0 + 130, parent="HB-03 heartbeat stop"),
        # parts of a scenario without a phase of its own still group under its name
        Phase("fault → recovered", "scenario", T0 + 140, T0 + 150, parent="power off"),
    ]
    tests = [
        TestResult("s::ro", "ro", ["NODE-01"], PASSED, duration=15.0, started=T0 + 41),
        TestResult("s::hb", "hb", ["HB-03"], PASSED, duration=5.0, started=T0 + 125),
    ]
    b = breakdown(phases, tests, started=T0, finished=T0 + 160)
    assert b["total"] == 260.0 and b["session_seconds"] == 160.0
    names = [r["name"] for r in b["rows"]]
    assert names[:4] == ["lab up", "provisioning", "HB-03 heartbeat stop", "power off"]
    hb = b["rows"][2]
    assert [(k["name"], k["seconds"]) for k in hb["children"]] == [
        ("fault → recovered", 40.0), ("checks", 10.0), ("baseline restore", 20.0)]
    own = {r["name"]: r["seconds"] for r in b["rows"] if r["start"] is None}
    # the read-only test ran 41..56, outside any phase; the HB-03 test is inside its scenario
    assert own == {"read-only tests' own time outside the phases above": 15.0}
    # covered: 90 + 40 + 15 + 70 + 10 = 225 of 260
    assert b["unaccounted"] == 35.0
    assert b["kinds"]["setup"] == 90.0 and b["kinds"]["restore"] == 20.0
    assert b["kinds"]["scenario"] == 50.0 and b["kinds"]["checks"] == 10.0


def test_open_phase_ends_with_the_run():
    b = breakdown([Phase("restore", "restore", T0, None)], [], T0, T0 + 30)
    assert b["rows"][0]["open"] and b["rows"][0]["seconds"] == 30.0


def test_setup_phases_file(tmp_path: Path):
    f = tmp_path / "p.json"
    assert load_setup_phases(str(f))[1].endswith("unreadable (FileNotFoundError), setup time "
                                                 "not shown")
    f.write_text(json.dumps([{"name": "image", "kind": "setup", "started": 1, "ended": 2},
                             {"name": "boot", "started": 2}]))
    phases, problem = load_setup_phases(str(f))
    assert problem == "" and [p.name for p in phases] == ["image", "boot"]
    assert phases[1].kind == "setup" and phases[1].ended is None
    f.write_text(json.dumps([{"name": "x", "started": "soon"}]))
    assert "phase 0 lacks a name or a numeric start" in load_setup_phases(str(f))[1]
    assert load_setup_phases("") == ([], "")


def test_page_and_json_show_the_breakdown_calibration_and_host_keys(tmp_path: Path):
    page = write_report(sample_run(), tmp_path / "run")
    html = page.read_text()
    doc = json.loads((tmp_path / "run" / "compliance.json").read_text())
    assert "Where the time went" in html and "baseline restore" in html
    assert "lab up (snapshot restore)" in html
    assert doc["time_breakdown"]["rows"][0]["name"] == "lab up (snapshot restore)"
    assert doc["calibration"]["scale"] == 2.06 and "reference" in html
    assert doc["host_keys"]["node1"].startswith("SHA256:") and "SHA256:q1w2e3" in html
