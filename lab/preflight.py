"""Checks before doing anything: root, tools, memory, disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab.errors import LabError

# tool -> Debian package that provides it
TOOLS: dict[str, str] = {
    "mmdebstrap": "mmdebstrap",
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "mke2fs": "e2fsprogs",
    "ip": "iproute2",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
MIN_MEMORY_BYTES = 3 * 1024**3
MIN_DISK_BYTES = 4 * 1024**3


def check_root(euid: int | None = None) -> None:
    """Namespaces, taps and mmdebstrap --mode=root need root."""
    if (os.geteuid() if euid is None else euid) != 0:
        raise LabError("must run as root (network namespace, taps, mmdebstrap)")


def check_tools(tools: dict[str, str] | None = None) -> None:
    """Every external tool present, else name the package to install."""
    for tool, package in (TOOLS if tools is None else tools).items():
        if shutil.which(tool) is None:
            raise LabError(f"missing tool {tool!r}: apt-get install {package}")


def mem_available(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemAvailable in bytes."""
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise LabError("cannot read MemAvailable from /proc/meminfo")


def check_memory(needed: int = MIN_MEMORY_BYTES) -> None:
    """Two 1 GiB nodes plus QEMU's translation caches need ~3 GiB."""
    avail = mem_available()
    if avail < needed:
        raise LabError(f"too little memory: {avail / 2**30:.1f} GiB available, "
                       f"{needed / 2**30:.0f} GiB needed")


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def check_disk(*dirs: Path, needed: int = MIN_DISK_BYTES) -> None:
    """Image build and overlays need room in the cache and state dirs."""
    for d in dirs:
        free = shutil.disk_usage(_existing_parent(d)).free
        if free < needed:
            raise LabError(f"too little disk space in {d}: {free / 2**30:.1f} GiB free, "
                           f"{needed / 2**30:.0f} GiB needed")
