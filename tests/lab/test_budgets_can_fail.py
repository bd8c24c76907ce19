"""Calibrated budgets stay able to fail: one resource on node 2 made to start late by a
known delay, and HB-03 (takeover after `heartbeat stop` on node 1) must fail, its message
naming the figure and the budget. The calibration (lab/calibrate.py) times a workload
that owes nothing to the cluster, so a slow resource is not absorbed by the scale.

The delay is the budget less ``MARGIN_S``: the takeover's own seconds (>= 23 s on any lab,
SPEC §4) push the figure past the budget, while the scenario's wait (budget + 60 s) still
sees node 2 serve, so the figure is measured and compared, not timed out.

Slow (a takeover and a failback under TCG, a few minutes): marked ``lab``; needs root.
"""

from __future__ import annotations

import pytest
from labctl import LAB_MARKS, run_control
from test_suite_catches_faults import cluster  # noqa: F401 - the fixture

from fixtures.faults import baseline

pytestmark = LAB_MARKS

SCRIPT = "/etc/ha.d/resource.d/samba"  # in the group before libvirtd, vmstart and the VIP
MARGIN_S = 20.0
HB03 = "test_node2_takes_over_when_the_cluster_manager_stops_on_node1"


@pytest.mark.timeout(1800)
def test_hb03_fails_when_a_resource_on_node2_starts_late(cluster, tmp_path):  # noqa: F811
    budget = cluster.inventory.budgets.scaled.takeover_after_stop
    delay = round(max(5.0, budget - MARGIN_S))
    node2 = cluster.node2
    line = f'case " $* " in *" start "*) sleep {delay};; esac  # budget test'
    node2.run(f"cp -p {SCRIPT} {SCRIPT}.budget-test", check=True)
    node2.run(f"sed -i '1a {line}' {SCRIPT}", check=True)
    try:
        assert f"sleep {delay}" in node2.run(f"sed -n 2p {SCRIPT}", check=True).stdout
        controls = run_control(HB03, tmp_path)
    finally:
        node2.run(f"mv {SCRIPT}.budget-test {SCRIPT}", check=True)
    hb03 = controls["HB-03"]
    assert hb03["status"] == "failed", (
        f"HB-03 {hb03['status']} with node2's samba {delay} s late (budget {budget:.0f} s): "
        f"{hb03['message']}\n{controls['_output']['stdout']}")
    assert f"budget {budget:.0f}s" in hb03["message"] and "served after" in hb03["message"], (
        f"HB-03's message names neither figure nor budget: {hb03['message']!r}")
    took = next(m for m in hb03["measurements"] if m["name"] == "takeover after heartbeat stop")
    assert took["value"] is not None and took["value"] > budget >= took["budget"] - 0.01, took
    assert took["value"] >= delay and not took["passed"], took
    assert not baseline.problems(cluster), "the lab was not back at its baseline afterwards"
