"""The inventory the suites read (fixtures/access/inventory.py schema; no extra keys)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import yaml

from fixtures.access.fault_hooks import PAIRS
from fixtures.resources.hypervisor import DEMO_GUEST_BANNER
from lab import builds, config
from lab.config import LabNode
from lab.errors import LabError

PROFILES = ("article", "hardened")
MANAGERS = ("heartbeat", "pacemaker")


def fault_command(python: str, repo: Path, *args: str) -> str:
    """A self-contained shell command running the lab CLI from ``repo``."""
    cli = " ".join(shlex.quote(a) for a in (python, "-m", "lab", *args))
    return f"cd {shlex.quote(str(repo))} && {cli}"


def scan_host_key(address: str, namespace: str | None = config.NETNS, timeout: int = 10) -> str:
    """The node's ed25519 host key line (``ssh-ed25519 AAAA...``), read with ssh-keyscan inside
    ``namespace`` (the lab's) right after boot: a first contact on a network only this host
    reaches, so the suite's runs can pin it and stay hands-off (vagrant.inventory too)."""
    cmd = ["ssh-keyscan", "-T", str(timeout), "-t", "ed25519", address]
    if namespace:
        cmd = ["ip", "netns", "exec", namespace, *cmd]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{address}: ssh-keyscan failed: {exc}") from None
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == address and parts[1] == "ssh-ed25519":
            return f"{parts[1]} {parts[2]}"
    why = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
    raise LabError(f"{address}: ssh-keyscan found no ed25519 host key ({why})")


def node_entry(node: LabNode, key: Path, python: str, repo: Path,
               host_key: str | None = None, build: str = "heartbeat") -> dict[str, object]:
    """Inventory entry of one node; ``host_key`` pins its SSH host key; ``build`` (lab/
    builds.py) gives its host name and how the site reaches it."""
    ssh: dict[str, object] = {"user": "root", "port": 22, "key": str(key),
                              **builds.get(build).ssh}
    if host_key:
        ssh["host_key"] = host_key
    return {
        "name": builds.hostname(build, node),
        "address": node.address,
        "interface": "eth0",
        "preferred_primary": node.preferred_primary,
        "disk": "/dev/vdb",
        "serial": "/dev/ttyS1",
        "ssh": ssh,
        # every hook of the fault vocabulary (fixtures/access/fault_hooks.py) as the lab's command
        # `lab <verb> NODE <state>` (power_off -> `lab power node1 off`)
        "faults": {hook: fault_command(python, repo, pair.verb, node.name, state)
                   for pair in PAIRS for hook, state in zip(pair.hooks, pair.states,
                                                            strict=True)},
    }


def pacemaker_fencing(accel: str) -> dict[str, object]:
    """The lab's fencing settings for Pacemaker (pure): SBD on the disk both nodes share
    (lab/qemu.py) and, on TCG nodes, the longer priority-fencing-delay the fence race needs
    there (lab/config.py); the rest are the schema's defaults.

    >>> pacemaker_fencing("kvm")
    {'sbd_device': '/dev/disk/by-id/virtio-sbd'}
    >>> pacemaker_fencing("tcg")["priority_fencing_delay"]
    45
    """
    fencing: dict[str, object] = {"sbd_device": f"/dev/disk/by-id/virtio-{config.SBD_SERIAL}"}
    if accel == "tcg":
        fencing["priority_fencing_delay"] = config.TCG_PRIORITY_FENCING_DELAY_S
    return fencing


def build(key: Path, accel: str, profile: str = "hardened", python: str | None = None,
          repo: Path | None = None, budgets: dict[str, object] | None = None,
          provision: bool = True,
          host_keys: dict[str, str] | None = None,
          manager: str = "heartbeat", build: str | None = None) -> dict[str, object]:
    """The inventory as a dict (pure). ``budgets``: what lab/calibrate.py measured; a TCG
    lab must have it (no constant widens budgets), KVM keeps the defaults.
    ``provision``: False when the nodes were restored from a provisioned snapshot.
    ``host_keys``: node -> host key line (scan_host_key), pinned as the node's ssh.host_key.
    ``manager``: the cluster manager; Pacemaker fences with SBD on the disk both lab nodes
    share (lab/qemu.py), with a longer priority-fencing-delay on TCG nodes; the other
    fencing values are the schema's defaults. ``build`` (lab/builds.py; default: the
    manager's own): its names, access and declared values replace the lab's; its manager
    is ``manager``."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    if manager not in MANAGERS:
        raise ValueError(f"manager must be one of {MANAGERS}, not {manager!r}")
    if budgets is None:
        if accel == "tcg":
            raise ValueError("a TCG lab's budgets come from lab/calibrate.py")
        budgets = {"scale": 1.0}
    python = python or config.python_executable()
    repo = repo or config.REPO_ROOT
    inv: dict[str, object] = {
        "cluster": "lab",
        "profile": profile,
        "cluster_manager": manager,
        "disposable": True,
        "provision": provision,
        "netns": config.NETNS,
        "nodes": [node_entry(n, key, python, repo, (host_keys or {}).get(n.name),
                             build or manager) for n in config.NODES],
        "network": {
            "netmask": config.NETMASK,
            "virtual_ip": config.VIRTUAL_IP,
            "ping_node": config.HOST_ADDRESS,
            "time_server": config.HOST_ADDRESS,  # lab/timeserver.py
        },
    }
    if manager == "pacemaker":
        inv["fencing"] = pacemaker_fencing(accel)
    inv.update(builds.get(build or manager).inventory)
    # every lab build runs the demo guest: its console must say the guest's own banner
    inv["hypervisor"] = {**inv.get("hypervisor", {}), "console_banner": DEMO_GUEST_BANNER}
    inv["budgets"] = budgets
    return inv


def dump(inventory: dict[str, object]) -> str:
    """YAML text in the order the suites' docs show it."""
    return yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)


def write(inventory: dict[str, object], path: Path | None = None) -> Path:
    """Write atomically so a reader never sees half a file."""
    path = path or config.inventory_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dump(inventory))
    os.replace(tmp, path)
    return path


def load_raw(path: Path | None = None) -> dict[str, object]:
    """The inventory file as written (a mapping), for a rewrite that keeps its values."""
    data = yaml.safe_load((path or config.inventory_path()).read_text())
    if not isinstance(data, dict):
        raise ValueError("not a mapping")
    return data
