"""The report directory: HTML, JSON, junit.xml, evidence files, artefacts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fixtures.access.evidence import CommandRecord, Evidence, RunInfo, Timeline
from fixtures.controls import catalogue
from fixtures.report.model import (
    ERROR,
    FAILED,
    NOT_APPLICABLE,
    NOT_RUN,
    PASSED,
    RunResult,
    TestResult,
)
from fixtures.report.render import trim, write_report
from tests.report.links import check_links

T0 = 1_795_539_600.0


def run_with_everything() -> RunResult:
    passed_ev = Evidence()
    passed_ev.commands.append(
        CommandRecord("node1", "cat /etc/ha.d/ha.cf", 0, "keepalive 2\n" * 100, "", T0 + 1, 0.1)
    )
    passed_ev.commands.append(
        CommandRecord("node2", "drbdadm status", None, "", "", T0 + 2, 5.0, error="timed out")
    )
    failed_ev = Evidence()
    failed_ev.measure("takeover", 40.0, budget=12.0)
    failed_ev.measure("detection", 10.5, minimum=10.0, budget=20.0)
    failed_ev.measure("smb outage", None, budget=30.0)
    failed_ev.measure("failback", 57.6, budget=60.0)  # passed, by 4 %
    tl = Timeline("heartbeat stop", T0 + 10)
    tl.add("fault", "heartbeat stop", "node1", at=T0 + 10)
    tl.add("watcher", "node2 Primary", "node2", at=T0 + 50)
    failed_ev.attach_timeline(tl)
    failed_ev.commands.append(
        CommandRecord("node1", "heartbeat stop", 0, "Stopping <heartbeat> & co", "", T0 + 10, 1.0)
    )
    tests = [
        TestResult(
            "suites/test_nodes.py::test_addr",
            "test_addr",
            ["NODE-01"],
            PASSED,
            "",
            2.0,
            T0,
            evidence=passed_ev,
        ),
        TestResult(
            "suites/test_hb.py::test_takeover",
            "test_takeover",
            ["HB-03"],
            FAILED,
            "takeover took 40.0 s, budget 12 s",
            45.0,
            T0 + 10,
            longrepr="E   AssertionError: takeover took 40.0 s\x1b[0m\x01",
            evidence=failed_ev,
        ),
        TestResult(
            "suites/test_hb.py::test_kill[node1]",
            "test_kill[node1]",
            ["HB-05", "VIRT-02"],
            NOT_RUN,
            "not run: cluster not disposable",
            0.0,
            T0 + 60,
        ),
        TestResult(
            "suites/test_smb.py::test_share",
            "test_share",
            ["SMB-01"],
            ERROR,
            "error in setup: ConnectionRefusedError",
            0.5,
            T0 + 61,
            longrepr="Traceback",
        ),
    ]
    info = RunInfo(
        cluster="lab",
        inventory="inventories/lab.yaml",
        profile="hardened",
        beyond_article=["serial /dev/ttyS0 as a second heartbeat path"],
        environment={"node1": {"kernel": "6.1.0-27"}, "node2": {"kernel": "6.1.0-28"}},
        artefacts={"node1": {"ha.cf": "keepalive 2\n", "../../etc/passwd": "x"}},
        figures={"provision seconds": 412.5},
    )
    return RunResult(info, tests, T0, T0 + 120)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "lab-20261124T170000Z"
    write_report(run_with_everything(), out)
    return out


def test_files_written(report: Path):
    for name in ("compliance.html", "compliance.json", "junit.xml"):
        assert (report / name).is_file()


def test_html_verdict_controls_and_statuses(report: Path):
    html = (report / "compliance.html").read_text()
    assert "FAIL" in html
    for cid in catalogue():
        assert f'id="{cid}"' in html, cid
    assert "NOT RUN" in html and "not run: cluster not disposable" in html
    assert "not run: no test was collected for this control" in html
    assert "ERROR" in html and "ConnectionRefusedError" in html
    assert "serial /dev/ttyS0 as a second heartbeat path" in html
    assert "inventories/lab.yaml" in html and "hardened" in html
    assert "&lt;heartbeat&gt;" in html  # command output is escaped
    assert "\x1b" not in html


def test_html_timing_table_shows_value_budget_and_missing(report: Path):
    html = (report / "compliance.html").read_text()
    timing = html.split("<h2>Timings</h2>")[1].split("<h2>")[0]
    assert "takeover" in timing and "40 s" in timing and "12 s" in timing
    assert "10 s" in timing  # the minimum of the detection figure
    assert "NOT OBSERVED" in timing
    assert "FAIL" in timing and "PASS" in timing
    assert "96 % OF BUDGET" in timing  # a pass by a hair is flagged for the reviewer


def test_html_links_resolve_and_long_output_is_trimmed(report: Path):
    relative = check_links(report / "compliance.html")
    assert any(link.startswith("evidence/HB-03/") for link in relative)
    assert any(link.startswith("artefacts/node1/") for link in relative)
    full = [link for link in relative if link.startswith("evidence/NODE-01/test_addr/")]
    assert len(full) == 1  # the 100-line output, written in full
    assert (report / full[0]).read_text().count("keepalive 2") == 100
    html = (report / "compliance.html").read_text()
    assert "lines not shown here" in html


def test_artefact_names_cannot_escape_the_run_dir(report: Path):
    doc = json.loads((report / "compliance.json").read_text())
    for link in doc["artefacts"]["node1"].values():
        assert (report / link).resolve().is_relative_to(report.resolve())


def test_json_statuses_and_measurements(report: Path):
    doc = json.loads((report / "compliance.json").read_text())
    assert doc["schema"] == 1 and doc["verdict"] == "FAIL" and doc["cluster"] == "lab"
    status = {c["id"]: c["status"] for c in doc["controls"]}
    assert status["NODE-01"] == PASSED
    assert status["HB-03"] == FAILED
    assert status["SMB-01"] == FAILED  # an error fails its control
    assert status["HB-05"] == status["VIRT-02"] == NOT_RUN
    assert status["DRBD-01"] == NOT_RUN
    assert doc["counts"] == {PASSED: 1, FAILED: 2, NOT_RUN: len(catalogue()) - 3, NOT_APPLICABLE: 0}
    hb03 = next(c for c in doc["controls"] if c["id"] == "HB-03")
    figures = {m["name"]: m for m in hb03["measurements"]}
    assert figures["takeover"]["value"] == 40.0 and figures["takeover"]["passed"] is False
    assert figures["smb outage"]["value"] is None
    assert figures["detection"]["minimum"] == 10.0 and figures["detection"]["passed"] is True
    for path in hb03["evidence_files"]:
        assert (report / path).is_file()
    assert hb03["tests"][0]["timelines"][0]["events"][1]["t"] == 40.0


def test_json_is_stable(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_report(run_with_everything(), a)
    write_report(run_with_everything(), b)
    assert (a / "compliance.json").read_text() == (b / "compliance.json").read_text()


def test_junit_parses_with_control_ids(report: Path):
    root = ET.parse(report / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["[HB-03] test_takeover"].find("failure") is not None
    assert cases["[NODE-01] test_addr"].find("failure") is None
    assert cases["[HB-05, VIRT-02] test_kill[node1]"].find("skipped") is not None
    assert cases["[SMB-01] test_share"].find("error") is not None
    assert cases["[DRBD-01] no test collected"].find("skipped") is not None
    assert suite.get("failures") == "1" and suite.get("errors") == "1"
    assert int(suite.get("tests")) == len(cases)


def test_trim_keeps_head_and_tail():
    text = "\n".join(str(i) for i in range(100))
    shown, omitted = trim(text, 40)
    assert omitted == 60
    lines = shown.splitlines()
    assert lines[0] == "0" and lines[-1] == "99" and len(lines) == 41
    assert trim("short", 40) == ("short", 0)


def test_empty_run_renders(tmp_path: Path):
    html = write_report(RunResult(RunInfo(), [], T0, T0), tmp_path / "empty")
    text = html.read_text()
    assert "INCOMPLETE" in text and "No timing was measured" in text
