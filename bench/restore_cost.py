"""What restoring the baseline costs after a scenario, on the lab.

Usage (root): python bench/restore_cost.py [--samples N]
Takes /tmp/ha-vm.lock itself. Needs the lab up and provisioned (at its baseline).

Prints: one full baseline check at baseline (fixtures.faults.baseline.problems), and N times the
role flip's ending (heartbeat stopped on both nodes, then started on both, as DRBD-04
leaves the cluster) followed by ``baseline.restore``: seconds from the end of the
"scenario" to restore's return.
"""

from __future__ import annotations

import argparse
import fcntl
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures.access import netns  # noqa: E402
from fixtures.access.inventory import DEFAULT_PATH, load  # noqa: E402
from fixtures.faults import baseline  # noqa: E402
from fixtures.managers.heartbeat import parsers as heartbeat  # noqa: E402
from fixtures.resources.cluster import Cluster  # noqa: E402

VM_LOCK = "/tmp/ha-vm.lock"


def timed(fn) -> float:
    t0 = time.monotonic()
    fn()
    return round(time.monotonic() - t0, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2)
    args = ap.parse_args()
    with open(VM_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inv = load(DEFAULT_PATH)
        netns.enter(inv.netns)
        cluster = Cluster(inv)
        try:
            baseline.wait(cluster, timeout=300)
        except baseline.BaselineError as exc:
            sys.exit(f"restore_cost: {exc}")
        checks = [timed(lambda: baseline.problems(cluster)) for _ in range(3)]
        print(f"full baseline check at baseline: {checks} s")
        restores = []
        for i in range(args.samples):
            for node in (cluster.node2, cluster.node1):
                heartbeat.stop(node)
            for node in (cluster.node1, cluster.node2):
                heartbeat.start(node)
            took = timed(lambda: baseline.restore(cluster, log=lambda m: None))
            restores.append(took)
            print(f"restore after heartbeat restarted on both ({i + 1}/{args.samples}): "
                  f"{took} s", flush=True)
        print(f"restore: median {statistics.median(restores):.1f} s, "
              f"min {min(restores)} s, max {max(restores)} s")
        cluster.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
