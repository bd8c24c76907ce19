"""A takeover's steps in the report (the evidence of the tests asserting on the scenario,
compliance.json, the evidence log) and on the comparison page, both managers' steps of
the same takeover lined up on one time axis from the fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.access.evidence import TakeoverStep, TakeoverSteps
from fixtures.report import changes
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

T0 = 1_795_000_000.0


@pytest.fixture(autouse=True)
def fresh():
    secrets.clear()
    yield
    secrets.clear()


def heartbeat_steps() -> TakeoverSteps:
    return TakeoverSteps("heartbeat", "heartbeat-stop", [
        TakeoverStep("release: before the first stop", "node1", 1.0, 3, True),
        TakeoverStep("release: IPaddr2", "node1", 4.0, 6, True),
        TakeoverStep("handover to node 2", "node2", 10.0, 3, True),
        TakeoverStep("acquire: IPaddr2", "node2", 13.0, 8, True)],
        source="/var/log/ha-log of node1, node2, read after the scenario",
        method="sequential: heartbeat runs the group's resources one after another",
        summary="4 steps, 20 s from t0+1.0s to t0+21.0s")


def pacemaker_steps() -> TakeoverSteps:
    return TakeoverSteps("pacemaker", "heartbeat-stop", [
        TakeoverStep("transition 12: Complete", "node1", 0.245, 12.6, detail="pe-input-47.bz2"),
        TakeoverStep("stop vip", "node1", 0.262, 0.362, True, "queue 0 ms, exec 0.340 s; ok"),
        TakeoverStep("monitor vip every 20s", "node2", 12.66, None, False,
                     "no result in the lines read"),
        TakeoverStep("start vip", "node2", 12.362, 0.28, True, "queue 5 ms, exec 0.250 s; ok")],
        source="/var/log/pacemaker/pacemaker.log of node1, node2, read after the scenario",
        method="approximate (no transition graph): each action after the one that finished "
               "latest before it was initiated",
        summary="critical path, 2 actions: stop vip (node1) → start vip (node2)")


def _run(manager: str, steps: TakeoverSteps, day: int, extra: TakeoverSteps | None = None):
    run = sample_run(12.0, seed=day, started=T0 + day * 86400)
    run.info.cluster_manager = manager
    for test in run.tests:
        if "HB-03" in test.controls:
            test.evidence.attach_steps(steps)
        if extra is not None and "HB-05" in test.controls:
            test.evidence.attach_steps(extra)
    return run


def test_the_steps_are_in_the_tests_evidence_page_json_and_log(tmp_path: Path):
    page = write_report(_run("pacemaker", pacemaker_steps(), 0), tmp_path / "run")
    html = page.read_text()
    assert "Takeover steps: heartbeat-stop (pacemaker) — critical path, 2 actions" in html
    assert '<tr class="critical"><td class="num">12.362</td>' in html
    assert "no result in the lines read" in html
    doc = json.loads((page.parent / "compliance.json").read_text())
    hb03 = next(c for c in doc["controls"] if c["id"] == "HB-03")
    [recorded] = hb03["tests"][0]["steps"]
    assert recorded["manager"] == "pacemaker" and recorded["scenario"] == "heartbeat-stop"
    assert recorded["steps"][3] == {"what": "start vip", "node": "node2", "at": 12.362,
                                    "seconds": 0.28, "critical": True,
                                    "detail": "queue 5 ms, exec 0.250 s; ok"}
    logs = [page.parent / f for f in hb03["evidence_files"] if f.endswith(".txt")]
    text = "\n".join(p.read_text() for p in logs)
    assert "steps of heartbeat-stop (pacemaker)" in text
    assert "    12.362      0.280  * node2     start vip   queue 5 ms" in text


def test_both_managers_steps_line_up_from_the_fault(tmp_path: Path):
    unread = TakeoverSteps("heartbeat", "power-off",
                           unavailable="not available: node2: its clock could not be read")
    a = write_report(_run("heartbeat", heartbeat_steps(), 0, unread), tmp_path / "hb").parent
    b = write_report(_run("pacemaker", pacemaker_steps(), 1), tmp_path / "pm").parent
    (before, bcfg), (after, acfg) = changes.load_run(a), changes.load_run(b)
    cmp = changes.compare(before, after, bcfg, acfg)
    hb03, hb05 = cmp["steps"]
    assert (hb03["control"], hb03["scenario"]) == ("HB-03", "heartbeat-stop")
    assert hb03["before"]["manager"] == "heartbeat" and hb03["after"]["manager"] == "pacemaker"
    lined = [(r["at"], (r["before"] or r["after"])["what"], r["before"] is not None)
             for r in hb03["rows"]]
    assert lined == [
        (0.245, "transition 12: Complete", False), (0.262, "stop vip", False),
        (1.0, "release: before the first stop", True), (4.0, "release: IPaddr2", True),
        (10.0, "handover to node 2", True), (12.362, "start vip", False),
        (12.66, "monitor vip every 20s", False), (13.0, "acquire: IPaddr2", True)]
    assert hb05["after"] is None and hb05["before"]["unavailable"].startswith("not available")
    text = changes.text(cmp)
    assert ("  HB-03 heartbeat-stop steps: before heartbeat: 4 steps, 20 s from t0+1.0s to "
            "t0+21.0s; after pacemaker: critical path, 2 actions: stop vip (node1) → start "
            "vip (node2)") in text
    assert "  HB-05 power-off steps: before heartbeat: not available" in text
    _, html = changes.write(cmp, tmp_path / "cmp")
    page = html.read_text()
    assert 'id="steps-HB-03-heartbeat-stop"' in page and "Takeover steps side by side" in page
    assert '<td title="queue 5 ms, exec 0.250 s; ok" class="critical">start vip</td>' in page


@pytest.mark.parametrize("steps", [
    "not a list", 7, [{"what": "start vip", "at": "soon"}], [{"what": 3}], ["x"],
    [{"what": "start vip", "at": float("nan")}]])
def test_a_malformed_step_record_is_said_not_followed(steps):
    """A past run is hostile input: its steps are checked before they are shown."""
    doc = {"controls": [{"id": "HB-03", "tests": [
        {"steps": [{"scenario": "heartbeat-stop", "manager": "pacemaker", "steps": steps}]},
        {"steps": "nonsense"}, "not a test"]}]}
    [side] = changes.steps_of(doc).values()
    assert side["steps"] == [] and side["unavailable"] == (
        "not readable: a malformed step record")
    assert changes.steps_of({"controls": [{"id": "HB-03", "tests": "x"}]}) == {}
    assert changes.compare_steps(doc, {"controls": []})[0]["rows"] == []
