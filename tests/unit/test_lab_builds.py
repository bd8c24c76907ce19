"""lab/builds.py: a build's steps run in order; a failing one stops the build with one
line, and its whole output is kept where only root reads it."""

import dataclasses
import stat

import pytest

from lab import builds
from lab.errors import LabError


def _build(tmp_path, steps: dict[str, str]) -> tuple[builds.Build, object]:
    root = tmp_path / "steps"
    (root / "demo").mkdir(parents=True)
    for name, text in steps.items():
        (root / "demo" / name).write_text(text)
    return dataclasses.replace(builds.get("pcs"), name="demo"), root


def test_a_failing_step_ends_the_build_in_one_line_and_keeps_its_output(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path / "state"))
    build, root = _build(tmp_path, {
        "10-both-ok.sh": "echo fine\n",
        "20-node1-fails.sh": "echo first line\necho 'Error: cause' >&2\necho 'Error: end' >&2\n"
                             "exit 3\n"})
    monkeypatch.setattr(builds, "STEPS_ROOT", root)
    ran: list[str] = []
    with pytest.raises(LabError) as err:
        builds.run(build, lambda node: ["sh"], ran.append, timeout=30)
    assert ran == ["build demo: 10-both-ok.sh done on node1",
                   "build demo: 10-both-ok.sh done on node2"]
    line = str(err.value)
    assert "\n" not in line and "20-node1-fails.sh on node1 exited 3: Error: end" in line
    kept = tmp_path / "state" / "build-logs" / "demo.20-node1-fails.sh.node1.log"
    assert str(kept) in line
    assert "Error: cause" in kept.read_text() and "first line" in kept.read_text()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not builds.is_built(build)


def test_every_step_done_marks_the_build_built(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path / "state"))
    build, root = _build(tmp_path, {"10-node2-ok.sh": "test \"$AUTHKEY\"\n"})
    monkeypatch.setattr(builds, "STEPS_ROOT", root)
    builds.run(build, lambda node: ["sh"], lambda _: None, timeout=30)
    assert builds.is_built(build)


def test_an_error_from_the_suites_code_is_one_line(monkeypatch, capsys) -> None:
    """The lab calls the suite's code (the demo guest's assembly for a build's steps):
    its errors end `lab` with one line, not a traceback."""
    from fixtures.access.node import NodeError
    from lab import cli

    def fails(args) -> int:
        raise NodeError("hademo.asm assembled to 0 bytes, 512 expected")

    monkeypatch.setitem(cli.COMMANDS, "status", fails)
    assert cli.main(["status"]) == 1
    assert capsys.readouterr().err == (
        "lab: error: hademo.asm assembled to 0 bytes, 512 expected\n")


def test_nodes_built_by_an_earlier_version_of_the_steps_are_stale(tmp_path, monkeypatch):
    """A build's steps edited after the nodes were built: `lab up` must start from blank
    disks, not keep nodes the new steps never made."""
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path / "state"))
    build, root = _build(tmp_path, {"10-both-ok.sh": "echo one\n"})
    monkeypatch.setattr(builds, "STEPS_ROOT", root)
    builds.set_built(build)
    assert builds.is_built(build) and not builds.stale(build)
    (root / "demo" / "10-both-ok.sh").write_text("echo two\n")
    assert not builds.is_built(build) and builds.stale(build)
    builds.set_built(None)
    assert not builds.stale(build)
