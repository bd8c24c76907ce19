"""Defence in depth: every inventory value that reaches a node's shell is quoted.

Hostile values (the issue's `RaidOverIP; touch /tmp/x`, `/dev/sdb; rm -rf /`, `$(id)`,
backticks, newlines, quote breakouts) are put in every inventory field at once, the
command builders run against a recording fake node (nothing runs anywhere), and every
recorded command and every rendered shell script must carry each hostile value inside
single quotes only: a shell reads it as one word and runs none of it.
"""

from __future__ import annotations

import pytest

from fixtures.access.evidence import Timeline
from fixtures.access.inventory import Inventory
from fixtures.access.lock import ClusterLock
from fixtures.access.node import Result, quoted
from fixtures.faults import baseline
from fixtures.managers.heartbeat import parsers as heartbeat
from fixtures.probes.watch import ClusterWatcher
from fixtures.provision import drbd as prov_drbd
from fixtures.provision import hypervisor as prov_hypervisor
from fixtures.provision import samba as prov_samba
from fixtures.provision import system as prov_system
from fixtures.provision.context import Context
from fixtures.provision.templates import render
from fixtures.resources.cluster import Cluster
from fixtures.resources.hypervisor import driver_for
from fixtures.scenarios.engine import Run
from fixtures.scenarios.records import RoleFlip
from fixtures.scenarios.registry import SCENARIOS

MARK = "PWNED"
HOSTILE = [
    f"RaidOverIP; touch /tmp/{MARK}",
    f"/dev/sdb; rm -rf / #{MARK}",
    f"$(touch /tmp/{MARK})",
    f"`touch /tmp/{MARK}`",
    f"r0\ntouch /tmp/{MARK}",
    f"x'; touch /tmp/{MARK}; echo '",
    f'x"; touch /tmp/{MARK}; echo "',
    f"a && touch /tmp/{MARK} | cat > /etc/{MARK}",
]

PROC_DRBD = """version: 8.4.11 (api:1/proto:86-101)
 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
"""


def unquoted(command: str, mark: str = MARK) -> list[int]:
    """Offsets of ``mark`` in ``command`` that a POSIX shell would not read as literal
    text inside single quotes (unquoted, double-quoted or after a backslash)."""
    bad, state, i = [], "none", 0
    while i < len(command):
        c = command[i]
        if state == "single":
            if c == "'":
                state = "none"
        elif c == "\\":
            i += 1  # the escaped character is literal: not ours to judge, skip it
        elif state == "double":
            if c == '"':
                state = "none"
        elif c == "'":
            state = "single"
        elif c == '"':
            state = "double"
        if command.startswith(mark, i) and state != "single":
            bad.append(i)
        i += 1
    return bad


def test_the_checker_flags_what_a_shell_would_run():
    assert unquoted(f"mountpoint -q {HOSTILE[0]}")
    assert unquoted(f'echo "{HOSTILE[2]}"')  # double quotes still run $(...)
    assert unquoted("echo 'x'; touch /tmp/PWNED; echo ''")  # a single-quote breakout
    assert not unquoted("mountpoint -q 'RaidOverIP; touch /tmp/PWNED'")
    assert not unquoted("echo 'x'\"'\"'; touch /tmp/PWNED'")  # shlex.quote of a quote


class FakeNode:
    """Records commands; answers like a healthy node so the builders go all the way."""

    def __init__(self, spec):
        self.spec, self.name, self.address = spec, spec.name, spec.address
        self.commands: list[str] = []
        self.heartbeat = True
        self.mounted = True

    def run(self, command: str, *args: object, timeout: float | None = None,
            check: bool = False, stdin=None, record: bool = True) -> Result:
        command = quoted(command, *args)  # the real node's quoting of its arguments
        self.commands.append(command)
        out, status = "", 0
        if command == "cat /proc/drbd" or command.startswith("drbdsetup events2"):
            out = PROC_DRBD  # a drbd-utils without events2: /proc/drbd answers
        elif command.startswith("drbdadm sh-minor"):
            out = "0\n"
        elif command.startswith("pidof heartbeat"):
            status = 0 if self.heartbeat else 1
        elif command.startswith("systemctl stop heartbeat"):
            self.heartbeat = False
        elif command.startswith("systemctl start heartbeat"):
            self.heartbeat = True
        elif command.startswith("mountpoint -q"):
            status = 0 if self.mounted else 1
        elif command.startswith("blockdev --getsize64"):
            out = "1048576"
        elif command == "uname -n":
            out = "another-name"
        elif command.startswith("stat -c %Y"):
            status = 3  # the lock: "no lock there"
        elif "set -C" in command:
            out = "taken"
        return Result(command, status, out, "", 0.0)

    def reachable(self, timeout: float = 5.0) -> bool:
        return True

    def put(self, path: str, content, mode: int = 0o644, timeout: float = 30) -> bool:
        return False  # node.put quotes its path itself (fixtures/access/node.py)

    def disconnect(self) -> None:
        pass


def _hostile_inventory(value: str) -> Inventory:
    inv = Inventory.model_validate({
        "cluster": "lab", "disposable": True,
        "nodes": [{"name": "node1", "address": "192.168.1.1", "ssh": {"key": "/k"}},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {"key": "/k"}}]})
    # model_copy skips validation: the load-time refusal is another layer, not this one
    nodes = tuple(n.model_copy(update={"name": f"{value}{i}", "interface": value, "disk": value})
                  for i, n in enumerate(inv.nodes))
    return inv.model_copy(update={
        "cluster": value,
        "nodes": nodes,
        "drbd": inv.drbd.model_copy(update={"resource": value, "device": value,
                                            "mount_point": value, "fstype": value}),
        "samba": inv.samba.model_copy(update={"shares": (value,)}),
        "hypervisor": inv.hypervisor.model_copy(update={"vms": (value,)}),
    })


def _cluster(inv: Inventory) -> Cluster:
    cluster = Cluster.__new__(Cluster)  # the real methods, over fake nodes
    cluster.inventory = inv
    cluster.node1, cluster.node2 = FakeNode(inv.nodes[0]), FakeNode(inv.nodes[1])
    cluster.nodes = (cluster.node1, cluster.node2)
    cluster._drbd = {}
    return cluster


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_no_command_carries_an_inventory_value_unquoted(value, monkeypatch):
    monkeypatch.setattr(heartbeat.time, "sleep", lambda s: None)
    inv = _hostile_inventory(value)
    cluster = _cluster(inv)
    n1, n2 = cluster.node1, cluster.node2
    hv = driver_for(inv)

    baseline.problems(cluster)
    baseline._settle_split_brain(cluster, log=lambda m: None)
    heartbeat.group_holdings(cluster, hv)
    hv.boot_count(n1)
    hv.state(n1)
    hv.running_on(n1)
    hv.definition(n1, value)
    hv.kept_definitions(n1, n2, value)
    run = Run(cluster, log=lambda m: None)
    run.write_node_file(n1, "test1.txt")
    run.read_node_file(n2, "test1.txt")
    SCENARIOS["role_flip"].body(run, RoleFlip(Timeline("flip", 0.0)))
    ClusterLock(n1, inv.cluster).acquire()
    ctx = Context(cluster)
    ctx.secret("drbd", f"/etc/drbd.d/{inv.drbd.resource}.res", r"x(y)")
    prov_system.apply(ctx)
    prov_drbd.apply(ctx)
    prov_drbd._initial_sync(ctx)
    for mounted in (True, False):  # False: provisioning mounts the file system itself
        n1.mounted = n2.mounted = mounted
        prov_samba.apply(ctx)
        prov_hypervisor.apply(ctx)
    scripts = {
        "watch.sh": ClusterWatcher(cluster, Timeline("t", 0.0)).script(n1),
        "vmstart": render("resource.d-vmstart.j2", **ctx.variables(n1, stop_grace=3)),
    }

    commands = n1.commands + n2.commands
    reached = [c for c in commands if MARK in c]
    assert len(reached) > 20, "the hostile value did not reach the command builders"
    bad = [c for c in commands if unquoted(c)]
    assert not bad, "unquoted inventory value in:\n" + "\n".join(bad)
    for name, text in scripts.items():
        assert MARK in text, f"{name} does not use the inventory value"
        # whole-line comments may hold apostrophes; a newline in a value spans lines
        code = "\n".join(line for line in text.splitlines()
                         if not line.lstrip().startswith("#"))
        assert not unquoted(code), f"{name}: unquoted inventory value in:\n{code}"
