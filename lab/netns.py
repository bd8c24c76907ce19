"""The lab's private network: namespace, bridge and taps, with no route out."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab import config
from lab.errors import LabError


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def exists() -> bool:
    """True when the namespace exists."""
    return Path("/run/netns", config.NETNS).exists()


def _link_exists(name: str) -> bool:
    return _ip("-n", config.NETNS, "link", "show", name, check=False).returncode == 0


def ensure() -> None:
    """Create what is missing of namespace, bridge and taps (idempotent)."""
    ns = config.NETNS
    if not exists():
        _ip("netns", "add", ns)
    _ip("-n", ns, "link", "set", "lo", "up")
    if not _link_exists(config.BRIDGE):
        # STP off and no forward delay: ports forward at once after a power on.
        _ip("-n", ns, "link", "add", config.BRIDGE, "type", "bridge",
            "stp_state", "0", "forward_delay", "0")
    addr = f"{config.HOST_ADDRESS}/{config.NETMASK}"
    shown = _ip("-n", ns, "-o", "addr", "show", "dev", config.BRIDGE).stdout
    if addr not in shown:
        _ip("-n", ns, "addr", "add", addr, "dev", config.BRIDGE)
    _ip("-n", ns, "link", "set", config.BRIDGE, "up")
    for node in config.NODES:
        if not _link_exists(node.tap):
            _ip("-n", ns, "tuntap", "add", "dev", node.tap, "mode", "tap")
        _ip("-n", ns, "link", "set", node.tap, "master", config.BRIDGE)
        _ip("-n", ns, "link", "set", node.tap, "up")


def remove() -> None:
    """Delete taps, bridge and namespace; missing pieces are fine."""
    if not exists():
        return
    for name in [n.tap for n in config.NODES] + [config.BRIDGE]:
        if _link_exists(name):
            _ip("-n", config.NETNS, "link", "del", name, check=False)
    _ip("netns", "del", config.NETNS)


def leftovers() -> list[str]:
    """Lab network objects still present (for checks after ``down``)."""
    found = []
    if exists():
        found.append(f"netns {config.NETNS}")
    # Taps or bridge that escaped into the root namespace would show here.
    root_links = _ip("-o", "link", "show", check=False).stdout
    for name in [n.tap for n in config.NODES] + [config.BRIDGE]:
        if f": {name}:" in root_links or f": {name}@" in root_links:
            found.append(f"link {name}")
    return found


def wrap(cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` so that it runs inside the lab namespace."""
    return ["ip", "netns", "exec", config.NETNS, *cmd]
