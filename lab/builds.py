"""What the lab's nodes are built into: the suite's own provisioning for one cluster
manager, a cluster built the way other people build one, or either reached the way real
sites allow it (SPEC §7).

A build's steps are a folder of shell scripts under ``lab/builds/<name>/``, each what an
admin types on a node while following a text (the article, a vendor's guide, a site's
access policy), never the suite's own templates: ``NN-WHO-what.sh``, run in name order, WHO
being ``both`` (node 1 then node 2), ``node1`` or ``node2``. A foreign build is built by
its steps alone; the others are then provisioned by the suite. Either way the suite reads
the cluster through the inventory the build declares.

>>> [b.name for b in BUILDS.values()]
['heartbeat', 'pacemaker', 'article-text', 'site-access', 'pcs']
>>> hostname("article-text", config.NODES[0]), hostname("heartbeat", config.NODES[0])
('HAdebian01', 'node1')
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lab import config, snapshot
from lab.config import LabNode
from lab.errors import LabError

STEPS_ROOT = Path(__file__).resolve().parent / "builds"
STEP_TIMEOUT_S = 1200.0  # the longest steps: DRBD's first sync, pcs restarting the cluster (TCG)


@dataclass(frozen=True)
class Build:
    name: str
    manager: str
    # lab node id -> the host name the build gives it (`uname -n`); absent: the id
    hostnames: Mapping[str, str] = field(default_factory=dict)
    # what the build's inventory declares beyond the lab's wiring (merged over it)
    inventory: Mapping[str, object] = field(default_factory=dict)
    ssh: Mapping[str, object] = field(default_factory=dict)  # each node's ssh, over the lab's
    provisioned: bool = True  # False: foreign, its steps alone build the cluster

    @property
    def foreign(self) -> bool:
        """Built by its own steps, never by the suite's provisioning."""
        return not self.provisioned

    @property
    def has_steps(self) -> bool:
        return self.steps_dir.is_dir()

    @property
    def steps_dir(self) -> Path:
        return STEPS_ROOT / self.name

    def steps_hash(self) -> str:
        """The version of its steps: part of its snapshot's key and of the built record."""
        return snapshot.tree_hash(self.steps_dir)


BUILDS: dict[str, Build] = {b.name: b for b in (
    Build("heartbeat", "heartbeat"),
    Build("pacemaker", "pacemaker"),
    # the article's own text, its names and values, its slips fixed (SPEC §5)
    Build("article-text", "heartbeat",
          hostnames={"node1": "HAdebian01", "node2": "HAdebian02"},
          inventory={"cluster": "article-text",
                     "drbd": {"resource": "user", "fstype": "ext3",
                              "mount_point": "/var/lib/vmware"},
                     "samba": {"shares": ["RaidOverIp"]},
                     "hypervisor": {"vms": ["reactos"], "console_port": 902}},
          provisioned=False),
    # the suite's Heartbeat cluster where root cannot log in: a sudo user, another SSH
    # port, FQDN host names
    Build("site-access", "heartbeat",
          hostnames={"node1": "ha1.cluster.example", "node2": "ha2.cluster.example"},
          inventory={"cluster": "site-access"},
          ssh={"user": "hadmin", "become": "sudo", "port": 2222}),
    # Corosync + Pacemaker set up with pcs as ClusterLabs' "Clusters from Scratch" does
    # (its names and ids, DRBD minor 1, xfs, corosync's defaults), fenced with fence_sbd:
    # the lab offers no other fence device
    Build("pcs", "pacemaker",
          hostnames={"node1": "pcmk-1", "node2": "pcmk-2"},
          inventory={"cluster": "mycluster",
                     "drbd": {"resource": "clusterdata", "device": "/dev/drbd1", "port": 7789,
                              "mount_point": "/srv/cluster", "fstype": "xfs"},
                     "samba": {"shares": ["data"]},
                     "hypervisor": {"vms": ["demo-vm"], "console_port": 902},
                     # what `pcs cluster setup` leaves to corosync 3.1 (corosync.conf(5)):
                     # token 3000 ms, consensus 1.2 x token; two nodes add no coefficient
                     "corosync": {"token": 3000, "consensus": 3600},
                     "fencing": {"method": "fence_sbd",
                                 "sbd_device": "/dev/disk/by-id/virtio-sbd",
                                 "watchdog_timeout": 10, "msgwait": 20,
                                 "priority_fencing_delay": 45}},
          provisioned=False),
)}


def get(name: str) -> Build:
    try:
        return BUILDS[name]
    except KeyError:
        raise LabError(f"unknown lab build {name!r} (one of {', '.join(BUILDS)})") from None


def hostname(build: str, node: LabNode) -> str:
    """The name ``node`` has under ``build`` (what the kernel command line gives it)."""
    return get(build).hostnames.get(node.name, node.name)


def steps(build: Build) -> list[tuple[str, list[str]]]:
    """(step file, lab node ids to run it on, in order); none for the suite's own builds.

    >>> [(s, who) for s, who in steps(get("article-text"))][:3]
    [('10-both-system.sh', ['node1', 'node2']), ('20-both-drbd.sh', ['node1', 'node2']), \
('30-node1-primary.sh', ['node1'])]
    """
    out: list[tuple[str, list[str]]] = []
    for path in sorted(build.steps_dir.glob("*.sh")):
        who = path.name.split("-")[1]
        ids = [n.name for n in config.NODES] if who == "both" else [who]
        if not set(ids) <= {n.name for n in config.NODES}:
            raise LabError(f"build step {path}: runs on {who!r}, not both/node1/node2")
        out.append((path.name, ids))
    return out


def built_record() -> Path:
    """Names the build the nodes' disks hold, once its steps have all run."""
    return config.state_root() / "built"


def _record(build: Build) -> str:
    # the steps' own hash: nodes built by an earlier version of the steps are not this build
    return f"{build.name} {build.steps_hash()}" if build.has_steps else build.name


def is_built(build: Build) -> bool:
    return config.read_record(built_record()) == _record(build)


def stale(build: Build) -> bool:
    """The nodes hold ``build`` as an earlier version of its steps made it."""
    held = config.read_record(built_record()) or ""
    return held.split(" ")[0] == build.name and held != _record(build)


def set_built(build: Build | None) -> None:
    config.write_record(built_record(), _record(build) if build else None)


def _secret() -> str:
    """The cluster's shared secret (authkeys), made once per lab, never printed."""
    path = config.state_root() / "build-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(20))
    return path.read_text().strip()


def environment() -> dict[str, str]:
    """What the steps get that an admin would have at hand: the shared secret, and the VM
    disk image (the lab's demo guest: its content is no configuration)."""
    from fixtures.provision.hypervisor import guest_boot_sector

    return {"AUTHKEY": _secret(), "GUEST_B64": base64.b64encode(guest_boot_sector()).decode()}


def _keep_output(build: Build, step: str, node_id: str,
                 proc: subprocess.CompletedProcess) -> Path:
    """A failed step's whole output, for the admin who reads why (the error is one line);
    private, as a step's tools may echo what they were given."""
    path = config.state_root() / "build-logs" / f"{build.name}.{step}.{node_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return path


def run(build: Build, ssh: Callable[[LabNode], Sequence[str]], log: Callable[[str], None],
        timeout: float = STEP_TIMEOUT_S) -> None:
    """Run the build's steps on the blank nodes, in order, each under ``timeout``; the
    first that fails ends the build with one line naming it, its node and what it said.
    ``ssh(node)`` is the command that runs a shell script read from stdin on ``node``."""
    env = environment()
    preamble = "set -eu\n" + "".join(f"export {k}='{v}'\n" for k, v in env.items())
    for name, ids in steps(build):
        script = preamble + (build.steps_dir / name).read_text()
        for node_id in ids:
            node = config.node_by_name(node_id)
            try:
                proc = subprocess.run([*ssh(node)], input=script, capture_output=True,
                                      text=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise LabError(f"build {build.name}: step {name} on {node_id} ran past "
                               f"{timeout:.0f} s") from None
            if proc.returncode != 0:
                said = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                kept = _keep_output(build, name, node_id, proc)
                raise LabError(f"build {build.name}: step {name} on {node_id} exited "
                               f"{proc.returncode}: {said} (its whole output: {kept})")
            log(f"build {build.name}: {name} done on {node_id}")
    set_built(build)
