"""Article §2: the two nodes — static addresses, names, SSH and time."""

from __future__ import annotations

import time

import pytest

from fixtures import evidence
from fixtures.heartbeat import parse_ha_cf


@pytest.mark.control("NODE-01")
def test_each_node_has_its_static_address_and_the_name_heartbeat_expects(cluster):
    names = [n.name for n in cluster]
    for node in cluster:
        addresses = node.host.interface(node.spec.interface).addresses
        assert node.address in addresses, (
            f"{node.name}: {node.address} not on {node.spec.interface} (has {addresses})")
        uname = node.run("uname -n", check=True).stdout.strip()
        assert uname == node.name, (
            f"{node.name}: `uname -n` is {uname!r}, the inventory says {node.name!r}")
        cf = parse_ha_cf(node.host.file("/etc/ha.d/ha.cf").content_string)
        assert uname in cf.all("node"), (
            f"{node.name}: `uname -n` is {uname!r} but ha.cf names {cf.all('node')}: heartbeat "
            "compares names exactly (the article's HAdebian01/HADebian01 slip)")
        assert sorted(cf.all("node")) == sorted(names), (
            f"{node.name}: ha.cf nodes {cf.all('node')} differ from the inventory's {names}")


@pytest.mark.control("NODE-02")
def test_each_node_resolves_both_node_names(cluster):
    for node in cluster:
        for other in cluster:
            r = node.run(f"getent ahostsv4 {other.name} | awk 'NR==1{{print $1}}'")
            assert r.stdout.strip() == other.address, (
                f"{node.name}: {other.name} resolves to {r.stdout.strip() or 'nothing'}, "
                f"expected {other.address} (/etc/hosts)")


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
