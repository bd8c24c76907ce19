"""The marker check of ``make lint``: every control a suite test names is in controls.yaml,
and the test is marked disruptive exactly when its control is."""

from __future__ import annotations

from pathlib import Path

from fixtures.controls import main, marker_problems

ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
import pytest


@pytest.mark.control("DRBD-03")
def test_agrees():
    pass


@pytest.mark.control("HB-03")
@pytest.mark.disruptive
def test_agrees_too(heartbeat_stop):
    pass


@pytest.mark.control("HB-99")
def test_unknown():
    pass


@pytest.mark.control("HB-04")
def test_disruptive_unmarked(heartbeat_stop):
    pass


@pytest.mark.disruptive
@pytest.mark.control("DRBD-01")
def test_marked_but_not_disruptive():
    pass
'''


def test_the_suites_agree_with_the_catalogue():
    assert marker_problems(ROOT / "suites") == []


def test_an_unknown_control_and_a_wrong_disruptive_marker_are_named(tmp_path, capsys):
    (tmp_path / "test_suite.py").write_text(SUITE)
    assert marker_problems(tmp_path) == [
        "test_suite.py:17 test_unknown: control HB-99 is not in controls.yaml",
        "test_suite.py:22 test_disruptive_unmarked: HB-04 is disruptive in controls.yaml, "
        "the test is not marked disruptive",
        "test_suite.py:28 test_marked_but_not_disruptive: DRBD-01 is not disruptive in "
        "controls.yaml, the test is marked disruptive",
    ]
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err.count("fixtures.controls: ") == 3
