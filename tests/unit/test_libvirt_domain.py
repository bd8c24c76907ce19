"""VIRT-01's reading of a libvirt domain: its disks judged on the replicated storage by
meaning; VIRT-04's console: the port answering, and the inventory's banner when it gives
one (variants from libvirt's domain XML format, formatdomain.html "Hard drives, floppy
disks, CDROMs")."""

from __future__ import annotations

import socket
import threading

import pytest
import yaml

from fixtures.access.inventory import InventoryError, load
from fixtures.access.node import Result
from fixtures.probes.console import ConsoleObservation, ConsoleReport
from fixtures.resources.hypervisor import DEMO_GUEST_BANNER, ConsoleReading, read_console
from fixtures.resources.hypervisor.domain import (
    ReplicatedStorage,
    disk_problems,
    parse_domain,
)

STORAGE = ReplicatedStorage("/dev/drbd0", "r0", "/var/lib/vmware")


def _domain(*disks: str) -> str:
    return (f"<domain type='kvm'><name>web</name><memory unit='KiB'>524288</memory>"
            f"<devices>{''.join(disks)}</devices></domain>")


FILE_DISK = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source file='{}'/><target dev='vda' bus='virtio'/></disk>")
BLOCK_DISK = ("<disk type='block' device='disk'><driver name='qemu' type='raw'/>"
              "<source dev='{}'/><target dev='vdb' bus='virtio'/></disk>")
EMPTY_CDROM = ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
               "<target dev='hdc' bus='ide'/><readonly/></disk>")


def _judge(xml: str, real: str = "", stack: tuple[str, ...] = ()) -> list[str | None]:
    return [STORAGE.problem(d, real, stack) for d in parse_domain(xml).disks]


def test_a_file_disk_under_the_mount_point_is_on_the_replicated_storage():
    assert _judge(_domain(FILE_DISK.format("/var/lib/vmware/web/web.qcow2"))) == [None]


@pytest.mark.parametrize("dev", ["/dev/drbd0", "/dev/drbd/by-res/r0/0", "/dev/drbd/by-res/r0"])
def test_a_block_disk_on_the_drbd_device_by_any_of_its_names(dev):
    # drbd-utils' udev rules make /dev/drbd/by-res/<res>/<volume> (8.4+) and by-res/<res> (8.3)
    assert _judge(_domain(BLOCK_DISK.format(dev))) == [None]


def test_a_logical_volume_or_partition_on_top_of_drbd_is_on_it():
    # lsblk -nrso NAME /dev/vg_ha/web: the LV, then the devices it sits on
    xml = _domain(BLOCK_DISK.format("/dev/vg_ha/web"))
    assert _judge(xml, "/dev/dm-3", ("vg_ha-web", "drbd0", "vdb")) == [None]
    assert _judge(_domain(BLOCK_DISK.format("/dev/drbd0p1")), "/dev/drbd0p1",
                  ("drbd0p1", "drbd0", "vdb")) == [None]


def test_disks_off_the_replicated_storage_fail_with_the_reason():
    got = _judge(_domain(FILE_DISK.format("/var/lib/libvirt/images/web.qcow2"),
                         BLOCK_DISK.format("/dev/sdb")), "", ("sdb",))
    assert got == ["disk vda (file /var/lib/libvirt/images/web.qcow2) is not under "
                   "/var/lib/vmware",
                   "disk vdb (block /dev/sdb) is neither /dev/drbd0 nor on top of it"]


def test_a_file_reached_through_a_symlink_into_the_mount_is_judged_by_its_real_path():
    xml = _domain(FILE_DISK.format("/var/lib/libvirt/images/web.qcow2"))
    assert _judge(xml, "/var/lib/vmware/images/web.qcow2") == [None]


def test_an_empty_cdrom_is_ignored_and_a_network_disk_is_not_drbds():
    rbd = ("<disk type='network' device='disk'><source protocol='rbd' name='pool/web'>"
           "<host name='mon1' port='6789'/></source><target dev='vdc' bus='virtio'/></disk>")
    got = _judge(_domain(EMPTY_CDROM, rbd))
    assert got[0] is None
    assert got[1] == ("disk vdc (network rbd:pool/web): not on the replicated storage "
                      "(a network disk is not DRBD's)")


def test_the_labs_own_definition_and_what_is_not_a_domain():
    # fixtures/provision/templates/domain.xml.j2, rendered
    lab = _domain("<disk type='file' device='disk'><driver name='qemu' type='raw' "
                  "cache='writethrough'/><source file='/var/lib/vmware/hademo/disk.img'/>"
                  "<target dev='hda' bus='ide'/></disk>").replace("web", "hademo")
    assert parse_domain(lab).name == "hademo" and _judge(lab) == [None]
    with pytest.raises(ValueError, match="not a libvirt domain"):
        parse_domain("<network><name>default</name></network>")
    with pytest.raises(ValueError, match="not XML"):
        parse_domain("error: failed to get domain 'web'")


class _Node:
    """Answers realpath and lsblk as a node whose VG sits on DRBD would."""

    def __init__(self):
        self.commands: list[str] = []

    def run(self, command: str, *args: object, timeout: float | None = None) -> Result:
        self.commands.append(command % args)
        out = {"realpath": "/dev/dm-3\n", "lsblk -n": "vg_ha-web\ndrbd0\nvdb\n"}
        return Result(command, 0, next(v for k, v in out.items() if command.startswith(k)),
                      "", 0.0)


def test_disk_problems_asks_the_node_what_a_block_source_sits_on():
    node = _Node()
    domain = parse_domain(_domain(BLOCK_DISK.format("/dev/vg_ha/web"), EMPTY_CDROM))
    assert disk_problems(node, domain, STORAGE) == []
    assert node.commands == ["realpath -m -- /dev/vg_ha/web", "lsblk -nrso NAME /dev/vg_ha/web"]


# -- the console ------------------------------------------------------------------------

def _serve(*chunks: bytes) -> int:
    """A loopback server that sends ``chunks`` to its first client, then closes."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            for chunk in chunks:
                conn.sendall(chunk)
                threading.Event().wait(0.05)
        server.close()
    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_the_labs_banner_gives_the_guests_boot_counter_even_split_mid_number():
    port = _serve(b"noise\r\nHADEMO guest up: boot=1", b"2 tick=7\r\n")
    reading = read_console("127.0.0.1", port, DEMO_GUEST_BANNER, timeout=3)
    assert reading == ConsoleReading(12, 7, "HADEMO guest up: boot=12 tick=7")


def test_without_a_banner_the_port_answering_is_enough():
    reading = read_console("127.0.0.1", _serve(b""), None, timeout=3)
    assert reading is not None and reading.boot is None


def test_a_banner_that_never_comes_or_a_closed_port_is_silence():
    assert read_console("127.0.0.1", _serve(b"SSH-2.0-OpenSSH_9.2\r\n"), r"^220 ",
                        timeout=2) is None
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert read_console("127.0.0.1", port, None, timeout=1) is None


def test_a_site_banner_without_a_counter_still_marks_the_answers():
    port = _serve(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    reading = read_console("127.0.0.1", port, r"^SSH-2\.0-", timeout=3)
    assert reading == ConsoleReading(None, None, "SSH-2.0-OpenSSH_9.2p1 Debian-2")
    report = ConsoleReport([ConsoleObservation(1, None), ConsoleObservation(5, reading)])
    assert report.first_answer_after(0.5, boot_above=0).t == 5


def test_a_banner_that_is_not_a_regex_stops_the_load_in_one_line(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump({
        "cluster": "staging", "hypervisor": {"vms": ["web", "db"], "console_banner": "boot=(\\d+"},
        "nodes": [{"name": "node1", "address": "192.168.1.1", "ssh": {}},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {}}]}))
    with pytest.raises(InventoryError) as err:
        load(path)
    assert "hypervisor.console_banner: not a regular expression: missing )" in str(err.value)
    assert "\n" not in str(err.value)
