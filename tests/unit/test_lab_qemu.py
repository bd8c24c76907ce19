"""QEMU command line of a lab node, and its disk fault on a real QEMU."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from lab import config, qemu, snapshot
from lab.errors import LabError
from lab.image import Image

IMG = Image(Path("/cache/h1"), "h1")


def _cmd(name: str, accel: str = "tcg") -> list[str]:
    node = config.node_by_name(name)
    return qemu.command_line(node, IMG, accel, qemu.NodePaths(Path(f"/state/{name}")))


def _opt(cmd: list[str], flag: str) -> list[str]:
    return [cmd[i + 1] for i, a in enumerate(cmd) if a == flag]


def test_resources_and_tcg() -> None:
    cmd = _cmd("node1")
    assert cmd[0] == "qemu-system-x86_64"
    assert _opt(cmd, "-m") == ["1024"] and _opt(cmd, "-smp") == ["1"]
    assert _opt(cmd, "-accel") == ["tcg,thread=multi,tb-size=256"]
    assert "-daemonize" in cmd and _opt(cmd, "-pidfile") == ["/state/node1/qemu.pid"]


def test_kvm() -> None:
    assert _opt(_cmd("node1", "kvm"), "-accel") == ["kvm"]
    with pytest.raises(ValueError):
        _cmd("node1", "xen")


def test_direct_kernel_boot_and_identity(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path))  # a lab with no build record
    cmd = _cmd("node2")
    assert _opt(cmd, "-kernel") == ["/cache/h1/vmlinuz"]
    assert _opt(cmd, "-initrd") == ["/cache/h1/initrd.img"]
    append = _opt(cmd, "-append")[0].split()
    for word in ("root=/dev/vda", "console=ttyS0,115200", "net.ifnames=0",
                 "halab.hostname=node2", "halab.ip=192.168.1.2/24"):
        assert word in append


def test_the_build_names_the_node(tmp_path, monkeypatch) -> None:
    """lab/builds.py: a build that names its nodes otherwise boots them with that name."""
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path))
    snapshot.set_lab_build("article-text")
    append = _opt(_cmd("node2"), "-append")[0].split()
    assert {"halab.hostname=HAdebian02", "systemd.hostname=HAdebian02"} <= set(append)


def test_disks_in_order_vda_then_vdb() -> None:
    drives = _opt(_cmd("node1"), "-drive")
    assert drives[0].startswith("file=/state/node1/root.qcow2,if=virtio,format=qcow2")
    assert drives[1].startswith("file=/state/node1/data.raw,if=virtio,format=raw")


def test_network_tap_and_mac() -> None:
    cmd = _cmd("node2")
    assert _opt(cmd, "-netdev") == ["tap,id=lan,ifname=hatap2,script=no,downscript=no"]
    assert "virtio-net-pci,netdev=lan,mac=52:54:00:00:01:02" in _opt(cmd, "-device")


def test_sbd_disk_shared_by_both_nodes() -> None:
    sbd = Path("/state/sbd.img")
    n1 = qemu.command_line(config.NODES[0], IMG, "tcg", qemu.NodePaths(Path("/state/node1")),
                           sbd)
    n2 = qemu.command_line(config.NODES[1], IMG, "tcg", qemu.NodePaths(Path("/state/node2")),
                           sbd)
    for cmd in (n1, n2):
        # one file for both, through the host page cache (no O_DIRECT, cache coherent)
        assert "file=/state/sbd.img,if=none,id=sbd,format=raw,cache=writethrough" in _opt(
            cmd, "-drive")
        device = next(d for d in _opt(cmd, "-device") if "drive=sbd" in d).split(",")
        # share-rw: two QEMUs write it; serial sbd: /dev/disk/by-id/virtio-sbd in the guest
        assert device[0] == "virtio-blk-pci"
        assert {"share-rw=on", "serial=sbd", f"addr={qemu.SBD_PCI_SLOT}"} <= set(device)
    # the default path is the lab state dir's
    drives = _opt(_cmd("node1"), "-drive")
    assert any(d.startswith(f"file={config.sbd_disk_path()},") for d in drives)


def test_sbd_disk_after_root_and_data_disks() -> None:
    # virtio disks are named in PCI slot order: the SBD disk's explicit slot must come after
    # the auto-placed root and data disks (QEMU gives those the lowest free slots)
    assert int(qemu.SBD_PCI_SLOT, 16) >= 0x10
    drives = _opt(_cmd("node1"), "-drive")
    assert [d.split(",")[0] for d in drives][:2] == [
        "file=/state/node1/root.qcow2", "file=/state/node1/data.raw"]


def test_watchdog_resets_the_node() -> None:
    cmd = _cmd("node2")
    assert "i6300esb" in _opt(cmd, "-device")
    assert _opt(cmd, "-action") == ["watchdog=reset"]


def test_serial_ports_console_then_cable() -> None:
    n1, n2 = _cmd("node1"), _cmd("node2")
    assert _opt(n1, "-serial") == ["chardev:console", "chardev:cable"]
    assert "file,id=console,path=/state/node1/console.log,append=on" in _opt(n1, "-chardev")
    # each node is a client of the cable relay, reconnecting after a power cycle
    assert any(o.startswith("socket,id=cable,path=") and o.endswith("cable-node1.sock,reconnect=1")
               for o in _opt(n1, "-chardev"))
    assert any(o.endswith("cable-node2.sock,reconnect=1") for o in _opt(n2, "-chardev"))


def test_monitor_socket() -> None:
    assert _opt(_cmd("node1"), "-qmp") == ["unix:/state/node1/qmp.sock,server=on,wait=off"]


def test_is_our_qemu_rejects_other_processes() -> None:
    import os

    assert not qemu.is_our_qemu(os.getpid(), config.NODES[0])
    assert not qemu.is_our_qemu(999_999_999, config.NODES[0])


def test_the_data_disk_is_vdb_with_named_nodes_and_errors_reported() -> None:
    data = _opt(_cmd("node1"), "-drive")[1].split(",")
    assert data[:2] == ["file=/state/node1/data.raw", "if=virtio"]  # auto-placed: vdb
    assert {f"id={qemu.DATA_DRIVE}", f"node-name={qemu.DATA_FORMAT_NODE}",
            f"file.node-name={qemu.DATA_FILE_NODE}"} <= set(data)
    # an I/O error reaches the guest (DRBD sees it) instead of pausing the VM
    assert {"rerror=report", "werror=report"} <= set(data)


def test_set_disk_refuses_a_qemu_started_without_the_named_nodes(monkeypatch) -> None:
    calls = []

    def qmp(node, command, arguments=None, timeout=5.0):
        calls.append(command)
        return [{"node-name": "#block123"}, {"node-name": "#block311"}]

    monkeypatch.setattr(qemu, "qmp", qmp)
    with pytest.raises(LabError, match="names no block node 'data-format'.*lab down"):
        qemu.set_disk(config.NODES[0], failed=True)
    assert calls == ["query-named-block-nodes"]  # nothing changed


@pytest.mark.skipif(shutil.which(qemu.QEMU) is None, reason="qemu-system-x86 is not installed")
def test_set_disk_fails_reads_then_gives_the_disk_back_on_a_real_qemu(tmp_path, monkeypatch):
    """The lab's disk fault on this host's QEMU (7.2 on Debian 12), the data disk attached
    as the lab attaches it, nothing booted (-S): through the drive the guest reads, reads
    fail between set_disk(failed=True) and set_disk(failed=False) and not after, writes
    land all along, and either call twice changes nothing more."""
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path))
    node = config.NODES[0]
    p = qemu.paths(node)
    p.directory.mkdir(parents=True)
    with p.data_disk.open("wb") as fh:
        fh.truncate(1 << 20)
    out = tmp_path / "qemu.out"  # qemu-io prints on QEMU's stdout, not in the reply
    with out.open("w") as fh:
        proc = subprocess.Popen(
            [qemu.QEMU, "-machine", "q35", "-accel", "tcg", "-m", "64", "-nodefaults",
             "-no-user-config", "-display", "none", "-S", *qemu.data_disk_args(p),
             "-qmp", f"unix:{p.qmp},server=on,wait=off"],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not p.qmp.exists() and time.monotonic() < deadline:
            time.sleep(0.1)

        def io(command: str) -> None:
            qemu.qmp(node, "human-monitor-command",
                     {"command-line": f'qemu-io {qemu.DATA_DRIVE} "{command}"'})

        io("write -P 0x11 0 4096")
        qemu.set_disk(node, failed=True)
        qemu.set_disk(node, failed=True)
        io("read 0 512")
        io("write -P 0x22 4096 512")
        qemu.set_disk(node, failed=False)
        qemu.set_disk(node, failed=False)
        io("read -P 0x11 0 512")
        io("read -P 0x22 4096 512")  # written while the disk failed
        nodes = {n["node-name"] for n in qemu.qmp(node, "query-named-block-nodes")}
        qemu.qmp(node, "quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    said = [line for line in out.read_text().splitlines()
            if line.startswith(("wrote", "read", "Pattern"))]
    assert said == ["wrote 4096/4096 bytes at offset 0",
                    "read failed: Input/output error",
                    "wrote 512/512 bytes at offset 4096",
                    "read 512/512 bytes at offset 0",
                    "read 512/512 bytes at offset 4096"], said
    assert nodes == {qemu.DATA_FORMAT_NODE, qemu.DATA_FILE_NODE}  # the blkdebug node gone
