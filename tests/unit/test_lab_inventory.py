"""The lab writes an inventory the suites' schema accepts, with exactly the agreed keys."""

import re
from pathlib import Path

import pytest
import yaml

from fixtures.inventory import Inventory
from lab import builds, config, inventory

KEY = Path("/var/cache/ha-lab/abc/id_ed25519")


CALIBRATED = {"scale": 2.5, "calibration": {"measured": 3.6, "reference": 2.85, "nodes": {},
                                            "method": "m"}}


def test_inventory_top_level_keys_and_values() -> None:
    inv = inventory.build(KEY, "tcg", python="/py", repo=Path("/repo"), budgets=CALIBRATED)
    assert list(inv) == ["cluster", "profile", "cluster_manager", "disposable", "provision",
                         "netns", "nodes", "network", "hypervisor", "budgets"]
    assert inv["cluster"] == "lab"
    assert inv["profile"] == "hardened"
    assert inv["cluster_manager"] == "heartbeat"
    assert inv["disposable"] is True and inv["provision"] is True
    assert inv["netns"] == "halab"
    assert inv["network"] == {"netmask": 24, "virtual_ip": "192.168.1.3",
                              "ping_node": "192.168.1.254",
                              "time_server": "192.168.1.254"}
    assert inv["budgets"] == CALIBRATED


def test_the_lab_asks_for_its_guests_own_banner_and_its_boot_counter() -> None:
    # the line guest/hademo.asm prints once a second
    pattern = inventory.build(KEY, "kvm")["hypervisor"]["console_banner"]
    m = re.search(pattern, "HADEMO guest up: boot=12 tick=345")
    assert m and (m["boot"], m["tick"]) == ("12", "345")


def test_tcg_budgets_come_from_calibration_never_a_constant() -> None:
    with pytest.raises(ValueError, match="calibrate"):
        inventory.build(KEY, "tcg")


def test_restored_snapshot_says_no_provisioning() -> None:
    assert inventory.build(KEY, "kvm", provision=False)["provision"] is False


def test_kvm_keeps_default_budgets() -> None:
    assert inventory.build(KEY, "kvm")["budgets"] == {"scale": 1.0}


def test_node_entries() -> None:
    inv = inventory.build(KEY, "kvm", python="/py", repo=Path("/repo"))
    node1, node2 = inv["nodes"]
    assert set(node1) == {"name", "address", "interface", "preferred_primary", "disk", "serial",
                          "ssh", "faults"}
    assert (node1["name"], node1["address"], node1["preferred_primary"]) == (
        "node1", "192.168.1.1", True)
    assert (node2["name"], node2["address"], node2["preferred_primary"]) == (
        "node2", "192.168.1.2", False)
    assert node1["disk"] == "/dev/vdb" and node1["serial"] == "/dev/ttyS1"
    assert node1["interface"] == "eth0"
    assert node1["ssh"] == {"user": "root", "port": 22, "key": str(KEY)}
    assert node2["faults"] == {
        "power_off": "cd /repo && /py -m lab power node2 off",
        "power_on": "cd /repo && /py -m lab power node2 on",
        "link_down": "cd /repo && /py -m lab link node2 down",
        "link_up": "cd /repo && /py -m lab link node2 up",
    }


def test_fault_commands_default_to_this_interpreter_and_repo() -> None:
    inv = inventory.build(KEY, "kvm")
    cmd = inv["nodes"][0]["faults"]["power_off"]
    assert cmd.startswith(f"cd {config.REPO_ROOT} && ")
    assert config.python_executable() in cmd


def test_paths_with_spaces_are_quoted() -> None:
    cmd = inventory.fault_command("/my py/python", Path("/a repo"), "power", "node1", "on")
    assert cmd == "cd '/a repo' && '/my py/python' -m lab power node1 on"


def test_round_trips_through_yaml(tmp_path: Path) -> None:
    inv = inventory.build(KEY, "tcg", profile="article", budgets=CALIBRATED)
    path = inventory.write(inv, tmp_path / "inventory.yaml")
    assert yaml.safe_load(path.read_text()) == inv
    assert not (tmp_path / "inventory.tmp").exists()


def test_unknown_profile_rejected() -> None:
    import pytest

    with pytest.raises(ValueError):
        inventory.build(KEY, "tcg", profile="bogus")


def test_pacemaker_fences_with_sbd_on_the_shared_disk(tmp_path: Path) -> None:
    from fixtures.inventory import load

    inv = inventory.build(KEY, "tcg", budgets=CALIBRATED, manager="pacemaker")
    assert inv["cluster_manager"] == "pacemaker"
    # the disk lab/qemu.py attaches to both nodes with serial "sbd"; on TCG a delay the
    # holder's slow fence fits in; the rest are defaults
    assert inv["fencing"] == {"sbd_device": "/dev/disk/by-id/virtio-sbd",
                              "priority_fencing_delay": 45}
    kvm = inventory.build(KEY, "kvm", manager="pacemaker")
    assert kvm["fencing"] == {"sbd_device": "/dev/disk/by-id/virtio-sbd"}
    assert "fencing" not in inventory.build(KEY, "tcg", budgets=CALIBRATED)
    model = load(inventory.write(inv, tmp_path / "inventory.yaml"), check_files=False)
    assert model.cluster_manager == "pacemaker"
    assert model.fencing.method == "sbd" and model.fencing.watchdog == "/dev/watchdog"
    assert model.fencing.sbd_device == "/dev/disk/by-id/virtio-sbd"
    with pytest.raises(ValueError, match="manager"):
        inventory.build(KEY, "tcg", budgets=CALIBRATED, manager="cman")


def test_accepted_by_suite_schema(tmp_path: Path) -> None:
    import pytest

    schema = pytest.importorskip("fixtures.inventory")
    inv = inventory.build(KEY, "tcg", budgets=CALIBRATED)
    model = schema.Inventory.model_validate(inv)
    assert model.budgets.scale == 2.5 and model.budgets.calibration.measured == 3.6
    assert model.netns == "halab"


def test_host_keys_are_pinned_and_accepted_by_the_suite(tmp_path: Path) -> None:
    from fixtures.inventory import load

    line = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGEDSNdmYKWrgOcxN/JjN4DCgYtpQWb51ZGLKwFpzi3n")
    inv = inventory.build(KEY, "kvm", host_keys={"node1": line, "node2": line})
    assert [n["ssh"]["host_key"] for n in inv["nodes"]] == [line, line]
    assert "host_key" not in inventory.build(KEY, "kvm")["nodes"][0]["ssh"]
    model = load(inventory.write(inv, tmp_path / "inventory.yaml"), check_files=False)
    assert model.nodes[0].ssh.host_key == line


def test_a_foreign_build_declares_its_own_names_and_values() -> None:
    """lab/builds.py: the article-text build's inventory names the nodes as its steps do
    and loads under the suite's schema; the lab's wiring (addresses, hooks) stays."""
    inv = inventory.build(KEY, "tcg", budgets=CALIBRATED, build="article-text")
    assert [n["name"] for n in inv["nodes"]] == ["HAdebian01", "HAdebian02"]
    assert [n["address"] for n in inv["nodes"]] == ["192.168.1.1", "192.168.1.2"]
    assert "lab power node1 off" in inv["nodes"][0]["faults"]["power_off"].replace("'", "")
    loaded = Inventory.model_validate(inv)
    assert (loaded.cluster, loaded.drbd.resource) == ("article-text", "user")


def test_every_foreign_build_step_runs_on_known_nodes() -> None:
    for build in builds.BUILDS.values():
        if build.foreign:
            assert builds.steps(build), f"{build.name}: no steps"


def test_the_site_access_build_reaches_the_nodes_as_a_site_would() -> None:
    inv = Inventory.model_validate(inventory.build(KEY, "tcg", budgets=CALIBRATED,
                                                   build="site-access"))
    assert [n.name for n in inv.nodes] == ["ha1.cluster.example", "ha2.cluster.example"]
    assert {(n.ssh.user, n.ssh.become, n.ssh.port) for n in inv.nodes} == {
        ("hadmin", "sudo", 2222)}
    assert inv.cluster_manager == "heartbeat" and inv.provision
