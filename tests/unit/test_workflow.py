"""The nightly workflow: it parses, runs on a schedule and by hand, uploads reports/, and
calls only make targets and scripts that exist in this repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github/workflows/nightly.yml"


@pytest.fixture(scope="module")
def wf() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _triggers(wf: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as True
    return wf.get("on", wf.get(True)) or {}


def _steps(wf: dict) -> list[dict]:
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def _commands(wf: dict) -> list[str]:
    """Every shell command line of every `run:` step (continuations joined)."""
    lines = []
    for step in _steps(wf):
        text = step.get("run", "").replace("\\\n", " ")
        lines += [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines


MAKE_CALL = re.compile(r"(?:^|[;&|(]\s*)make\s+((?:[A-Za-z][\w.-]*=?\S*(?:\s+|$))+)")


def _make_calls(line: str) -> list[str]:
    """Targets of the `make` commands on one shell line (VAR=value words skipped)."""
    return [w for m in MAKE_CALL.finditer(line) for w in m.group(1).split() if "=" not in w]


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M)}


def test_parses_with_jobs_and_steps(wf):
    assert wf["name"] and wf["jobs"]
    for job in wf["jobs"].values():
        assert job["runs-on"] and job["steps"]


def test_nightly_schedule_and_manual_dispatch(wf):
    on = _triggers(wf)
    assert on["schedule"] and all("cron" in c for c in on["schedule"])
    assert len(on["schedule"][0]["cron"].split()) == 5
    assert "workflow_dispatch" in on


def test_uploads_reports_even_when_a_control_fails(wf):
    uploads = [s for s in _steps(wf) if str(s.get("uses", "")).startswith(
        "actions/upload-artifact@")]
    assert uploads, "no upload-artifact step"
    assert any(str(s["with"]["path"]).rstrip("/") == "reports" and s.get("if") == "always()"
               for s in uploads)


def test_acceptance_step_can_fail_the_job(wf):
    runs = [s for s in _steps(wf) if "make acceptance" in s.get("run", "")]
    assert runs, "the workflow never calls make acceptance"
    for step in runs:
        assert not step.get("continue-on-error"), "pytest's exit code must fail the job"
        assert "|| true" not in step["run"]


def test_history_is_kept_for_the_trend(wf):
    cmds = " ".join(_commands(wf))
    assert "fixtures.report trend" in cmds
    uses = [str(s.get("uses", "")) for s in _steps(wf)]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    saves = [s for s in _steps(wf) if str(s.get("uses", "")).startswith("actions/cache/save@")]
    assert saves and saves[0].get("if") == "always()"


def test_every_make_target_exists_in_the_makefile(wf):
    targets = _make_targets()
    called = [t for line in _commands(wf) for t in _make_calls(line)]
    assert called, "no make target called"
    missing = sorted(set(called) - targets)
    assert not missing, f"make targets not in the Makefile: {missing}"


def test_every_script_and_module_it_references_exists(wf):
    referenced = []
    for line in _commands(wf):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        for i, w in enumerate(words):
            if re.fullmatch(r"(\./)?[\w.-]+(/[\w.-]+)+\.(py|sh)|\.ci/[\w.-]+|bench/[\w.-]+", w):
                referenced.append(("file", w))
            if w == "-m" and i + 1 < len(words) and words[i - 1].endswith("python"):
                referenced.append(("module", words[i + 1]))
    for kind, ref in referenced:
        if kind == "file":
            assert (ROOT / ref).exists(), f"{ref} does not exist"
        else:
            base = ROOT / ref.replace(".", "/")
            assert base.with_suffix(".py").exists() or (base / "__init__.py").exists(), ref
    assert ("module", "fixtures.report") in referenced


def test_make_call_parser():
    assert _make_calls('make acceptance REPEAT="$REPEAT"') == ["acceptance"]
    assert _make_calls("make lab-down || true") == ["lab-down"]
    assert _make_calls("apt-get install -y git make python3") == []


def test_checks_out_before_using_the_repository(wf):
    steps = _steps(wf)
    checkout = next(i for i, s in enumerate(steps)
                    if str(s.get("uses", "")).startswith("actions/checkout@"))
    first_make = next(i for i, s in enumerate(steps)
                      if any(_make_calls(ln) for ln in s.get("run", "").splitlines()))
    assert checkout < first_make
