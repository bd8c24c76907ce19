"""The observer's cost: HB-03's takeover (heartbeat stop on node 1 -> node 2 Primary,
mounted, holding the VIP) with and without the probes that run during the suite's
scenarios, interleaved on the same lab.

Usage (root): python bench/observer_cost.py [--pairs N]
Takes /tmp/ha-vm.lock itself; needs the lab up and provisioned. About 4-5 min per pair
under TCG (takeover, failback, baseline).

Both arms run the never-two-owners watcher: it is the instrument that sees node 2 serve
(one long-lived process per node). The "probes" arm adds the SMB writer and the console
prober, the suite's other observers; their share is (probes - bare) / bare of the median
takeover.
"""

from __future__ import annotations

import argparse
import fcntl
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures import baseline, heartbeat, netns  # noqa: E402
from fixtures.cluster import Cluster  # noqa: E402
from fixtures.console import ConsoleProber  # noqa: E402
from fixtures.evidence import Timeline  # noqa: E402
from fixtures.inventory import DEFAULT_PATH, load  # noqa: E402
from fixtures.samba import SmbWriter  # noqa: E402
from fixtures.timing import wait_for  # noqa: E402
from fixtures.watch import ClusterWatcher  # noqa: E402

VM_LOCK = "/tmp/ha-vm.lock"


def takeover(cluster: Cluster, probes: bool) -> float:
    """Seconds from `heartbeat stop` on node 1 to node 2 serving; back at baseline after."""
    inv = cluster.inventory
    n1, n2 = cluster.node1, cluster.node2
    baseline.wait(cluster, timeout=300)
    timeline = Timeline("observer-cost", time.time())
    watcher = ClusterWatcher(cluster, timeline).start()
    smb = prober = None
    if probes:
        smb = SmbWriter(inv.network.virtual_ip, inv.samba.share,
                        f"observer-cost-{uuid.uuid4().hex[:6]}", timeline).start()
        prober = ConsoleProber(inv.network.virtual_ip, inv.hypervisor.console_port,
                               timeline).start()
    try:
        t0 = time.time()
        heartbeat.stop(n1)
        served = wait_for(lambda: watcher.first(n2.name, lambda s: s.serving, t0), 300)
    finally:
        watcher.stop()
        if prober is not None:
            prober.stop()
        if smb is not None:
            smb.stop()
    heartbeat.start(n1)
    baseline.wait(cluster, timeout=300)
    if served is None:
        sys.exit("observer_cost: node2 never served within 300 s")
    return round(served - t0, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2)
    args = ap.parse_args()
    bare: list[float] = []
    probed: list[float] = []
    with open(VM_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inv = load(DEFAULT_PATH)
        netns.enter(inv.netns)
        cluster = Cluster(inv)
        for i in range(args.pairs):
            # alternate which arm goes first, so a drift of the host favours neither
            order = (False, True) if i % 2 == 0 else (True, False)
            for probes in order:
                took = takeover(cluster, probes)
                (probed if probes else bare).append(took)
                print(f"pair {i + 1}: takeover {'with probes' if probes else 'bare':11s} "
                      f"{took:6.2f} s", flush=True)
        cluster.close()
    mb, mp = statistics.median(bare), statistics.median(probed)
    print(f"bare (watcher only): {bare} median {mb:.2f} s")
    print(f"with SMB writer + console prober: {probed} median {mp:.2f} s")
    print(f"the probes' share of a takeover: {(mp - mb) / mb * 100:+.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
