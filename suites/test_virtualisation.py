"""Article §6: the virtualisation server restarts its VM on the survivor."""

from __future__ import annotations

import re
import time

import pytest

from fixtures.access import evidence
from fixtures.access.evidence import within
from fixtures.resources.hypervisor import read_console
from fixtures.resources.hypervisor.domain import ReplicatedStorage, disk_problems, parse_domain
from fixtures.scenarios.records import PowerFailure


@pytest.mark.control("VIRT-01")
def test_hypervisor_serves_on_the_active_node_from_the_replicated_disk(
        cluster, inventory, hypervisor):
    active = cluster.active
    standby = cluster.peer(active)
    assert active.host.service("libvirtd").is_running, f"{active.name}: libvirtd not running"
    # the kernel's device, as drbdadm resolves it (the inventory may leave it out)
    device = cluster.drbd(active).device
    assert device, f"{active.name}: drbdadm names no device for {inventory.drbd.resource}"
    storage = ReplicatedStorage(device, inventory.drbd.resource, inventory.drbd.mount_point)
    found = []
    for vm in inventory.hypervisor.vms:
        state = hypervisor.state(active, vm)
        if state != "running":
            found.append(f"{active.name}: VM {vm} is {state}")
        if hypervisor.running_on(standby, vm):
            found.append(f"VM {vm} also runs on {standby.name}")
        running = hypervisor.definition(active, vm)
        if running is None:
            found.append(f"{active.name}: cannot read VM {vm}'s running definition")
        else:
            found += _disks_off_storage(active, running, storage, "as it runs")
        kept = hypervisor.kept_definitions(active, standby, vm)
        if not kept:
            found.append(f"VM {vm}: no definition the survivor can start: none on the "
                         f"replicated file system {storage.mount_point}, none defined on "
                         f"{standby.name}")
        for where, xml in kept.items():
            evidence.current().notes.append(f"VM {vm}: definition kept at {where}")
            found += _disks_off_storage(active, xml, storage, f"in {where}")
    assert not found, "; ".join(found)


def _disks_off_storage(node, xml: str, storage: ReplicatedStorage, where: str) -> list[str]:
    try:
        domain = parse_domain(xml)
    except ValueError as exc:
        return [f"definition {where}: {exc}"]
    return [f"{p} ({where})" for p in disk_problems(node, domain, storage)]


@pytest.mark.control("VIRT-02")
@pytest.mark.disruptive
def test_vm_console_answers_on_the_vip_again_from_node2_after_node1_fails(
        power_off: PowerFailure, inventory, node2):
    if inventory.hypervisor.console_port is None:
        pytest.skip("not run: the inventory gives no hypervisor.console_port to ask")
    sc = power_off.require()
    budget = inventory.budgets.scaled.console_outage + inventory.heartbeat.deadtime
    assert sc.console and sc.console.last_answer_before(sc.t0), (
        "the console did not answer before the fault")
    window = sc.console.outage(sc.t0 - 5) if sc.console else None
    outage = round(window[1] - window[0], 2) if window else None
    evidence.current().measure("VM console outage", outage, budget=budget)
    assert sc.console_answers, "the console never answered again on the VIP after node1 failed"
    assert sc.console_served_by == [node2.name], (
        f"console served by {sc.console_served_by}, expected {node2.name} alone")
    within(outage, budget, "console silent")


@pytest.mark.control("VIRT-03")
@pytest.mark.disruptive
def test_vmstart_restarts_the_vm_on_the_survivor_with_its_disk_intact(power_off: PowerFailure,
                                                                      inventory):
    banner = inventory.hypervisor.console_banner
    if inventory.hypervisor.console_port is None or "boot" not in re.compile(
            banner or "").groupindex:
        pytest.skip("not run: the VM's restart is told by the boot counter its console "
                    "banner names; the inventory gives no console_port and console_banner "
                    "with a (?P<boot>...) group")
    sc = power_off.require()
    budget = inventory.budgets.scaled.vm_restart
    restart = sc.figure("VM restart (node2 Primary → console answers)", sc.console_answers,
                        sc.node2_primary, budget=budget)
    assert sc.vm_on_node2, "the VM was not running on node2 after the failover"
    before, after = sc.boot_before, sc.boot_after
    assert before is not None and after is not None, f"boot counts: before {before}, after {after}"
    assert after == before + 1, (
        f"the guest's boot counter went from {before} to {after}: its disk written before "
        "the failure did not survive intact (expected +1)")
    assert sc.vm_back_on_node1, "after failback the VM did not run on node1 again"
    within(restart, budget, "the VM answered", " after node2 took DRBD")


CONSOLE_WAIT_S = 10.0  # the demo guest prints its banner once a second; widened by scale


@pytest.mark.control("VIRT-04")
def test_vm_console_answers_on_the_vip_now_with_the_vms_banner(cluster, inventory, hypervisor):
    vip, port = inventory.network.virtual_ip, inventory.hypervisor.console_port
    banner = inventory.hypervisor.console_banner
    if port is None:
        pytest.skip("not run: the inventory gives no hypervisor.console_port to ask")
    limit = CONSOLE_WAIT_S * inventory.budgets.scale
    start = time.monotonic()
    reading = read_console(vip, port, banner, timeout=limit)
    took = time.monotonic() - start if reading else None
    what = "first banner" if banner else "connection"
    evidence.current().measure(f"VM console answer on the VIP ({what})", took, budget=limit,
                               note=f"{vip}:{port}" + (f", banner /{banner}/" if banner else ""))
    if reading is None:
        owners = cluster.owners()
        states = [(n.name, "runs" if hypervisor.running_on(n) else "is not running")
                  for n in owners]
        where = "; ".join(f"VM {hypervisor.vm} {state} on {name}, which holds the VIP"
                          for name, state in states) or "no node holds the VIP"
        expected = f"no line matching /{banner}/" if banner else "no answer"
        raise AssertionError(f"{expected} from {vip}:{port} within {limit:.0f}s: {where}")
    evidence.current().notes.append(f"console said: {reading.line}" if banner
                                    else f"{vip}:{port} accepted the connection")
