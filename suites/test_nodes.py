"""Article §2: the two nodes — static addresses, names, SSH and time."""

from __future__ import annotations

import ipaddress
import shlex
import time

import pytest

from fixtures.access import evidence
from fixtures.managers.heartbeat.parsers import parse_ha_cf
from fixtures.managers.pacemaker.parsers import parse_corosync_conf
from fixtures.readings import ownership
from fixtures.resources.cluster import parse_ip_addr


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


# NODE-04: what a reboot must bring back, and nothing on a node that starts what only the
# cluster manager may start (SPEC §7: units, mounts, autostarts, addresses; at boot or by
# hand). fixtures/readings/ownership.py reads each node once and names the file, line or unit.
@pytest.mark.control("NODE-04")
def test_a_reboot_brings_back_what_the_cluster_needs_and_not_what_its_manager_owns(
        cluster, inventory):
    # the DRBD device as drbdadm resolves it on node 1 (None: only its by-res names)
    owned = ownership.Owned.of(inventory, cluster.drbd(cluster.node1).device)
    evidence.current().notes.append(
        f"owned by {owned.manager}: DRBD {owned.device or owned.resource} on "
        f"{owned.mount_point}, Samba, VM {', '.join(owned.vms)}, VIP {owned.vip}")
    found = ownership.findings(cluster, owned)
    assert not found, "; ".join(found)
