"""CLI argument handling and one-line errors."""

import pytest

from fixtures.access.fault_hooks import PAIRS
from lab import cli, preflight
from lab.errors import LabError


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and err.count("\n") == 1
    return err


def test_commands_parse() -> None:
    assert cli.parse_args(["up"]).fresh is False
    assert cli.parse_args(["up", "--fresh", "--profile", "article"]).profile == "article"
    # no --manager: the lab keeps its current one (lab/snapshot.py lab_manager)
    assert cli.parse_args(["up"]).manager is None
    assert cli.parse_args(["up", "--manager", "pacemaker"]).manager == "pacemaker"
    assert cli.parse_args(["down", "--purge"]).purge is True
    args = cli.parse_args(["power", "node2", "on", "--wait"])
    assert (args.node, args.state, args.wait) == ("node2", "on", True)
    assert cli.parse_args(["link", "node1", "down"]).state == "down"
    # every fault of the vocabulary (fixtures/access/fault_hooks.py) is a lab command taking
    # its states: the lab's inventory calls `lab <verb> NODE <state>` for each hook
    for pair in PAIRS:
        for state in pair.states:
            args = cli.parse_args([pair.verb, "node1", state])
            assert (args.command, args.state) == (pair.verb, state)
            assert args.command in cli.COMMANDS
    assert cli.parse_args(["ssh", "node1", "cat", "/proc/drbd"]).cmd == ["cat", "/proc/drbd"]
    assert cli.parse_args(["ssh", "node1"]).cmd == []
    assert cli.parse_args(["exec", "--", "pytest", "-x"]).cmd == ["pytest", "-x"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["power", "node3", "on"],
        ["power", "node1", "reboot"],
        ["link", "node1", "sideways"],
        ["disk", "node1", "down"],
        ["disk", "node3", "fail"],
        ["exec"],
        ["exec", "--"],
        ["up", "--profile", "bogus"],
        ["up", "--manager", "cman"],
        ["up", "--timeout", "-1"],
    ],
)
def test_bad_arguments_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _fails(argv, capsys)


def test_lab_error_is_one_line(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    def boom(args: object) -> int:
        raise LabError("must run as root (network namespace, taps, mmdebstrap)")

    monkeypatch.setitem(cli.COMMANDS, "status", boom)
    assert cli.main(["status"]) == 1
    assert capsys.readouterr().err == (
        "lab: error: must run as root (network namespace, taps, mmdebstrap)\n")


def test_preflight_root() -> None:
    with pytest.raises(LabError, match="root"):
        preflight.check_root(euid=1000)
    preflight.check_root(euid=0)


def test_preflight_missing_tool_names_package() -> None:
    with pytest.raises(LabError, match="apt-get install no-such-package"):
        preflight.check_tools({"no-such-tool-xyz": "no-such-package"})


def test_preflight_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "mem_available", lambda: 2 * 1024**3)
    with pytest.raises(LabError, match="too little memory"):
        preflight.check_memory()


def test_preflight_disk(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(LabError, match="too little disk"):
        preflight.check_disk(tmp_path / "not" / "yet", needed=1 << 62)
    preflight.check_disk(tmp_path, needed=1)
