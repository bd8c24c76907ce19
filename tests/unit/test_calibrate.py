"""lab/calibrate.py: the budgets' scale follows a measured workload, within bounds."""

from __future__ import annotations

import pytest

from lab import calibrate


def fake_runner(seconds: float):
    """A node whose workload takes ``seconds`` (stamps as the real one prints them)."""
    def run(cmd: str, timeout: float) -> str:
        assert cmd == calibrate.WORKLOAD and timeout > 0
        return f"1000.0 1001.0 {1000.0 + seconds}\n2000 2001 {2000 + seconds * 1.2}\n"
    return run


def test_kvm_keeps_the_inventorys_budgets_without_measuring() -> None:
    def never(cmd: str, timeout: float) -> str:
        raise AssertionError("KVM must not be measured")
    budgets = calibrate.calibrate({"node1": never}, "kvm")
    assert budgets["scale"] == 1.0
    assert "kvm" in budgets["calibration"]["method"]


def test_the_faster_node_sets_the_scale() -> None:
    ref = calibrate.REFERENCE_S
    budgets = calibrate.calibrate({"node1": fake_runner(ref), "node2": fake_runner(ref * 1.5)},
                                  "tcg")
    cal = budgets["calibration"]
    assert cal["nodes"] == {"node1": round(ref, 3), "node2": round(ref * 1.5, 3)}
    assert cal["measured"] == round(ref, 3) and cal["reference"] == ref
    assert budgets["scale"] == calibrate.REFERENCE_SCALE


def test_a_slower_lab_gets_proportionally_wider_budgets() -> None:
    ref = calibrate.REFERENCE_S
    budgets = calibrate.calibrate({"node1": fake_runner(ref * 1.5),
                                   "node2": fake_runner(ref * 2)}, "tcg")
    assert budgets["scale"] == round(calibrate.REFERENCE_SCALE * 1.5, 2)


def test_scale_stays_within_bounds() -> None:
    assert calibrate.scale_for(calibrate.REFERENCE_S / 100) == calibrate.SCALE_MIN
    assert calibrate.scale_for(calibrate.REFERENCE_S * 100) == calibrate.SCALE_MAX


def test_the_best_round_counts_one_slow_round_does_not() -> None:
    def run(cmd: str, timeout: float) -> str:
        return "0 1 3.2\n10 11 40\n20 21 23.0\n"
    assert calibrate.measure({"node1": run}) == {"node1": 3.0}


@pytest.mark.parametrize("output", ["", "oops", "5 4 3"])
def test_garbage_is_one_line_naming_the_node(output: str) -> None:
    with pytest.raises(calibrate.CalibrationError, match="^node2: "):
        calibrate.calibrate({"node2": lambda c, t: output}, "tcg")


def test_a_failing_runner_is_one_line_naming_the_node() -> None:
    def boom(cmd: str, timeout: float) -> str:
        raise OSError("ssh: connection refused")
    with pytest.raises(calibrate.CalibrationError, match="node1: workload failed: ssh"):
        calibrate.calibrate({"node1": boom}, "tcg")
