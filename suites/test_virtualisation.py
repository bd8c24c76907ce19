"""Article §6: the virtualisation server restarts its VM on the survivor."""

from __future__ import annotations

import shlex
import time

import pytest

from fixtures import evidence
from fixtures.evidence import within
from fixtures.hypervisor import read_console
from fixtures.scenarios import PowerFailure


@pytest.mark.control("VIRT-01")
def test_hypervisor_serves_on_the_active_node_from_the_replicated_disk(
        cluster, inventory, hypervisor):
    active = cluster.active
    standby = cluster.peer(active)
    assert active.host.service("libvirtd").is_running, f"{active.name}: libvirtd not running"
    assert hypervisor.state(active) == "running", (
        f"{active.name}: VM {hypervisor.vm} is {hypervisor.state(active)}")
    assert not hypervisor.running_on(standby), f"VM {hypervisor.vm} also runs on {standby.name}"
    mp = inventory.drbd.mount_point
    xml = active.run(f"virsh -c qemu:///system dumpxml {shlex.quote(hypervisor.vm)}",
                     check=True).stdout
    sources = [line.split("'")[1] for line in xml.splitlines() if "<source file=" in line]
    assert sources and all(s.startswith(mp + "/") for s in sources), (
        f"VM disks {sources} are not under {mp}")
    assert active.host.file(f"{hypervisor.vm_dir}/{hypervisor.vm}.xml").exists, (
        f"VM definition not under {hypervisor.vm_dir}")


@pytest.mark.control("VIRT-02")
@pytest.mark.disruptive
def test_vm_console_answers_on_the_vip_again_from_node2_after_node1_fails(
        power_off: PowerFailure, inventory, node2):
    sc = power_off.require()
    budget = inventory.budgets.scaled.console_outage + inventory.heartbeat.deadtime
    assert sc.boot_before is not None, "the console did not answer before the fault"
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
    limit = CONSOLE_WAIT_S * inventory.budgets.scale
    start = time.monotonic()
    reading = read_console(vip, port, timeout=limit)
    took = time.monotonic() - start if reading else None
    evidence.current().measure("VM console answer on the VIP (first banner)", took, budget=limit,
                               note=f"{vip}:{port}")
    if reading is None:
        owners = cluster.owners()
        states = [(n.name, "runs" if hypervisor.running_on(n) else "is not running")
                  for n in owners]
        where = "; ".join(f"VM {hypervisor.vm} {state} on {name}, which holds the VIP"
                          for name, state in states) or "no node holds the VIP"
        raise AssertionError(f"no banner from the VM console on {vip}:{port} within "
                             f"{limit:.0f}s: {where}")
    evidence.current().notes.append(f"console said: {reading.line}")
