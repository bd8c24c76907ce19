"""KVM only when the probe saw the image boot under it."""

import pytest

from lab.accel import ProbeResult, decide


@pytest.mark.parametrize(
    ("result", "override", "expected"),
    [
        (ProbeResult(True, True), None, "kvm"),
        (ProbeResult(True, False), None, "tcg"),  # /dev/kvm there, guest hangs
        (ProbeResult(True, None), None, "tcg"),
        (ProbeResult(False, None), None, "tcg"),
        (ProbeResult(False, True), None, "tcg"),  # inconsistent: never trust it
        (ProbeResult(True, True), "tcg", "tcg"),
        (ProbeResult(False, None), "kvm", "kvm"),
        (ProbeResult(True, True), "bogus", "kvm"),
    ],
)
def test_decide(result: ProbeResult, override: str | None, expected: str) -> None:
    assert decide(result, override) == expected
