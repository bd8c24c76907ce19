"""Budgets that follow the lab's measured speed.

When the lab comes up, each node runs a fixed workload that owes nothing to the cluster
software (forks of ``/bin/true``, like the shell-heavy resource scripts of a takeover, and a
SHA-256 of zeros, plain CPU), timed by the node's own clock. Both nodes run it at the same
time, in one SSH command each. A node's figure is its best of ``ROUNDS`` rounds; the lab's
is the faster node's: on a provisioned lab the active node also runs the nested demo guest
(the cluster's own load, ~half its vCPU), which is not the lab's speed.

Reference: ``REFERENCE_S`` is the workload's seconds on the TCG lab where the inventory's
budgets x2 (the former constant ``TCG_BUDGET_SCALE``) held with margin: HB-03's takeover took
40-48 s (median 44) of its 60 s budget there. That machine is not at hand, so the reference
is derived from this one (2 cores, TCG, 1 vCPU per node): workload 1.50-1.77 s (median of
three runs 1.55 s), HB-03 59.1-74.3 s (median ~64 s, issue 13), so 1.55 s x 44/64 = 1.05 s.
Hence::

    scale = clamp(REFERENCE_SCALE * measured / REFERENCE_S, SCALE_MIN, SCALE_MAX)

KVM nodes get 1: the budgets are written for real hardware. A lab twice as slow as the
reference gets twice the budgets, and no more than ``SCALE_MAX``; a resource that is slow
on its own (a sleeping script, a hung mount) is not measured by this workload, so the
budgets stay able to fail (tests/lab/test_budgets_can_fail.py).

Other inventory writers (vagrant/inventory.py) call :func:`calibrate` with their own way
of running a command on a node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

# one shell line; each round prints three epoch stamps: start, after the forks, after the hash
FORKS = 50
HASH_MIB = 16
ROUNDS = 3
WORKLOAD = (
    "for r in $(seq " + str(ROUNDS) + "); do t0=$(date +%s.%N); i=0; while [ $i -lt "
    + str(FORKS) + " ]; do /bin/true; i=$((i+1)); done; t1=$(date +%s.%N); head -c "
    + str(HASH_MIB * 1024 * 1024) + " /dev/zero | sha256sum >/dev/null; t2=$(date +%s.%N); "
    "echo $t0 $t1 $t2; done"
)
REFERENCE_S = 1.05  # the workload's seconds on the reference TCG lab (see above)
REFERENCE_SCALE = 2.0  # the budgets' scale that held on the reference lab
SCALE_MIN, SCALE_MAX = 1.0, 6.0
METHOD = (f"{FORKS} forks of /bin/true + sha256 of {HASH_MIB} MiB in each node, both at once, "
          f"best of {ROUNDS} rounds, faster node (the active node's nested guest is the "
          f"cluster's load, not the lab's speed); scale = {REFERENCE_SCALE:g} x measured / "
          f"reference, within {SCALE_MIN:g}..{SCALE_MAX:g}")

# runs a shell command on a node within a time limit and returns its stdout (raises on failure)
Runner = Callable[[str, float], str]


class CalibrationError(Exception):
    """The workload could not be run or read; the message is one line."""


def parse(output: str) -> list[float]:
    """Seconds of each workload round from its lines of three stamps.

    >>> parse("100.0 101.5 102.25\\n200 200.5 201\\n")
    [2.25, 1.0]
    """
    rounds = []
    for line in output.strip().splitlines() or [""]:
        try:
            t0, _, t2 = (float(x) for x in line.split())
        except ValueError:
            raise CalibrationError(f"workload printed {line.strip()!r}, not three stamps"
                                   ) from None
        if t2 < t0:
            raise CalibrationError(f"workload clock went backwards ({line.strip()!r})")
        rounds.append(round(t2 - t0, 3))
    return rounds


def scale_for(measured: float, reference: float = REFERENCE_S) -> float:
    """The budgets' scale for a TCG lab whose workload took ``measured`` seconds.

    >>> scale_for(1.05), scale_for(1.55), scale_for(0.3), scale_for(30.0)
    (2.0, 2.95, 1.0, 6.0)
    """
    if measured <= 0 or reference <= 0:
        raise ValueError("measured and reference must be positive")
    raw = REFERENCE_SCALE * measured / reference
    return round(min(SCALE_MAX, max(SCALE_MIN, raw)), 2)


def measure(runners: Mapping[str, Runner], timeout: float = 180.0) -> dict[str, float]:
    """Each node's best round in seconds; the nodes run their rounds at the same time."""
    with ThreadPoolExecutor(max_workers=len(runners)) as pool:
        futures = {name: pool.submit(run, WORKLOAD, timeout) for name, run in runners.items()}
        results: dict[str, float] = {}
        for name, fut in futures.items():
            try:
                results[name] = min(parse(fut.result()))
            except CalibrationError as exc:
                raise CalibrationError(f"{name}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - any runner failure, one line
                raise CalibrationError(f"{name}: workload failed: {exc}") from None
    return results


def calibrate(runners: Mapping[str, Runner], accel: str) -> dict[str, object]:
    """The inventory's ``budgets`` section: ``scale`` and how it was obtained.

    KVM (or any accelerator but TCG) keeps scale 1 without measuring.
    """
    if accel != "tcg":
        return {"scale": 1.0, "calibration": {
            "measured": None, "reference": None, "nodes": {},
            "method": f"accelerator {accel}: the inventory's budgets as written"}}
    nodes = measure(runners)
    measured = min(nodes.values())
    return {"scale": scale_for(measured), "calibration": {
        "measured": measured, "reference": REFERENCE_S, "nodes": nodes, "method": METHOD}}
