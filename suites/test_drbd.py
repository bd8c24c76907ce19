"""Article §3: DRBD, RAID1 over IP."""

from __future__ import annotations

import pytest

from fixtures.access import evidence
from fixtures.access.evidence import within
from fixtures.resources.drbd import Role, expected, judge_config, read_node_conf, read_versions
from fixtures.scenarios.records import DiskFailure, RoleFlip


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


@pytest.mark.control("DRBD-05")
@pytest.mark.disruptive
def test_node1_detaches_its_failed_disk_and_serves_from_node2s_disk(
        disk_failure: DiskFailure, node1, node2, inventory):
    sc = disk_failure.require()
    budget = inventory.budgets.scaled.resync
    sc.figure("DRBD detach after node1's disk failed", sc.detached)
    resync = sc.figure("DRBD resync after node1's disk is attached again", sc.resynced,
                       sc.attached, budget=budget)
    if sc.kernel:
        evidence.current().notes.append(f"{node1.name}'s kernel since the fault:\n{sc.kernel}")
    # the RAID1 promise: the failed disk leaves, the node stays (a kept disk that fails its
    # reads is Inconsistent and still read and written: on-io-error pass_on)
    assert sc.detached is not None, (
        f"{node1.name} did not detach its failing disk: its DRBD disk was "
        f"{'/'.join(sc.node1_disks) or 'unseen'} while it failed, never Diskless")
    assert sc.node2_served is None, (
        f"{node2.name} took the resources {sc.since(sc.node2_served)}s after {node1.name}'s "
        "disk failed: a disk failure became a failover")
    assert sc.node1_stopped_serving is None, (
        f"{node1.name} stopped serving (DRBD Primary, mount, VIP) "
        f"{sc.since(sc.node1_stopped_serving)}s after its disk failed")
    assert sc.smb_before.intact, (
        f"a file written before the failure, read through the VIP while node1's disk failed: "
        f"{sc.smb_before.why()}")
    assert sc.last_write is not None and sc.last_write > sc.detached, (
        f"the share acknowledged no write while {node1.name} ran without its disk")
    assert sc.vm_on_node1, f"VM {inventory.hypervisor.vm_name} is not running on {node1.name}"
    if inventory.hypervisor.console_port:
        assert sc.console_answers is not None, (
            f"the VM console did not answer on the VIP after {node1.name}'s disk detached")
    report = sc.writer
    assert report is not None and report.acknowledged, "the writer never got a write acknowledged"
    assert not report.verify_error, f"could not read the writes back: {report.verify_error}"
    assert not report.missing and not report.corrupt, (
        f"acknowledged writes lost: missing {report.missing[:5]}, corrupt {report.corrupt[:5]}")
    assert not sc.attach_error, (
        f"drbdadm attach on {node1.name} once its disk was back: {sc.attach_error}")
    within(resync, budget, "DRBD resync after the disk was attached again")
    assert sc.smb_during.intact, (
        f"a file written while node1's disk failed, read through the VIP from its resynced "
        f"disk: {sc.smb_during.why()}")
