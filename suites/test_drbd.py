"""Article §3: DRBD, RAID1 over IP."""

from __future__ import annotations

import pytest

from fixtures.access import evidence
from fixtures.resources.drbd import Role, expected, judge_config, read_node_conf, read_versions
from fixtures.scenarios.records import RoleFlip


@pytest.mark.control("DRBD-01")
def test_drbd_module_is_loaded_with_its_versions_reported(cluster):
    # the versions are facts (8.4 in Debian's kernel, 9 from LINBIT): none is demanded
    for node in cluster:
        versions = read_versions(node)
        evidence.current().notes.append(f"{node.name}: {versions}")
        assert versions.loaded, f"{node.name}: the DRBD module is not loaded"
        assert versions.module, f"{node.name}: the DRBD module's version cannot be read"
        assert versions.utils, f"{node.name}: drbdadm --version names no drbd-utils version"


@pytest.mark.control("DRBD-02")
def test_resource_config_is_identical_and_as_the_article(cluster, inventory):
    confs = [read_node_conf(node, inventory.drbd.resource) for node in cluster]
    verdict = judge_config(expected(inventory.drbd), confs)
    evidence.current().notes.extend(verdict.facts)
    assert not verdict.problems, "; ".join(verdict.problems)


@pytest.mark.control("DRBD-03")
def test_drbd_is_connected_uptodate_with_exactly_one_primary(cluster, inventory):
    res = inventory.drbd.resource
    states = {}
    for node in cluster:
        state = cluster.drbd(node).state()
        assert state is not None, f"{node.name}: DRBD {res} is not configured (or unreadable)"
        evidence.current().notes.append(f"{node.name}: {state}")
        states[node.name] = state
        assert state.healthy, f"{node.name}: {state} (want cs:Connected ds:UpToDate/UpToDate)"
        assert state.suspended == "no", f"{node.name}: DRBD I/O suspended ({state.suspended})"
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
