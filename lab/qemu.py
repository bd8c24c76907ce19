"""QEMU for one node: command line, disks, start/stop, pid files and the QMP monitor."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fixtures.access.fault_hooks import DISK, LINK, HookPair
from lab import builds, cable, config, netns, snapshot
from lab.config import LabNode
from lab.errors import LabError
from lab.image import Image

QEMU = "qemu-system-x86_64"
NETDEV_ID = "lan"  # the id `set_link` acts on
SBD_PCI_SLOT = "0x10"
# The DRBD backing disk (the guest's vdb) as named block nodes, for `set_disk`: the drive
# (its BlockBackend), its raw format node and the file node under it; a failed disk is a
# blkdebug node over that file node, swapped in as the raw node's child.
DATA_DRIVE = "data"
DATA_FORMAT_NODE = "data-format"
DATA_FILE_NODE = "data-file"
DATA_FAILED_NODE = "data-failed"
# What fails: every read returns EIO, as from a disk whose media can no longer be read;
# writes and flushes still land. A disk failing writes too fails DRBD's metadata writes,
# and DRBD 8.4 detaches on those whatever its on-io-error says (drbd_int.h,
# __drbd_chk_io_error_: only data errors are passed on): failing reads is where the
# setting decides, detach (Diskless) against pass_on (kept attached, Inconsistent).
# Flushes passing also lets the swap back, which flushes the node, succeed.
DISK_READ_ERRORS = [{"event": "read_aio", "iotype": "read", "errno": 5}]


@dataclass(frozen=True)
class NodePaths:
    """Files of one node under the state dir."""

    directory: Path

    @property
    def overlay(self) -> Path:
        return self.directory / "root.qcow2"

    @property
    def data_disk(self) -> Path:
        return self.directory / "data.raw"

    @property
    def pidfile(self) -> Path:
        return self.directory / "qemu.pid"

    @property
    def qmp(self) -> Path:
        return self.directory / "qmp.sock"

    @property
    def console(self) -> Path:
        return self.directory / "console.log"

    @property
    def accel_file(self) -> Path:
        return self.directory / "accel"


def paths(node: LabNode) -> NodePaths:
    """Paths of ``node``."""
    return NodePaths(config.node_state_dir(node))


def accel_args(accel: str) -> list[str]:
    """Accelerator options; TCG with a bounded translation cache keeps RSS ~1 GB."""
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if accel == "tcg":
        return ["-accel", "tcg,thread=multi,tb-size=256"]
    raise ValueError(f"unknown accelerator {accel!r}")


def kernel_cmdline(node: LabNode) -> str:
    """Kernel command line: root, serial console, eth0 naming and the node identity (its
    host name as the lab's build names it)."""
    name = builds.hostname(snapshot.lab_build(), node)
    return " ".join([
        "root=/dev/vda", "rw", "console=ttyS0,115200", "net.ifnames=0", "biosdevname=0",
        "panic=-1", f"systemd.hostname={name}",
        f"halab.hostname={name}", f"halab.ip={node.address}/{config.NETMASK}",
    ])


def serial_cable_chardev(node: LabNode) -> str:
    """The node's end of the null-modem cable: a client of the cable relay
    (lab/cable.py), reconnecting by itself after a power cycle."""
    return f"socket,id=cable,path={cable.socket_path(node)},reconnect=1"


def sbd_disk_args(sbd_disk: Path) -> list[str]:
    """The SBD disk, attached to both nodes: share-rw lets two QEMUs write one file; with
    writethrough both go through the host's page cache, which keeps them coherent (no
    O_DIRECT, which this host's file system may refuse)."""
    return [
        "-drive", f"file={sbd_disk},if=none,id=sbd,format=raw,cache=writethrough",
        # a PCI slot after the auto-placed -drive if=virtio ones: the guest names virtio
        # disks in slot order and root (vda) and the DRBD disk (vdb) must keep their names
        "-device", f"virtio-blk-pci,drive=sbd,serial={config.SBD_SERIAL},share-rw=on,"
                   f"addr={SBD_PCI_SLOT}",
    ]


def data_disk_args(node_paths: NodePaths) -> list[str]:
    """The DRBD backing disk: auto-placed after the root disk (the guest's vdb), its nodes
    named for `set_disk`, and an I/O error reported to the guest (not a paused VM)."""
    return ["-drive", f"file={node_paths.data_disk},if=virtio,format=raw,cache=writeback,"
                      f"id={DATA_DRIVE},node-name={DATA_FORMAT_NODE},"
                      f"file.node-name={DATA_FILE_NODE},rerror=report,werror=report"]


def node_accel(node: LabNode, default: str) -> str:
    """The accelerator ``node`` was last started with (its state file), else ``default``."""
    try:
        return paths(node).accel_file.read_text().strip() or default
    except OSError:
        return default


def watchdog_args() -> list[str]:
    """The emulated hardware watchdog sbd pets (/dev/watchdog): a node that stops petting
    it is reset, like a fenced node."""
    return ["-device", "i6300esb", "-action", "watchdog=reset"]


def command_line(node: LabNode, image: Image, accel: str, node_paths: NodePaths,
                 sbd_disk: Path | None = None) -> list[str]:
    """Full QEMU command line for ``node`` (pure: builds, does not run)."""
    p = node_paths
    return [
        QEMU,
        "-name", f"halab-{node.name},process=halab-{node.name}",
        "-machine", "q35",
        *accel_args(accel),
        "-m", str(config.NODE_MEMORY_MIB),
        "-smp", str(config.NODE_CPUS),
        "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
        "-kernel", str(image.kernel),
        "-initrd", str(image.initrd),
        "-append", kernel_cmdline(node),
        # The overlay holds qcow2 metadata: writeback honours guest flushes, so a
        # SIGKILL (pulled plug) cannot corrupt it.
        "-drive", f"file={p.overlay},if=virtio,format=qcow2,cache=writeback,discard=unmap",
        *data_disk_args(p),
        # attached to both nodes always: harmless where Heartbeat runs
        *sbd_disk_args(sbd_disk or config.sbd_disk_path()),
        *watchdog_args(),
        "-netdev", f"tap,id={NETDEV_ID},ifname={node.tap},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev={NETDEV_ID},mac={node.mac}",
        "-chardev", f"file,id=console,path={p.console},append=on",
        "-serial", "chardev:console",
        "-chardev", serial_cable_chardev(node),
        "-serial", "chardev:cable",
        "-qmp", f"unix:{p.qmp},server=on,wait=off",
        "-device", "virtio-rng-pci",
        "-pidfile", str(p.pidfile),
        "-daemonize",
    ]


def ensure_disks(node: LabNode, image: Image) -> None:
    """Create the overlay on the base image and the blank 1 GiB data disk if missing."""
    p = paths(node)
    p.directory.mkdir(parents=True, exist_ok=True)
    if p.overlay.exists() and _backing_file(p.overlay) != str(image.base):
        # The base changed (new recipe): an overlay on the old base is meaningless.
        p.overlay.unlink()
    if not p.overlay.exists():
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image.base),
             str(p.overlay)],
            check=True, capture_output=True,
        )
    if not p.data_disk.exists():
        with p.data_disk.open("wb") as fh:
            fh.truncate(config.DATA_DISK_BYTES)


def ensure_shared_disks() -> None:
    """Create the blank SBD disk both nodes share if missing."""
    path = config.sbd_disk_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.truncate(config.SBD_DISK_BYTES)


def remove_shared_disks() -> None:
    """Delete the SBD disk (blank on next start); only with both nodes off."""
    config.sbd_disk_path().unlink(missing_ok=True)


def _backing_file(overlay: Path) -> str | None:
    proc = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(overlay)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout).get("backing-filename")


def remove_disks(node: LabNode) -> None:
    """Delete overlay and data disk (blank node on next start)."""
    p = paths(node)
    for f in (p.overlay, p.data_disk):
        f.unlink(missing_ok=True)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def is_our_qemu(pid: int, node: LabNode) -> bool:
    """True when ``pid`` is this node's QEMU (guards against recycled pids)."""
    args = _cmdline(pid)
    return bool(args) and Path(args[0]).name == QEMU and str(paths(node).pidfile) in args


def find_pids(node: LabNode) -> list[int]:
    """Pids of this node's QEMU: from the pid file, else by scanning /proc."""
    pids: set[int] = set()
    try:
        pid = int(paths(node).pidfile.read_text().strip())
        if is_our_qemu(pid, node):
            pids.add(pid)
    except (OSError, ValueError):
        pass
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and is_our_qemu(int(entry.name), node):
            pids.add(int(entry.name))
    return sorted(pids)


def running_pid(node: LabNode) -> int | None:
    """The node's QEMU pid, or None when it is off."""
    pids = find_pids(node)
    return pids[0] if pids else None


def start(node: LabNode, image: Image, accel: str) -> int:
    """Power the node on (QEMU daemonizes inside the namespace); return its pid."""
    existing = running_pid(node)
    if existing:
        return existing
    p = paths(node)
    for sock in (p.qmp, cable.socket_path(node)):
        # sun_path holds 107 bytes; a deep HA_LAB_STATE would fail inside QEMU obscurely.
        if len(str(sock).encode()) > 107:
            raise LabError(f"socket path too long for a unix socket: {sock} (shorten "
                           "HA_LAB_STATE)")
    ensure_disks(node, image)
    ensure_shared_disks()
    cable.start()  # the node's ttyS1 connects to it (idempotent)
    p.pidfile.unlink(missing_ok=True)
    p.qmp.unlink(missing_ok=True)
    with p.console.open("a") as fh:
        fh.write(f"\n===== lab: power on {node.name} ({accel}) at {time.ctime()} =====\n")
    cmd = netns.wrap(command_line(node, image, accel, p))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"QEMU for {node.name} did not start: {proc.stderr.strip()}")
    p.accel_file.write_text(accel + "\n")
    pid = running_pid(node)
    if pid is None:
        raise LabError(f"QEMU for {node.name} started but is gone; see {p.console}")
    return pid


def kill(node: LabNode, timeout: float = 10.0) -> bool:
    """Pull the plug (SIGKILL) and wait until the process is gone; True if one ran."""
    pids = find_pids(node)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() and is_our_qemu(pid, node) for pid in pids):
        if time.monotonic() > deadline:
            raise LabError(f"QEMU of {node.name} (pids {pids}) survived SIGKILL")
        time.sleep(0.05)
    paths(node).pidfile.unlink(missing_ok=True)
    paths(node).qmp.unlink(missing_ok=True)
    return bool(pids)


def qmp(node: LabNode, command: str, arguments: dict[str, object] | None = None,
        timeout: float = 5.0) -> object:
    """Run one QMP command on the node's monitor and return its result."""
    sock_path = paths(node).qmp
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(sock_path))
        except OSError as exc:
            raise LabError(f"{node.name}: QEMU monitor {sock_path} unreachable ({exc}); "
                           "is the node on?") from None
        reader = sock.makefile("r")

        def reply() -> dict[str, object]:
            while True:
                msg = json.loads(reader.readline())
                if "event" not in msg:  # events may interleave with replies
                    return msg

        reply()  # greeting
        sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        reply()
        msg: dict[str, object] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        sock.sendall(json.dumps(msg).encode() + b"\n")
        answer = reply()
    if "error" in answer:
        raise LabError(f"{node.name}: QMP {command}: {answer['error']}")
    return answer.get("return")


def set_link(node: LabNode, up: bool) -> None:
    """Plug or unplug the node's network cable (the guest sees carrier change)."""
    qmp(node, "set_link", {"name": NETDEV_ID, "up": up})


def set_disk(node: LabNode, failed: bool) -> None:
    """Fail the node's DRBD backing disk (DISK_READ_ERRORS), or give it back as it was:
    the raw node's file child swapped for the blkdebug node or back (blockdev-reopen,
    QEMU >= 6.1). Either is idempotent; the guest keeps its device all along."""
    found = qmp(node, "query-named-block-nodes")
    names = {n["node-name"] for n in found} if isinstance(found, list) else set()
    if DATA_FORMAT_NODE not in names:
        raise LabError(f"{node.name}: its QEMU names no block node {DATA_FORMAT_NODE!r} (started "
                       "by an older lab): python -m lab down, then up")
    if failed and DATA_FAILED_NODE not in names:
        qmp(node, "blockdev-add", {"driver": "blkdebug", "node-name": DATA_FAILED_NODE,
                                   "image": DATA_FILE_NODE, "inject-error": DISK_READ_ERRORS})
    child = DATA_FAILED_NODE if failed else DATA_FILE_NODE
    qmp(node, "blockdev-reopen", {"options": [
        {"driver": "raw", "node-name": DATA_FORMAT_NODE, "file": child}]})
    if not failed and DATA_FAILED_NODE in names:
        qmp(node, "blockdev-del", {"node-name": DATA_FAILED_NODE})


@dataclass(frozen=True)
class Toggle:
    """A hard fault QEMU sets or takes back on a running node through its monitor."""

    help: str  # the lab command's help
    set: Callable[[LabNode, bool], None]  # True: the fault in place; False: undone


# The faults `lab <verb> NODE <state>` toggles, by hook pair of the fault vocabulary
# (fixtures/access/fault_hooks.py); the power pair is the lab's own command (it starts QEMU)
TOGGLES: dict[HookPair, Toggle] = {
    LINK: Toggle("plug or unplug a node's network cable",
                 lambda node, on: set_link(node, up=not on)),
    DISK: Toggle("fail a node's DRBD backing disk (reads return I/O errors) or restore it",
                 lambda node, on: set_disk(node, failed=on)),
}


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
