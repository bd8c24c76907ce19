"""The report plugin end to end, in a pytest run of a tiny suite (pytester)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import time

import pytest

from fixtures.access.evidence import EVIDENCE_KEY, RUN_KEY, CommandRecord, current


@pytest.fixture(scope="session", autouse=True)
def run_info(pytestconfig):
    info = pytestconfig.stash[RUN_KEY]
    info.reached = True
    info.cluster = "lab"
    info.inventory = "inventories/lab.yaml"
    info.profile = "hardened"
    info.beyond_article = ["serial /dev/ttyS0"]
    info.environment = {"node1": {"kernel": "6.1"}, "node2": {"kernel": "6.1"}}
    info.artefacts = {"node1": {"ha.cf": "keepalive 2\\n"}}


@pytest.fixture(scope="module")
def scenario():
    current().commands.append(
        CommandRecord("node1", "heartbeat stop", 0, "Stopping", "", time.time(), 0.2)
    )
    return "stopped"


@pytest.fixture
def node1(request):
    assert request.node.stash[EVIDENCE_KEY] is current()
    current().commands.append(
        CommandRecord("node1", "cl_status hbstatus", 0, "running", "", time.time(), 0.1)
    )
    return "node1"


@pytest.mark.control("HB-03")
def test_takeover(scenario, node1):
    current().measure("takeover", 11.5, budget=30.0)


@pytest.mark.control("HB-04")
def test_failback(scenario):
    current().measure("failback", 40.0, budget=12.0)
    assert 40.0 <= 12.0, "failback took 40 s, budget 12 s"


@pytest.mark.control("HB-05")
@pytest.mark.control("VIRT-02")
def test_kill():
    pytest.skip("not run: cluster not disposable")


@pytest.fixture
def smb():
    raise ConnectionRefusedError("smbd not listening")


@pytest.mark.control("SMB-01")
def test_share(smb):
    pass


def test_unmarked():
    pass
"""


# What fixtures/plugin.py does once both nodes answered: without it no report is written.
REACHED = """
import pytest
from fixtures.access.evidence import RUN_KEY

@pytest.fixture(autouse=True)
def _reached(pytestconfig):
    pytestconfig.stash[RUN_KEY].reached = True
"""


def run_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest("-p", "fixtures.report.plugin", *args)


def test_report_of_a_run(pytester: pytest.Pytester):
    reports = pytester.path / "out"
    result = run_suite(pytester, "--reports-dir", "out")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    latest = reports / "latest"
    assert latest.is_symlink() and not os.path.isabs(os.readlink(latest))
    run_dir = latest.resolve()
    assert run_dir.name.startswith("lab-") and run_dir.name.endswith("Z")
    result.stdout.fnmatch_lines([f"compliance report: *{run_dir.name}/compliance.html"])

    doc = json.loads((run_dir / "compliance.json").read_text())
    status = {c["id"]: c for c in doc["controls"]}
    assert doc["verdict"] == "FAIL" and doc["cluster"] == "lab" and doc["profile"] == "hardened"
    assert status["HB-03"]["status"] == "passed"
    assert status["HB-04"]["status"] == "failed"
    assert status["HB-04"]["message"] == "failback took 40 s, budget 12 s"
    assert status["HB-05"]["status"] == status["VIRT-02"]["status"] == "not run"
    assert status["HB-05"]["message"] == "not run: cluster not disposable"
    assert status["SMB-01"]["status"] == "failed"
    assert "error in setup" in status["SMB-01"]["message"]
    assert status["DRBD-01"]["message"] == "not run: no test was collected for this control"
    takeover = status["HB-03"]["measurements"][0]
    assert (takeover["value"], takeover["budget"], takeover["passed"]) == (11.5, 30.0, True)
    test = status["HB-03"]["tests"][0]
    assert [c["command"] for c in test["commands"]] == ["cl_status hbstatus"]
    assert test["shared_fixtures"] == ["scenario"]
    assert doc["shared_fixtures"][0]["name"] == "scenario"
    assert (run_dir / doc["artefacts"]["node1"]["ha.cf"]).read_text() == "keepalive 2\n"

    html = (run_dir / "compliance.html").read_text()
    assert "failback took 40 s, budget 12 s" in html and "heartbeat stop" in html
    names = [c.get("name") for c in ET.parse(run_dir / "junit.xml").iter("testcase")]
    assert "[HB-03] test_takeover" in names and "test_unmarked" in names


def test_second_run_gets_its_own_dir_and_a_trend(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out")
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    runs = [p for p in (pytester.path / "out").iterdir() if not p.is_symlink()]
    assert len(runs) == 2
    latest = (pytester.path / "out" / "latest").resolve()
    assert "Trend over 2 runs" in (latest / "compliance.html").read_text()
    assert "could not write" not in result.stdout.str()


def test_no_report_for_unmarked_tests(pytester: pytest.Pytester):
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "out").exists()
    assert "compliance report" not in result.stdout.str()


def test_no_report_option(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out", "--no-report")
    assert not (pytester.path / "out").exists()


def test_unwritable_reports_dir_does_not_break_the_run(pytester: pytest.Pytester):
    (pytester.path / "blocked").write_text("a file where the reports dir should be")
    result = run_suite(pytester, "--reports-dir", "blocked")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = [ln for ln in result.stdout.lines if "compliance report" in ln]
    assert len(lines) == 1 and lines[0].startswith("compliance report: could not write: ")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_default_reports_dir_is_under_rootdir(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\n")
    run_suite(pytester)
    assert (pytester.path / "reports" / "latest" / "compliance.html").is_file()


def test_interrupted_run_reports_unrun_tests(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out", "-x")
    doc = json.loads((pytester.path / "out" / "latest" / "compliance.json").read_text())
    status = {c["id"]: c for c in doc["controls"]}
    assert status["HB-04"]["status"] == "failed"
    assert status["SMB-01"]["status"] == "not run"
    assert "session stopped" in status["SMB-01"]["message"]


def test_reports_dir_default_path_is_printed_relative(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\n")
    result = run_suite(pytester)
    result.stdout.fnmatch_lines(["compliance report: reports/lab-*Z/compliance.html"])


def test_xfail_is_a_failed_promise(pytester: pytest.Pytester):
    pytester.makeconftest(REACHED)
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.control("HB-06")
@pytest.mark.xfail(reason="article cluster splits its brain")
def test_two_owners():
    assert False
"""
    )
    pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    doc = json.loads((Path(pytester.path) / "out" / "latest" / "compliance.json").read_text())
    hb06 = next(c for c in doc["controls"] if c["id"] == "HB-06")
    assert hb06["status"] == "failed" and "article cluster splits its brain" in hb06["message"]


def test_collect_only_writes_no_report(pytester: pytest.Pytester):
    result = run_suite(pytester, "--reports-dir", "out", "--collect-only")
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / "out").exists()


def test_wired_through_the_root_conftest(pytester: pytest.Pytester):
    pytester.makeconftest('pytest_plugins = ["fixtures.report.plugin"]\n')
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--reports-dir", "out")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    assert (pytester.path / "out" / "latest" / "compliance.json").is_file()


def test_teardown_error_after_a_pass_is_an_error(pytester: pytest.Pytester):
    pytester.makeconftest(REACHED)
    pytester.makepyfile(
        test_t="""
import pytest

@pytest.fixture
def baseline():
    yield
    raise RuntimeError("baseline could not be restored: DRBD StandAlone")

@pytest.mark.control("DRBD-04")
def test_flip(baseline):
    pass
"""
    )
    pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    doc = json.loads((pytester.path / "out" / "latest" / "compliance.json").read_text())
    drbd04 = next(c for c in doc["controls"] if c["id"] == "DRBD-04")
    assert drbd04["status"] == "failed"
    assert drbd04["tests"][0]["status"] == "error"
    assert "error in teardown: RuntimeError: baseline could not be restored" in drbd04["message"]


PASSING = """
import pytest
from fixtures.access.evidence import RUN_KEY


@pytest.fixture(autouse=True)
def info(pytestconfig):
    info = pytestconfig.stash[RUN_KEY]
    info.cluster = "lab"
    info.reached = REACHED


@pytest.mark.control("NODE-01")
def test_ok():
    pass
"""


def test_a_run_that_never_reached_the_cluster_writes_no_report(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out")  # a complete earlier run
    latest = pytester.path / "out" / "latest"
    before = os.readlink(latest)
    pytester.makepyfile(test_suite=PASSING.replace("REACHED", "False"))
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    assert os.readlink(latest) == before
    assert len([p for p in (pytester.path / "out").iterdir() if not p.is_symlink()]) == 1
    assert "compliance report" not in result.stdout.str()


def test_a_report_that_cannot_be_written_fails_a_green_run(pytester: pytest.Pytester):
    (pytester.path / "blocked").write_text("a file where the reports dir should be")
    pytester.makepyfile(test_suite=PASSING.replace("REACHED", "True"))
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "blocked")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = [ln for ln in result.stdout.lines if "compliance report" in ln]
    assert lines == [f"compliance report: could not write: the reports dir "
                     f"{pytester.path / 'blocked'} is not a directory"]


def test_report_files_are_owner_only(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out")
    out = pytester.path / "out"
    run_dir = (out / "latest").resolve()
    assert (out.stat().st_mode & 0o777) == 0o700
    assert (run_dir.stat().st_mode & 0o777) == 0o700
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in run_dir.rglob("*") if p.is_file())


def test_malformed_past_run_is_skipped_with_one_line(pytester: pytest.Pytester):
    run_suite(pytester, "--reports-dir", "out")
    bad = pytester.path / "out" / "lab-20200101T000000Z"
    bad.mkdir()
    (bad / "compliance.json").write_text('{"schema": 1, "cluster": "lab"')
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    result.stdout.fnmatch_lines([f"compliance report: skipped {bad}/compliance.json: "
                                 "not valid JSON"])
    assert "could not write" not in result.stdout.str()
    latest = (pytester.path / "out" / "latest").resolve()
    assert "Trend over 2 runs" in (latest / "compliance.html").read_text()


def test_setup_phases_from_the_environment(pytester: pytest.Pytester, monkeypatch,
                                           tmp_path: Path):
    phases = tmp_path / "phases.json"
    phases.write_text(json.dumps([{"name": "lab up", "kind": "setup", "started": 1.0e9,
                                   "ended": 1.0e9 + 80}]))
    monkeypatch.setenv("HA_SETUP_PHASES", str(phases))
    run_suite(pytester, "--reports-dir", "out")
    doc = json.loads((pytester.path / "out" / "latest" / "compliance.json").read_text())
    rows = doc["time_breakdown"]["rows"]
    assert rows[0]["name"] == "lab up" and rows[0]["seconds"] == 80.0
    phases.write_text("not json")
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    result.stdout.fnmatch_lines([f"HA_SETUP_PHASES={phases}: unreadable*"])


SCENARIO_SUITE = """
import time

import pytest

from fixtures.access.evidence import RUN_KEY, ScenarioRun, current


@pytest.fixture(scope="session")
def power_off(pytestconfig):
    info = pytestconfig.stash[RUN_KEY]
    info.reached = True
    started = time.time()
    time.sleep(0.6)  # the fault, the probes, the restore
    current().notes.append("scenario power-off: node2_serves: t0+41.00s")
    info.scenarios.append(ScenarioRun("power-off", "power_off", started, 0.4, 0.2))
    yield "record"
    time.sleep(0.3)  # a session fixture torn down after the last test


@pytest.mark.control("HB-05")
def test_takeover(power_off):
    current().measure("takeover after power off", 41.0, budget=60.0)


@pytest.mark.control("VIRT-02")
def test_console(power_off):
    pass
"""


def test_a_scenario_is_reported_once_and_the_controls_only_their_own_time(
        pytester: pytest.Pytester):
    pytester.makepyfile(test_scenario=SCENARIO_SUITE)
    result = pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    result.assert_outcomes(passed=2)
    run_dir = (pytester.path / "out" / "latest").resolve()
    doc = json.loads((run_dir / "compliance.json").read_text())
    controls = {c["id"]: c for c in doc["controls"]}
    for cid in ("HB-05", "VIRT-02"):  # the scenario ran in HB-05's setup, torn down in VIRT-02's
        assert 0 < controls[cid]["duration"] < 0.2, (cid, controls[cid]["tests"][0])
        assert controls[cid]["tests"][0]["shared_fixtures"] == ["power_off"]
    [scenario] = doc["scenarios"]
    assert (scenario["name"], scenario["seconds"], scenario["restore_seconds"]) == (
        "power-off", 0.4, 0.2)
    assert scenario["controls"] == ["HB-05", "VIRT-02"]
    html = (run_dir / "compliance.html").read_text()
    assert html.count('id="sc-power_off"') == 1 and 'href="#sc-power_off"' in html
    assert " ms</td>" in html  # an assertion-only control's duration is not "0.0 s"


NOT_APPLICABLE_SUITE = """
import pytest

@pytest.fixture(scope="session", autouse=True)
def run_info(pytestconfig):
    from fixtures.access.evidence import RUN_KEY
    pytestconfig.stash[RUN_KEY].reached = True
    pytestconfig.stash[RUN_KEY].cluster = "lab"

@pytest.mark.control("HB-09")
def test_lone_boot():
    pytest.skip("not applicable to heartbeat: no quorum or fencing in Heartbeat v1")

@pytest.mark.control("HB-01")
def test_ha_cf():
    pass

@pytest.mark.control("HB-01")
def test_corosync_conf():
    pytest.skip("not applicable to heartbeat: this check reads pacemaker's evidence")
"""


def test_a_control_not_applicable_to_the_manager_is_reported_so(pytester: pytest.Pytester):
    pytester.makepyfile(test_suite=NOT_APPLICABLE_SUITE)
    pytester.runpytest("-p", "fixtures.report.plugin", "--reports-dir", "out")
    doc = json.loads((pytester.path / "out" / "latest" / "compliance.json").read_text())
    status = {c["id"]: c for c in doc["controls"]}
    assert status["HB-09"]["status"] == "not applicable"
    assert status["HB-09"]["message"].endswith("no quorum or fencing in Heartbeat v1")
    assert status["HB-01"]["status"] == "passed"  # one manager's check ran and passed
    assert doc["counts"]["not applicable"] == 1
    html = (pytester.path / "out" / "latest" / "compliance.html").read_text()
    assert "N/A" in html and "not applicable" in html


def test_the_manager_marker_skips_as_not_applicable_on_another_manager():
    from types import SimpleNamespace

    from fixtures.plugin import _not_for_this_manager

    mark = pytest.mark.manager("pacemaker", why="no quorum or fencing in Heartbeat v1").mark
    item = SimpleNamespace(get_closest_marker=lambda name: mark if name == "manager" else None)
    assert _not_for_this_manager(item, "heartbeat").startswith(
        "not applicable to heartbeat: no quorum")
    assert _not_for_this_manager(item, "pacemaker") == ""  # its own manager: runs


NOT_RUN_SUITE = """
import pytest

from fixtures.scenarios.engine import NotRun


class Refusing:
    def record(self, spec):
        raise NotRun(f"no hooks for {spec.fixture}")


@pytest.fixture(scope="session")
def scenario_run():
    return Refusing()


def test_uses_the_pulled_plug(power_off):
    pass
"""


def test_a_scenario_that_may_not_run_is_a_skip_saying_why(pytester: pytest.Pytester):
    pytester.makepyfile(test_suite=NOT_RUN_SUITE)
    result = pytester.runpytest("-p", "fixtures.plugin", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*not run: no hooks for power_off*"])
