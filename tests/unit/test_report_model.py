"""Aggregation of test results into controls and the run's verdict."""

from __future__ import annotations

from fixtures.access.evidence import Evidence, RunInfo
from fixtures.controls import catalogue
from fixtures.report.model import (
    ERROR,
    FAILED,
    NO_TEST,
    NOT_APPLICABLE,
    NOT_RUN,
    PASSED,
    RunResult,
    SharedEvidence,
    TestResult,
    control_status,
    run_dict,
    utc,
)


def result(name: str, controls: list[str], status: str, message: str = "") -> TestResult:
    return TestResult(f"suites/test_x.py::{name}", name, controls, status, message, 1.0, 0.0)


def by_id(run: RunResult) -> dict:
    return {c.control.id: c for c in run.controls}


def test_every_catalogue_control_is_reported_even_without_a_test():
    run = RunResult(RunInfo(), [result("t1", ["HB-03"], PASSED)], 0.0, 1.0)
    assert [c.control.id for c in run.controls] == list(catalogue())
    lonely = by_id(run)["NODE-01"]
    assert (lonely.status, lonely.message) == (NOT_RUN, NO_TEST)
    assert by_id(run)["HB-03"].status == PASSED


def test_control_fails_when_any_test_failed_or_errored():
    tests = [result("a", ["HB-03"], PASSED), result("b", ["HB-03"], FAILED, "took 40 s")]
    assert control_status(tests) == (FAILED, "b: took 40 s")
    tests = [result("a", ["HB-03"], ERROR, "error in setup: boom")]
    status, message = control_status(tests)
    assert status == FAILED and "boom" in message


def test_control_not_run_lists_the_reasons_once():
    tests = [
        result("a", ["HB-03"], PASSED),
        result("b", ["HB-03"], NOT_RUN, "not run: cluster not disposable"),
        result("c", ["HB-03"], NOT_RUN, "not run: cluster not disposable"),
    ]
    assert control_status(tests) == (NOT_RUN, "not run: cluster not disposable")


def test_failed_beats_not_run():
    tests = [result("a", ["HB-03"], NOT_RUN, "x"), result("b", ["HB-03"], FAILED, "y")]
    assert control_status(tests)[0] == FAILED


def test_verdicts():
    every = list(catalogue())
    all_pass = [result(f"t{i}", [cid], PASSED) for i, cid in enumerate(every)]
    assert RunResult(RunInfo(), all_pass, 0, 1).verdict == "PASS"
    one_skip = all_pass[:-1] + [result("s", [every[-1]], NOT_RUN, "not run: x")]
    assert RunResult(RunInfo(), one_skip, 0, 1).verdict == "INCOMPLETE"
    one_fail = one_skip + [result("f", [every[0]], FAILED, "no")]
    run = RunResult(RunInfo(), one_fail, 0, 1)
    assert run.verdict == "FAIL"
    assert run.counts == {PASSED: len(every) - 2, FAILED: 1, NOT_RUN: 1, NOT_APPLICABLE: 0}


def test_a_control_not_applicable_to_the_manager_neither_passes_nor_leaves_a_gap():
    every = list(catalogue())
    tests = [result(f"t{i}", [cid], PASSED) for i, cid in enumerate(every[:-1])]
    tests.append(result("hb09", [every[-1]], NOT_APPLICABLE,
                        "not applicable: no quorum or fencing in Heartbeat v1"))
    run = RunResult(RunInfo(), tests, 0, 1)
    assert run.verdict == "PASS"
    assert run.counts[NOT_APPLICABLE] == 1 and run.counts[PASSED] == len(every) - 1
    assert control_status(tests[-1:]) == (
        NOT_APPLICABLE, "not applicable: no quorum or fencing in Heartbeat v1")
    # one failing sibling still fails the control
    assert control_status(tests[-1:] + [result("x", [every[-1]], FAILED, "no")])[0] == FAILED


def test_missing_control_alone_makes_the_run_incomplete():
    every = list(catalogue())
    tests = [result(f"t{i}", [cid], PASSED) for i, cid in enumerate(every[1:])]
    assert RunResult(RunInfo(), tests, 0, 1).verdict == "INCOMPLETE"


def test_a_test_proving_two_controls_counts_for_both():
    run = RunResult(RunInfo(), [result("t", ["HB-05", "VIRT-02"], FAILED, "dead")], 0, 1)
    assert by_id(run)["HB-05"].status == by_id(run)["VIRT-02"].status == FAILED


def test_unlisted_id_is_reported_not_dropped():
    run = RunResult(RunInfo(), [result("t", ["HB-3"], FAILED, "typo")], 0, 1)
    unlisted = by_id(run)["HB-3"]
    assert unlisted.control.chapter == "unlisted" and unlisted.status == FAILED
    assert run.verdict == "FAIL"


def test_measurements_come_from_tests_and_the_shared_fixtures_they_used():
    ev = Evidence()
    ev.measure("takeover", 40.0, budget=12.0)
    t = result("t", ["HB-03"], FAILED, "slow")
    t.evidence, t.shared = ev, ["scenario"]
    fixture = Evidence()
    fixture.measure("detection", 10.4, minimum=10.0)
    run = RunResult(RunInfo(), [t], 0, 1, shared=[SharedEvidence("scenario", "module", fixture)])
    rows = by_id(run)["HB-03"].measurements
    assert [(r.source, r.measurement.name) for r in rows] == [
        ("t", "takeover"),
        ("fixture:scenario", "detection"),
    ]


def test_json_form_is_complete_and_ordered():
    ev = Evidence()
    ev.measure("takeover", None, budget=30.0)
    t = result("t", ["HB-03"], FAILED, "never took over")
    t.evidence = ev
    info = RunInfo(cluster="lab", profile="article", beyond_article=[])
    doc = run_dict(RunResult(info, [t], 1_795_539_600.0, 1_795_539_660.0))
    assert doc["schema"] == 1
    assert doc["started"] == "2026-11-24T17:00:00Z"
    assert doc["verdict"] == "FAIL"
    assert [c["id"] for c in doc["controls"]] == list(catalogue())
    hb03 = next(c for c in doc["controls"] if c["id"] == "HB-03")
    assert hb03["measurements"] == [
        {
            "name": "takeover",
            "source": "t",
            "value": None,
            "unit": "s",
            "budget": 30.0,
            "minimum": None,
            "passed": False,
            "budget_used": None,
            "note": "",
        }
    ]
    assert hb03["tests"][0]["status"] == FAILED


def test_utc_format():
    assert utc(0) == "1970-01-01T00:00:00Z"
    assert utc(None) == ""
