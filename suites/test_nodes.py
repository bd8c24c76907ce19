"""Article §2: the two nodes — static addresses, names, SSH and time."""

from __future__ import annotations

import ipaddress
import shlex
import time

import pytest

from fixtures import evidence
from fixtures.cluster import parse_ip_addr
from fixtures.heartbeat import parse_ha_cf
from fixtures.pacemaker import parse_corosync_conf


def _manager_node_names(node, manager: str) -> tuple[str, list[str]]:
    """The file naming the cluster's nodes for ``manager``, and the names it gives."""
    if manager == "pacemaker":
        conf = parse_corosync_conf(node.host.file("/etc/corosync/corosync.conf").content_string)
        nodes = conf.subsections("nodelist")[0].subsections("node") if conf.subsections(
            "nodelist") else []
        return "corosync.conf", [n.get("name", "") for n in nodes]
    return "ha.cf", parse_ha_cf(node.host.file("/etc/ha.d/ha.cf").content_string).nodes


@pytest.mark.control("NODE-01")
def test_each_node_has_its_static_address_and_the_name_its_cluster_manager_expects(
        cluster, inventory):
    names = [n.name for n in cluster]
    for node in cluster:
        addresses = node.host.interface(node.spec.interface).addresses
        assert node.address in addresses, (
            f"{node.name}: {node.address} not on {node.spec.interface} (has {addresses})")
        uname = node.run("uname -n", check=True).stdout.strip()
        assert uname == node.name, (
            f"{node.name}: `uname -n` is {uname!r}, the inventory says {node.name!r}")
        where, listed = _manager_node_names(node, inventory.cluster_manager)
        assert uname in listed, (
            f"{node.name}: `uname -n` is {uname!r} but {where} names {listed}: "
            f"{inventory.cluster_manager} compares names exactly (the article's "
            "HAdebian01/HADebian01 slip)")
        assert sorted(listed) == sorted(names), (
            f"{node.name}: {where} nodes {listed} differ from the inventory's {names}")


@pytest.mark.control("NODE-01")
def test_each_node_has_its_replication_and_heartbeat_addresses_and_a_place_for_the_vip(
        cluster, inventory):
    """A site may keep replication and the heartbeat links on networks of their own; the
    VIP needs an interface in its subnet on both nodes, or the survivor cannot raise it."""
    vip = ipaddress.IPv4Interface(
        f"{inventory.network.virtual_ip}/{inventory.network.netmask}").network
    for node in cluster:
        held = parse_ip_addr(node.run("ip -4 -o addr show", timeout=15, check=True).stdout)
        for role, address in [("replication", node.spec.replication_address),
                              *(("heartbeat", a) for a in node.spec.heartbeat_addresses)]:
            assert address in {str(a.ip) for a in held}, (
                f"{node.name}: its {role} address {address} is on no interface "
                f"(has {', '.join(str(a) for a in held)})")
        assert any(a.network.overlaps(vip) and a.ip != ipaddress.IPv4Address(
            inventory.network.virtual_ip) for a in held), (
            f"{node.name}: no interface in the VIP's subnet {vip}, so the cluster manager "
            f"cannot raise {inventory.network.virtual_ip} here")


@pytest.mark.control("NODE-02")
def test_each_node_resolves_both_node_names(cluster):
    for node in cluster:
        for other in cluster:
            r = node.run(f"getent ahostsv4 {shlex.quote(other.name)} | awk 'NR==1{{print $1}}'")
            known = {other.address, other.spec.replication_address,
                     *other.spec.heartbeat_addresses}
            assert r.stdout.strip() in known, (
                f"{node.name}: {other.name} resolves to {r.stdout.strip() or 'nothing'}, "
                f"expected {' or '.join(sorted(known))} (/etc/hosts)")


@pytest.mark.control("NODE-03")
def test_sshd_runs_and_the_clocks_agree_within_a_second(cluster):
    offsets = {}
    for node in cluster:
        assert node.host.service("ssh").is_running, f"{node.name}: sshd is not running"
        node.run("chronyc -n tracking || timedatectl timesync-status")  # evidence: the source
        # the node's clock against the midpoint of the round trip
        sent = time.time()
        stamp = float(node.run("date +%s.%N", check=True).stdout)
        offsets[node.name] = stamp - (sent + time.time()) / 2
    a, b = offsets.values()
    skew = abs(a - b)
    evidence.current().measure("clock offset between nodes", skew, budget=1.0)
    assert skew < 1.0, f"the clocks differ by {skew:.2f}s ({offsets})"


# NODE-04: what a reboot must bring back, and what only the cluster manager may start.
# Heartbeat: the drbd service brings DRBD up (drbddisk only promotes), heartbeat starts
# libvirtd, smbd and the VM. Pacemaker: ocf:linbit:drbd brings DRBD up, so the drbd
# service must not; VirtualDomain needs libvirtd running on both; sbd is the fencing.
# Both managers' packages may be installed: the other one must never start at boot.
BOOT_REQUIRED = {
    "heartbeat": {"sshd": ("ssh",), "time sync": ("chrony", "systemd-timesyncd"),
                  "the DRBD service": ("drbd",), "heartbeat": ("heartbeat",)},
    "pacemaker": {"sshd": ("ssh",), "time sync": ("chrony", "systemd-timesyncd"),
                  "corosync": ("corosync",), "pacemaker": ("pacemaker",),
                  "SBD fencing": ("sbd",), "libvirtd": ("libvirtd",)},
}
BOOT_FORBIDDEN = {
    "heartbeat": ("smbd", "nmbd", "corosync", "pacemaker"),
    "pacemaker": ("smbd", "nmbd", "drbd", "heartbeat"),
}
ENABLED = ("enabled", "enabled-runtime")  # `systemctl is-enabled` words that start it at boot


def boot_findings(node: str, states: dict[str, str], vm: str, vm_autostart: bool,
                  manager: str = "heartbeat") -> list[str]:
    """What is wrong with a node's boot set, given `systemctl is-enabled` per unit."""
    found = []
    for what, units in BOOT_REQUIRED[manager].items():
        if not any(states.get(u) in ENABLED for u in units):
            seen = ", ".join(f"{u} {states.get(u) or 'not installed'}" for u in units)
            found.append(f"{node}: {what} is not enabled at boot ({seen})")
    for unit in BOOT_FORBIDDEN[manager]:
        if states.get(unit) in ENABLED:
            found.append(f"{node}: {unit} is {states[unit]} at boot; {manager} alone "
                         f"{'starts it' if unit in ('smbd', 'nmbd', 'drbd') else 'runs here'}")
    if vm_autostart:
        found.append(f"{node}: libvirt autostarts VM {vm} at boot; {manager} alone starts it")
    return found


@pytest.mark.control("NODE-04")
def test_a_reboot_brings_back_what_the_cluster_needs_and_not_what_its_manager_owns(
        cluster, inventory):
    vm, manager = inventory.hypervisor.vm_name, inventory.cluster_manager
    units = sorted({u for group in BOOT_REQUIRED[manager].values() for u in group}
                   | set(BOOT_FORBIDDEN[manager]))
    autostart = shlex.quote(f"/etc/libvirt/qemu/autostart/{vm}.xml")
    # one command per node; a unit that is not installed prints nothing
    command = (f"for u in {' '.join(units)}; do "
               'printf "%s=%s\\n" "$u" "$(systemctl is-enabled "$u.service" 2>/dev/null)"; done; '
               f"test -e {autostart} && echo vm-autostart=yes || echo vm-autostart=no")
    found = []
    for node in cluster:
        out = node.run(command, timeout=30, check=True).stdout
        states = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        found += boot_findings(node.name, states, vm, states.pop("vm-autostart", "") == "yes",
                               manager)
    assert not found, "; ".join(found)
