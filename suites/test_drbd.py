"""Article §3: DRBD, RAID1 over IP."""

from __future__ import annotations

import re
import shlex

import pytest

from fixtures import evidence
from fixtures.drbd import Role, parse_proc_drbd, proc_drbd_version
from fixtures.scenarios import RoleFlip


def _without_comments(text: str) -> str:
    # drbdadm dump names the node it runs on in a comment
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.control("DRBD-01")
def test_drbd_module_is_loaded_with_its_versions_reported(cluster):
    for node in cluster:
        assert node.run("grep -q '^drbd ' /proc/modules").ok, f"{node.name}: drbd not loaded"
        version = proc_drbd_version(node.run("cat /proc/drbd", check=True).stdout)
        kernel = node.run("uname -r").stdout.strip()
        utils = node.host.package("drbd-utils").version
        evidence.current().notes.append(
            f"{node.name}: kernel {kernel}, DRBD module {version}, drbd-utils {utils}")
        assert version and version.startswith("8.4"), (
            f"{node.name}: DRBD module {version}, the article's cluster needs 8.4")


@pytest.mark.control("DRBD-02")
def test_resource_config_is_identical_and_as_the_article(cluster, inventory):
    drbd = inventory.drbd
    dump = f"drbdadm dump {shlex.quote(drbd.resource)}"
    dumps = {n.name: _without_comments(n.run(dump, check=True).stdout) for n in cluster}
    first, second = dumps.values()
    assert first == second, "drbdadm dump differs between the nodes: " + " / ".join(dumps)
    text = first
    assert re.search(rf"protocol\s+{drbd.protocol};", text), f"protocol is not {drbd.protocol}"
    for node in cluster:
        section = re.search(rf"on {node.name} \{{(.*?)\}}", text, re.S)
        assert section, f"no `on {node.name}` section (host names must match uname -n)"
        body = section[1]
        assert re.search(rf"device\s+{drbd.device}\b", body), (
            f"{node.name}: device not {drbd.device}")
        assert re.search(rf"disk\s+{node.spec.disk};", body), (
            f"{node.name}: backing disk not {node.spec.disk}")
        assert re.search(r"meta-disk\s+internal;", body), f"{node.name}: meta-disk not internal"
        assert re.search(rf"address\s+(ipv4\s+)?{node.address}:{drbd.port};", body), (
            f"{node.name}: address is not {node.address}:{drbd.port}")


@pytest.mark.control("DRBD-03")
def test_drbd_is_connected_uptodate_with_exactly_one_primary(cluster):
    states = {}
    for node in cluster:
        state = parse_proc_drbd(node.run("cat /proc/drbd", check=True).stdout).get(0)
        assert state is not None, f"{node.name}: /dev/drbd0 is not configured"
        states[node.name] = state
        assert state.healthy, f"{node.name}: {state} (want cs:Connected ds:UpToDate/UpToDate)"
    primaries = [name for name, s in states.items() if s.role == Role.PRIMARY]
    assert len(primaries) == 1, f"Primary on {primaries or 'no node'}, exactly one expected"


@pytest.mark.control("DRBD-04")
@pytest.mark.disruptive
def test_manual_role_flip_carries_test_files_both_ways(role_flip: RoleFlip, node1, node2):
    sc = role_flip.require()
    for step in sc.steps:
        evidence.current().measure(step.figure, step.seconds)
    assert sc.test1.intact, (
        f"test1.txt written on {node1.name} reads {sc.test1.read_back!r} on {node2.name}")
    assert sc.test2.intact, (
        f"test2.txt written on {node2.name} reads {sc.test2.read_back!r} on {node1.name}")
