"""The embedded lab, for real: boots both VMs through the CLI and checks every piece.

Slow (TCG): run with ``pytest -m lab tests/lab``. Needs root. Ends with ``down``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lab import config, netns, qemu

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root"),
]

REPO = Path(__file__).resolve().parents[2]


def lab(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the lab CLI as a user would."""
    proc = subprocess.run([sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"lab {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def on(node: str, command: str, check: bool = True, timeout: float = 60) -> str:
    """Run a shell command on a node over SSH; return its stdout."""
    return lab("ssh", node, command, check=check, timeout=timeout).stdout


def pings(src: str, dst: str, count: int = 2) -> bool:
    return lab("ssh", src, f"ping -c {count} -W 1 {dst}", check=False, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def up() -> None:
    lab("up", timeout=900)


@pytest.mark.timeout(900)
def test_both_nodes_answer_ssh_with_identity(up: None) -> None:
    for node in config.NODES:
        out = on(node.name, "uname -n; ip -o -4 addr show dev eth0")
        name, addr = out.splitlines()[0], out.splitlines()[1]
        assert name == node.name
        assert f"{node.address}/24" in addr


@pytest.mark.timeout(120)
def test_node1_pings_node2(up: None) -> None:
    assert pings("node1", "192.168.1.2")


@pytest.mark.timeout(120)
def test_secondary_disk_is_1gib_vdb(up: None) -> None:
    for node in config.NODES:
        assert on(node.name, "blockdev --getsize64 /dev/vdb").strip() == str(1024**3)


@pytest.mark.timeout(120)
def test_drbd_84_module(up: None) -> None:
    for node in config.NODES:
        out = on(node.name, "modprobe drbd && cat /proc/drbd")
        assert "version: 8.4" in out


SBD_DISK = "/dev/disk/by-id/virtio-sbd"
# the SBD disk's last 4 KiB: sbd's header and slots sit at its start, so a provisioned
# Pacemaker lab keeps working; the bytes are put back anyway
SBD_LAST_BLOCK = config.SBD_DISK_BYTES // 4096 - 1


@pytest.mark.timeout(300)
def test_both_nodes_share_the_sbd_disk_and_have_a_watchdog(up: None) -> None:
    token = f"halab-sbd-{uuid.uuid4().hex[:12]}"
    block = f"bs=4096 count=1 skip={SBD_LAST_BLOCK}"
    for node in config.NODES:
        assert on(node.name, f"blockdev --getsize64 {SBD_DISK}").strip() == str(
            config.SBD_DISK_BYTES)
        # one watchdog, the i6300esb QEMU resets the node with (not opened: that arms it)
        assert on(node.name, "test -c /dev/watchdog && cat /sys/class/watchdog/*/identity"
                  ).splitlines() == ["i6300ESB timer"]
    on("node1", f"dd if={SBD_DISK} of=/root/sbd-last.blk {block} iflag=direct status=none")
    try:
        on("node1", f"printf '{token}' | dd of={SBD_DISK} bs=4096 count=1 seek={SBD_LAST_BLOCK}"
                    " conv=sync oflag=direct status=none")
        # O_DIRECT on node2: what it reads comes from the shared file, not its own cache
        seen = on("node2", f"dd if={SBD_DISK} {block} iflag=direct status=none | tr -d '\\0'")
        assert seen.strip() == token
    finally:
        on("node1", f"dd if=/root/sbd-last.blk of={SBD_DISK} bs=4096 count=1 "
                    f"seek={SBD_LAST_BLOCK} oflag=direct status=none && rm /root/sbd-last.blk")


@pytest.mark.timeout(900)
def test_serial_cable_carries_bytes(up: None) -> None:
    token = f"halab-{uuid.uuid4().hex[:12]}"
    # on provisioned nodes heartbeat reads ttyS1 itself: lend the cable to the test
    was_active = {n.name: on(n.name, "systemctl is-active heartbeat || true").strip() == "active"
                  for n in config.NODES}
    for node in reversed(config.NODES):  # the standby first: nothing fails over
        on(node.name, "systemctl stop heartbeat 2>/dev/null || true", timeout=200)
    try:
        _exchange(token)
    finally:
        for node in config.NODES:
            if was_active[node.name]:
                on(node.name, "systemctl start heartbeat", timeout=200)


def _exchange(token: str) -> None:
    for src, dst in (("node1", "node2"), ("node2", "node1")):
        on(dst, "stty -F /dev/ttyS1 raw -echo 115200; rm -f /tmp/rx; "
                "(timeout 8 cat /dev/ttyS1 > /tmp/rx) </dev/null >/dev/null 2>&1 &")
        time.sleep(2)
        on(src, f"stty -F /dev/ttyS1 raw -echo 115200; printf '{token}\\n' > /dev/ttyS1")
        deadline = time.monotonic() + 20
        while token not in on(dst, "cat /tmp/rx 2>/dev/null || true"):
            assert time.monotonic() < deadline, f"{src} -> {dst}: nothing on ttyS1"
            time.sleep(1)


@pytest.mark.timeout(600)
def test_power_node2_off_and_on(up: None) -> None:
    lab("power", "node2", "off")
    assert qemu.running_pid(config.node_by_name("node2")) is None
    assert "node2: off" in lab("status").stdout
    assert not pings("node1", "192.168.1.2")
    t0 = time.monotonic()
    lab("power", "node2", "on", timeout=30)  # returns once QEMU runs
    assert time.monotonic() - t0 < 30
    lab("power", "node2", "on", "--wait", timeout=400)
    assert on("node2", "uname -n").strip() == "node2"
    assert pings("node1", "192.168.1.2")


@pytest.mark.timeout(300)
def test_link_down_and_up_on_node2(up: None) -> None:
    assert pings("node1", "192.168.1.2")
    lab("link", "node2", "down")
    try:
        assert not pings("node1", "192.168.1.2", count=3)
    finally:
        lab("link", "node2", "up")
    deadline = time.monotonic() + 60
    while not pings("node1", "192.168.1.2"):
        assert time.monotonic() < deadline, "node1 did not regain node2 after link up"


def _lab_qemu_pids() -> list[int]:
    pids = []
    state = str(config.state_root())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"qemu-system-x86_64") and any(
                state.encode() in a for a in args):
            pids.append(int(entry.name))
    return pids


@pytest.mark.timeout(300)
def test_down_leaves_nothing(up: None) -> None:
    lab("down", timeout=120)
    assert _lab_qemu_pids() == []
    assert netns.leftovers() == []
    helpers = subprocess.run(["pgrep", "-f", "[-]m lab[.](cable|timeserver)"],
                             capture_output=True, text=True).stdout.split()
    assert helpers == [], f"cable relay or time server left running: {helpers}"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    for name in ("hatap1", "hatap2", config.BRIDGE):
        assert f": {name}" not in links
    assert config.NETNS not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                              text=True).stdout
