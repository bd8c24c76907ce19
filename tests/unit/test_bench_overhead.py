"""bench/overhead.py on synthetic reports: the split per run and over runs, a run that
counted time twice, and bad input as one line naming the file and the field (run as the
real command: no traceback, whatever the report holds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fixtures.access.evidence import Phase, RunInfo
from fixtures.report.model import PASSED, RunResult, TestResult
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "overhead.py"
T0 = 1_800_000_000.0


def bench(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def read_only_run(started: float, phases: list[Phase] | None = None) -> RunResult:
    """A run without scenarios: a setup phase and one read-only test."""
    info = RunInfo(cluster="lab", reached=True, phases=phases or [
        Phase("versions and configuration read", "setup", started, started + 15)])
    tests = [TestResult("s::ro", "ro", ["NODE-01"], PASSED, duration=40.0,
                        started=started + 15)]
    return RunResult(info, tests, started, started + 60)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    for day in range(3):
        write_report(sample_run(12.0 + day, seed=day, started=T0 + day * 86400),
                     root / f"lab-{day}")
    os.symlink("lab-2", root / "latest")  # a second name of one run: counted once
    return root


def test_each_run_and_their_min_median_max(reports: Path):
    proc = bench(reports)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("overhead over 3 runs")
    assert lines[1].split() == ["run", "wall", "s", "cluster", "s", "suite", "s",
                                "suite/wall", "unaccounted", "s"]
    docs = [json.loads((reports / f"lab-{d}" / "compliance.json").read_text())["overhead"]
            for d in range(3)]
    for day, (line, o) in enumerate(zip(lines[2:5], docs, strict=True)):
        assert line.split() == [f"lab-{day}", f"{o['wall']:.1f}", f"{o['cluster']:.1f}",
                                f"{o['suite']:.1f}", f"{o['ratio'] * 100:.1f}%",
                                f"{o['parts']['unaccounted']:.1f}"]
    walls = sorted(o["wall"] for o in docs)
    assert [ln.split()[:2] for ln in lines[5:]] == [
        ["min", f"{walls[0]:.1f}"], ["median", f"{walls[1]:.1f}"], ["max", f"{walls[2]:.1f}"]]


def test_a_read_only_run_is_all_the_suites_own_time(tmp_path: Path):
    write_report(read_only_run(T0), tmp_path / "ro")
    proc = bench(tmp_path / "ro" / "compliance.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[2].split() == ["ro", "60.0", "0.0", "60.0", "100.0%",
                                                   "5.0"]


def test_a_run_that_counted_time_twice_is_printed_and_fails(tmp_path: Path):
    overlapping = [Phase("lab up", "setup", T0 - 30, T0 + 50), Phase("boot", "setup", T0, T0 + 50)]
    write_report(read_only_run(T0, overlapping), tmp_path / "twice")
    proc = bench(tmp_path / "twice")
    assert proc.returncode == 1, proc.stderr
    # a wall of 90 s holding 130 s of setup and the test's 5 s outside it
    assert proc.stdout.splitlines()[-1] == (
        "twice: BUG: counted twice (phases or tests overlap, or a wait outside its scenario):"
        " unaccounted -45.00 s")


def _edited(root: Path, name: str, edit) -> Path:
    run = root / name
    run.mkdir()
    doc = json.loads((root / "good" / "compliance.json").read_text())
    text = edit(doc)
    (run / "compliance.json").write_text(text if isinstance(text, str) else json.dumps(doc))
    return run


BAD = {  # name: (how the good report is edited, what the one line says after the path)
    "corrupt": (lambda d: '{"overhead": {', "compliance.json: not valid JSON"),
    "a-list": (lambda d: "[]", "compliance.json: not a JSON object"),
    "before-the-split": (lambda d: d.pop("overhead"),
                         "compliance.json: no field 'overhead' (a report written before"),
    "wall-word": (lambda d: d["overhead"].update(wall="long"),
                  "compliance.json: field overhead.wall is not a number: 'long'"),
    "ratio-nan": (lambda d: json.dumps({**d, "overhead": {**d["overhead"], "ratio": "NaN"}})
                  .replace('"NaN"', "NaN"),
                  "compliance.json: field overhead.ratio is not a number: nan"),
    "no-unaccounted": (lambda d: d["overhead"]["parts"].pop("unaccounted"),
                       "compliance.json: field overhead.parts.unaccounted is missing"),
    "escape-in-part": (lambda d: d["overhead"]["parts"].update({"\x1b[2J": None}),
                       "compliance.json: field overhead.parts.'\\x1b[2J' is not a number"),
    "overhead-list": (lambda d: d.update(overhead=[]),
                      "compliance.json: field overhead is not an object: list"),
}


@pytest.fixture(scope="module")
def bad_outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("bad")
    write_report(read_only_run(T0), root / "good")
    runs = {name: _edited(root, name, edit) for name, (edit, _) in BAD.items()}
    (root / "empty").mkdir()
    runs["empty"] = root / "empty"
    runs["missing"] = root / "missing"
    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = dict(zip(runs, pool.map(lambda r: bench(root / "good", r), runs.values()),
                         strict=True))
    return root, procs


@pytest.mark.parametrize("name", [*BAD, "empty", "missing"])
def test_bad_input_is_one_line_naming_the_file_and_the_field(name: str, bad_outcomes):
    root, procs = bad_outcomes
    proc = procs[name]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    [line] = proc.stderr.splitlines()
    expect = {"empty": "no compliance.json in it or in its run directories",
              "missing": "no such file or directory"}.get(name) or BAD[name][1]
    assert line.startswith(f"overhead: {root / name}") and expect in line, line
    assert all(c.isprintable() for c in line)
