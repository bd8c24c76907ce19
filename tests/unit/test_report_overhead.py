"""The suite's overhead: the wall split into the cluster's own waits and the suite's own
time, from recorded stretches only, with what they leave unaccounted never negative."""

from __future__ import annotations

import json
from pathlib import Path

from fixtures.access.evidence import Phase, RunInfo, ScenarioRun
from fixtures.report.model import PASSED, RunResult, TestResult
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run
from fixtures.report.timing import overhead

T0 = 1_800_000_000.0


def _scenario(name: str, at: float, body: float, restore: float,
              waits: list[tuple[float, float]]) -> tuple[list[Phase], ScenarioRun]:
    """A scenario as the engine records it: its body, its restore, its waits (offsets)."""
    phases = [Phase(name, "scenario", at, at + body, parent=name),
              Phase(f"{name}: restore", "restore", at + body, at + body + restore,
                    parent=name)]
    run = ScenarioRun(name, name.replace("-", "_"), at, body, restore, waits=[
        Phase(f"fault → {i}", "cluster", at + a, at + b, parent=name)
        for i, (a, b) in enumerate(waits)])
    return phases, run


def test_the_wall_is_the_clusters_waits_plus_the_suites_parts():
    phases = [Phase("lab up", "setup", T0 - 100, T0 - 10),  # before pytest: waited for too
              Phase("versions and configuration read", "setup", T0, T0 + 20)]
    hb, hb_run = _scenario("heartbeat-stop", T0 + 50, 60, 10, [(5, 45), (5, 40), (50, 55)])
    po, po_run = _scenario("power-off", T0 + 130, 100, 20, [(2, 90)])
    tests = [TestResult("s::ro", "ro", ["NODE-01"], PASSED, duration=25.0, started=T0 + 20),
             TestResult("s::hb", "hb", ["HB-03"], PASSED, duration=0.5, started=T0 + 120)]
    o = overhead(phases + hb + po, tests, T0, T0 + 260, [hb_run, po_run])
    assert o["wall"] == 360.0
    # 40 (overlapping waits joined) + 5 + 88
    assert o["cluster"] == 133.0 and o["suite"] == 227.0 and o["ratio"] == 0.631
    assert o["parts"] == {"setup": 110.0, "checks": 25.5, "scenario work": 27.0,
                          "restores": 30.0, "unaccounted": 34.5}
    assert sum(o["parts"].values()) == o["suite"] and o["problem"] == ""
    assert [(s["name"], s["cluster"], s["work"], s["restore"]) for s in o["scenarios"]] == [
        ("heartbeat-stop", 45.0, 15.0, 10.0), ("power-off", 88.0, 12.0, 20.0)]


def test_a_read_only_run_is_all_the_suites_own_time():
    phases = [Phase("versions and configuration read", "setup", T0, T0 + 15)]
    tests = [TestResult("s::ro", "ro", ["NODE-01"], PASSED, duration=40.0, started=T0 + 15)]
    o = overhead(phases, tests, T0, T0 + 60, [])
    assert (o["wall"], o["cluster"], o["suite"], o["ratio"]) == (60.0, 0.0, 60.0, 1.0)
    assert o["parts"] == {"setup": 15.0, "checks": 40.0, "scenario work": 0.0,
                          "restores": 0.0, "unaccounted": 5.0}
    assert o["scenarios"] == [] and o["problem"] == ""


def test_time_counted_twice_makes_unaccounted_negative_and_says_so():
    """The lab's setup phases come from another process: one that overlaps pytest's own
    (a provisioning recorded by both) is counted twice, which the split must show."""
    phases = [Phase("provisioning", "provisioning", T0 - 30, T0 + 50),
              Phase("provisioning", "provisioning", T0 + 10, T0 + 50)]
    o = overhead(phases, [], T0, T0 + 60, [])
    assert o["wall"] == 90.0 and o["parts"]["setup"] == 120.0
    assert o["parts"]["unaccounted"] == -30.0
    assert o["problem"] == ("counted twice (phases or tests overlap, or a wait outside its "
                            "scenario): unaccounted -30.00 s")


def test_a_wait_outside_its_scenario_shows_as_negative_scenario_work():
    body, run = _scenario("link-cut", T0, 30, 5, [(0, 20)])
    run.waits.append(Phase("link up → DRBD UpToDate on both", "cluster", T0 + 40, T0 + 60))
    o = overhead(body, [], T0, T0 + 100, [run])
    assert o["parts"]["scenario work"] == -10.0 and "scenario work -10.00 s" in o["problem"]


def test_the_page_and_the_json_show_the_split(tmp_path: Path):
    page = write_report(sample_run(), tmp_path / "run").read_text()
    doc = json.loads((tmp_path / "run" / "compliance.json").read_text())
    o = doc["overhead"]
    assert round(o["cluster"] + o["suite"], 2) == o["wall"] == doc["time_breakdown"]["total"]
    assert o["problem"] == "" and 0 < o["ratio"] < 1
    assert [s["cluster_seconds"] for s in doc["scenarios"]] == [40.0, 55.0]
    assert doc["scenarios"][0]["cluster_waits"][0] == {
        "what": "fault → node2 serves", "start": 3.0, "seconds": 40.0}
    assert "The suite's overhead" in page and 'id="overhead-split"' in page
    assert f"{o['ratio'] * 100:.1f} % of the wall" in page and "BUG" not in page


def test_a_negative_part_is_shown_as_a_bug_on_the_page(tmp_path: Path):
    info = RunInfo(cluster="lab", reached=True, phases=[
        Phase("lab up", "setup", T0 - 30, T0 + 50), Phase("lab up", "setup", T0, T0 + 50)])
    tests = [TestResult("s::ro", "ro", ["NODE-01"], PASSED, duration=1.0, started=T0 + 55)]
    page = write_report(RunResult(info, tests, T0, T0 + 60), tmp_path / "run").read_text()
    assert "BUG" in page and "unaccounted -41.00 s" in page  # 90 - 130 - 1
