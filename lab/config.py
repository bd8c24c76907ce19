"""Names, addresses and paths of the lab, in one place."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

NETNS = "halab"
BRIDGE = "habr0"
HOST_ADDRESS = "192.168.1.254"
NETMASK = 24
VIRTUAL_IP = "192.168.1.3"
NODE_MEMORY_MIB = 1024
NODE_CPUS = 1
DATA_DISK_BYTES = 1024**3
# The SBD disk both nodes share (Pacemaker fencing); sbd needs far less than 8 MiB.
SBD_DISK_BYTES = 8 * 1024**2
# Its serial: the guests see it as /dev/disk/by-id/virtio-<serial>.
SBD_SERIAL = "sbd"
# priority-fencing-delay on TCG nodes (s). The holder of the group must have fenced its
# peer before the peer's delayed fence fires, or both nodes reset. Measured on TCG: the
# holder, not the DC, requested its fence 5.5 s after the peer did, its device query took
# 10 s, and a fence through SBD reset its target 36 s after the request; at 15 s (the
# schema's default, for KVM or hardware) the pulled cable reset both nodes.
TCG_PRIORITY_FENCING_DELAY_S = 45
# Under TCG a node needs ~15-30 s to SSH; 180 s leaves room for a loaded host.
SSH_TIMEOUT_S = 180.0
# Root of the repository holding the lab package (the fault hooks cd there).
REPO_ROOT = Path(__file__).resolve().parent.parent
FILES_DIR = Path(__file__).resolve().parent / "files"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class LabNode:
    """One lab node: identity and wiring that never change between boots."""

    name: str
    index: int
    address: str
    mac: str
    tap: str
    preferred_primary: bool


NODES: tuple[LabNode, ...] = (
    LabNode("node1", 1, "192.168.1.1", "52:54:00:00:01:01", "hatap1", True),
    LabNode("node2", 2, "192.168.1.2", "52:54:00:00:01:02", "hatap2", False),
)


def node_by_name(name: str) -> LabNode:
    """Return the node called ``name`` or raise KeyError."""
    for node in NODES:
        if node.name == name:
            return node
    raise KeyError(name)


def cache_root() -> Path:
    """Image cache root (env HA_LAB_CACHE overrides)."""
    return Path(os.environ.get("HA_LAB_CACHE", "/var/cache/ha-lab"))


def state_root() -> Path:
    """Runtime state root (env HA_LAB_STATE overrides)."""
    return Path(os.environ.get("HA_LAB_STATE", "/var/lib/ha-lab"))


def read_record(path: Path) -> str | None:
    """A one-line state record (a build name, a snapshot key); None when absent or empty."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def write_record(path: Path, value: str | None) -> None:
    """Write a one-line state record, or remove it (``value`` None)."""
    if value is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")


def node_state_dir(node: LabNode) -> Path:
    """Per-node state dir: overlay, data disk, console log, pid file, monitor socket."""
    return state_root() / node.name


def sbd_disk_path() -> Path:
    """The SBD disk shared by both nodes (one file, attached to both QEMUs)."""
    return state_root() / "sbd.img"


def inventory_path() -> Path:
    """Where the suites read the inventory."""
    return state_root() / "inventory.yaml"


def python_executable() -> str:
    """Interpreter that runs the lab, used in the fault hook commands."""
    return sys.executable
