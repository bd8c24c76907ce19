"""The observer's cost: HB-03's takeover (heartbeat stop on node 1 -> node 2 Primary,
mounted, holding the VIP) with and without the probes that run during the suite's
scenarios, interleaved on the same lab.

Usage (root): python bench/observer_cost.py [--pairs N] [--probes watcher,smb,console]
                                             [--steady SECONDS]
Takes /tmp/ha-vm.lock itself; needs the lab up and provisioned. About 10 min per pair
under TCG (takeover, failback, baseline), after 2 min of steady-state CPU measure.

The instrument, the same in both arms, costs nothing while it waits: `ip monitor
address` on node 2, blocked on a netlink socket until the kernel announces the virtual IP
(the last resource of the group, so node 2 then serves). The "bare" arm runs nothing
else; the "probes" arm runs every observer of the suite's scenarios: the never-two-owners
watcher (one process on each node sampling every 0.25 s, and the manager's log), the SMB writer
and the console prober. Their share is (probes - bare) / bare of the median takeover.
A takeover on TCG varies by tens of seconds from run to run, so the bench first measures
what the observers cost the nodes directly: each node's busy CPU share with and without
them while nothing fails.
"""

from __future__ import annotations

import argparse
import fcntl
import shlex
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures.access import netns  # noqa: E402
from fixtures.access.evidence import Timeline  # noqa: E402
from fixtures.access.inventory import DEFAULT_PATH, load  # noqa: E402
from fixtures.access.timing import wait_for  # noqa: E402
from fixtures.faults import baseline  # noqa: E402
from fixtures.managers.base import manager_for  # noqa: E402
from fixtures.managers.heartbeat import parsers as heartbeat  # noqa: E402
from fixtures.probes.console import ConsoleProber  # noqa: E402
from fixtures.probes.watch import ClusterWatcher  # noqa: E402
from fixtures.resources.cluster import Cluster  # noqa: E402
from fixtures.resources.samba import SmbWriter  # noqa: E402

VM_LOCK = "/tmp/ha-vm.lock"


# Prints "up" once the kernel announces the address; blocked in `read` until then. The
# FIFO lets the shell end `ip monitor` itself (a pipe would wait for its next event).
VIP_WAIT = """f=$(mktemp -u) && mkfifo "$f" || exit 1
echo listening
ip -o monitor address > "$f" & m=$!
while read -r line; do
  case "$line" in *" inet "{vip}/*) kill $m; rm -f "$f"; echo up; exit 0;; esac
done < "$f"
"""


OBSERVERS = ("watcher", "smb", "console")


def start_observers(cluster: Cluster, which: tuple[str, ...], timeline: Timeline) -> dict:
    """Start the observers named in ``which`` as a scenario runs them: {name: observer}."""
    inv = cluster.inventory
    running: dict = {}
    if "watcher" in which:
        running["watcher"] = ClusterWatcher(cluster, timeline).start()
    if "smb" in which:
        running["smb"] = SmbWriter(inv.network.virtual_ip, inv.samba.share,
                                   f"observer-cost-{uuid.uuid4().hex[:6]}", timeline,
                                   login=inv.samba.login()).start()
    if "console" in which:
        running["console"] = ConsoleProber(inv.network.virtual_ip,
                                           inv.hypervisor.console_port, timeline,
                                           inv.hypervisor.console_banner).start()
    return running


def node_busy(cluster: Cluster) -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies of each node's CPUs so far, from the first line of /proc/stat."""
    out = {}
    for node in cluster:
        fields = [int(x) for x in node.run("head -1 /proc/stat", timeout=60).stdout.split()[1:]]
        out[node.name] = (sum(fields) - fields[3] - fields[4], sum(fields))
    return out


def busy_share(cluster: Cluster, seconds: float) -> dict[str, float]:
    """Each node's busy share (%) of its CPU over ``seconds``."""
    before = node_busy(cluster)
    time.sleep(seconds)
    after = node_busy(cluster)
    return {n: 100 * (after[n][0] - before[n][0]) / max(1, after[n][1] - before[n][1])
            for n in before}


def steady_cost(cluster: Cluster, which: tuple[str, ...], seconds: float) -> None:
    """The nodes' CPU spent on the observers while nothing fails: each node's busy share
    with them minus without them, the arms interleaved twice. Node 1 is busy on its own
    (it runs the demo VM under TCG), node 2 is the one that takes over."""
    for round_ in (1, 2):
        idle = busy_share(cluster, seconds)
        running = start_observers(cluster, which, Timeline("observer-cost", time.time()))
        try:
            observed = busy_share(cluster, seconds)
        finally:
            for probe in running.values():
                probe.stop()
        print(f"steady {round_}: " + "; ".join(
            f"{n} busy {idle[n]:.1f} % -> {observed[n]:.1f} % ({observed[n] - idle[n]:+.1f})"
            for n in idle), flush=True)


def _log(cluster: Cluster) -> str:
    return shlex.quote(manager_for(cluster.inventory).log_path)


def log_lines(cluster: Cluster) -> dict[str, int]:
    """How many lines each node's heartbeat log has now."""
    return {n.name: int(n.run(f"wc -l < {_log(cluster)}", timeout=60, check=True).stdout)
            for n in cluster}


def steps_since(cluster: Cluster, since: dict[str, int]) -> list[tuple[str, int]]:
    """The handover's steps (fixtures.managers.heartbeat.parsers.handover_steps) in the lines
    both logs gained since ``since``; read after the takeover, so they cost it nothing."""
    def new_lines(node) -> list[str]:
        return node.run(f"tail -n +{since[node.name] + 1} {_log(cluster)}",
                        timeout=60).stdout.splitlines()

    def acquired() -> list[str] | None:
        lines = new_lines(cluster.node2)
        return lines if any("foreign resources acquired" in line for line in lines) else None

    # node 2 logs the end of its acquisition a second or two after the VIP is up
    acquiring = wait_for(acquired, 60, 2) or new_lines(cluster.node2)
    return heartbeat.handover_steps(new_lines(cluster.node1), acquiring)


def takeover(cluster: Cluster, probes: bool, which: tuple[str, ...] = OBSERVERS
             ) -> tuple[float, float | None, list[tuple[str, int]]]:
    """(seconds from `heartbeat stop` on node 1 to the VIP on node 2, the watcher's own
    figure when it ran, the handover's steps from heartbeat's logs); back at baseline
    after."""
    inv = cluster.inventory
    n1, n2 = cluster.node1, cluster.node2
    baseline.wait(cluster, timeout=300)
    lines_before = log_lines(cluster)
    seen: dict[str, float] = {}
    listening, up = threading.Event(), threading.Event()

    def on_line(t: float, line: str) -> None:
        seen.setdefault(line.strip(), t)
        (up if line.strip() == "up" else listening).set()

    # the address was validated at load: four numbers and dots, nothing a shell reads
    stream = n2.stream(VIP_WAIT.format(vip=inv.network.virtual_ip), on_line, max_seconds=600)
    timeline = Timeline("observer-cost", time.time())
    running: dict = {}
    try:
        if not listening.wait(30):
            sys.exit("observer_cost: node2's address monitor did not start in 30 s")
        running = start_observers(cluster, which if probes else (), timeline)
        watcher = running.get("watcher")
        if running:
            time.sleep(2)  # the probes settle into their rhythm, as in a scenario
        cpu0, t0 = time.process_time(), time.time()
        heartbeat.stop(n1)
        if not up.wait(max(1.0, t0 + 300 - time.time())):
            sys.exit("observer_cost: node2 never held the VIP within 300 s")
        # this process's CPU (every thread) over the takeover: on a 2-core host whose
        # cores run the TCG vCPUs, what the host side of the observers takes from the nodes
        host_cpu = time.process_time() - cpu0
        watched = None
        if watcher is not None:
            watched = wait_for(lambda: watcher.first(n2.name, lambda s: s.serving, t0), 30)
    finally:
        for probe in running.values():
            probe.stop()
        stream.close()
    steps = steps_since(cluster, lines_before)
    heartbeat.start(n1)
    baseline.wait(cluster, timeout=300)
    took = seen["up"] - t0
    print(f"  host CPU of the suite's process during the takeover: {host_cpu:.1f} s"
          f" ({host_cpu / took * 100:.0f} % of one core)", flush=True)
    if steps:
        print("  steps (heartbeat's log, whole seconds): "
              + ", ".join(f"{name} {sec}" for name, sec in steps), flush=True)
    return round(took, 2), None if watched is None else round(watched - t0, 2), steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--steady", type=float, default=30,
                    help="seconds of each arm of the steady-state CPU measure (0: skip it)")
    ap.add_argument("--probes", default=",".join(OBSERVERS),
                    help=f"the observers of the probes arm, among {','.join(OBSERVERS)}")
    args = ap.parse_args()
    which = tuple(p for p in args.probes.split(",") if p)
    if not which or set(which) - set(OBSERVERS):
        sys.exit(f"observer_cost: --probes takes some of {','.join(OBSERVERS)}")
    bare: list[float] = []
    probed: list[float] = []
    steps: dict[bool, list[dict[str, int]]] = {False: [], True: []}
    with open(VM_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inv = load(DEFAULT_PATH)
        netns.enter(inv.netns)
        cluster = Cluster(inv)
        if args.steady > 0:
            baseline.wait(cluster, timeout=300)
            steady_cost(cluster, which, args.steady)
        for i in range(args.pairs):
            # alternate which arm goes first, so a drift of the host favours neither
            order = (False, True) if i % 2 == 0 else (True, False)
            for probes in order:
                took, watched, seen_steps = takeover(cluster, probes, which)
                (probed if probes else bare).append(took)
                if seen_steps:
                    steps[probes].append(dict(seen_steps))
                print(f"pair {i + 1}: takeover {'with probes' if probes else 'bare':11s} "
                      f"{took:6.2f} s"
                      + (f" (the watcher saw node2 serve at {watched:.2f} s)" if watched else ""),
                      flush=True)
        cluster.close()
    if not bare:
        return 0
    mb, mp = statistics.median(bare), statistics.median(probed)
    print(f"bare (no observer, VIP event only): {bare} median {mb:.2f} s")
    print(f"with {' + '.join(which)}: {probed} median {mp:.2f} s")
    print(f"the observers' share of a takeover: {(mp - mb) / mb * 100:+.1f} %")
    if steps[False] and steps[True]:
        print("where it went, median seconds per step (bare -> with the observers):")
        for name in steps[False][0]:
            b = statistics.median(s.get(name, 0) for s in steps[False])
            o = statistics.median(s.get(name, 0) for s in steps[True])
            print(f"  {name:34s} {b:5.1f} -> {o:5.1f} ({o - b:+.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
