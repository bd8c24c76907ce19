"""Article §6: the virtualisation server restarts its VM on the survivor."""

from __future__ import annotations

import pytest

from fixtures import evidence


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
    xml = active.run(f"virsh -c qemu:///system dumpxml {hypervisor.vm}", check=True).stdout
    sources = [line.split("'")[1] for line in xml.splitlines() if "<source file=" in line]
    assert sources and all(s.startswith(mp + "/") for s in sources), (
        f"VM disks {sources} are not under {mp}")
    assert active.host.file(f"{hypervisor.vm_dir}/{hypervisor.vm}.xml").exists, (
        f"VM definition not under {hypervisor.vm_dir}")


@pytest.mark.control("VIRT-02")
@pytest.mark.disruptive
@pytest.mark.timeout(1500)
def test_vm_console_answers_on_the_vip_again_from_node2_after_node1_fails(
        scenarios, inventory, node2):
    sc = scenarios.power_failure().require()
    budget = inventory.budgets.limit("console_outage") + inventory.heartbeat.deadtime
    assert sc.facts["boot before"] is not None, "the console did not answer before the fault"
    window = sc.console.outage(sc.t0 - 5) if sc.console else None
    outage = round(window[1] - window[0], 2) if window else None
    evidence.current().measure("VM console outage", outage, budget=budget)
    assert sc.marks.get("console answers from node2"), (
        "the console never answered again on the VIP after node1 failed")
    assert sc.facts["console served by"] == [node2.name], (
        f"console served by {sc.facts['console served by']}, expected {node2.name} alone")
    assert outage is not None and outage <= budget, f"console silent {outage}s, budget {budget}s"


@pytest.mark.control("VIRT-03")
@pytest.mark.disruptive
@pytest.mark.timeout(1500)
def test_vmstart_restarts_the_vm_on_the_survivor_with_its_disk_intact(scenarios, inventory):
    sc = scenarios.power_failure().require()
    restart = sc.figure("VM restart (node2 Primary → console answers)",
                        "console answers from node2", "node2 primary",
                        budget=inventory.budgets.limit("vm_restart"))
    assert sc.facts["vm on node2"], "the VM was not running on node2 after the failover"
    before, after = sc.facts["boot before"], sc.facts["boot after"]
    assert before is not None and after is not None, f"boot counts: before {before}, after {after}"
    assert after == before + 1, (
        f"the guest's boot counter went from {before} to {after}: its disk written before "
        "the failure did not survive intact (expected +1)")
    assert sc.facts["vm back on node1"], "after failback the VM did not run on node1 again"
    assert restart is not None and restart <= inventory.budgets.limit("vm_restart"), (
        f"the VM answered {restart}s after node2 took DRBD, budget "
        f"{inventory.budgets.limit('vm_restart'):.0f}s")

