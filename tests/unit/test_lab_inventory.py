"""The lab writes an inventory the suites' schema accepts, with exactly the agreed keys."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fixtures.access.fault_hooks import DISK, HOOKS
from fixtures.access.inventory import Inventory
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
    # every hook of the fault vocabulary, as `lab <verb> NODE <state>`
    assert tuple(node2["faults"]) == HOOKS
    assert node2["faults"]["power_off"] == "cd /repo && /py -m lab power node2 off"
    assert node2["faults"]["link_up"] == "cd /repo && /py -m lab link node2 up"
    fail, restore = (node2["faults"][hook] for hook in DISK.hooks)
    assert (fail, restore) == ("cd /repo && /py -m lab disk node2 fail",
                               "cd /repo && /py -m lab disk node2 restore")


@pytest.mark.parametrize("state", [None, "/srv/ha lab"])
def test_the_suites_default_inventory_is_where_the_lab_writes_it(state: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HA_LAB_STATE"}
    if state:
        env["HA_LAB_STATE"] = state
    code = ("from fixtures.access.inventory import DEFAULT_PATH; from lab import config; "
            "print(DEFAULT_PATH, config.inventory_path(), sep='\\n')")
    out = subprocess.run([sys.executable, "-c", code], cwd=config.REPO_ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=60).stdout
    suite, lab = out.splitlines()
    assert suite == lab == f"{state or '/var/lib/ha-lab'}/inventory.yaml"


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
    from fixtures.access.inventory import load

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
    # no method declared: the CIB's fencing is judged as configured; SBD's settings apply
    assert model.fencing.sbd and model.fencing.watchdog == "/dev/watchdog"
    assert model.fencing.sbd_device == "/dev/disk/by-id/virtio-sbd"
    with pytest.raises(ValueError, match="manager"):
        inventory.build(KEY, "tcg", budgets=CALIBRATED, manager="cman")


def test_accepted_by_suite_schema(tmp_path: Path) -> None:
    import pytest

    schema = pytest.importorskip("fixtures.access.inventory")
    inv = inventory.build(KEY, "tcg", budgets=CALIBRATED)
    model = schema.Inventory.model_validate(inv)
    assert model.budgets.scale == 2.5 and model.budgets.calibration.measured == 3.6
    assert model.netns == "halab"


def test_host_keys_are_pinned_and_accepted_by_the_suite(tmp_path: Path) -> None:
    from fixtures.access.inventory import load

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


PCS = builds.get("pcs")
# The pcs commands the pcs build may use, as pcs(8) of pcs 0.11.5 (Debian 12) documents
# them under its sections host, cluster, status, stonith, property, resource, constraint.
PCS_COMMANDS = (
    ("host", "auth"),
    ("cluster", "destroy"), ("cluster", "setup"), ("cluster", "start"), ("cluster", "stop"),
    ("cluster", "enable"), ("cluster", "cib"), ("cluster", "cib-push"),
    ("cluster", "verify"),
    ("status", "corosync"),
    ("stonith", "sbd", "device", "setup"), ("stonith", "sbd", "enable"),
    ("stonith", "create"),
    ("property", "set"),
    ("resource", "create"), ("resource", "meta"), ("resource", "defaults", "update"),
    ("resource", "op", "defaults", "update"),
    ("constraint", "colocation", "add"), ("constraint", "order"), ("constraint", "location"),
)


def pcs_command_lines(text: str) -> list[list[str]]:
    """The words of every pcs command in a step (continued lines joined, comments and
    global options such as ``-f FILE`` left out, redirections dropped)."""
    import re
    import shlex

    out = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#"):
            continue
        for part in re.split(r"[;&|{}()]+", line):
            # a command may follow a shell keyword: `until pcs cluster setup ...; do`
            part = re.sub(r"^\s*((if|then|else|until|while|do|!)\s+)+", "", part)
            if not part.strip().startswith("pcs "):
                continue
            words = [w for w in shlex.split(part)[1:] if not w.startswith(("<", ">", "2>"))]
            while words and words[0].startswith("-"):
                words = words[2:] if words[0] == "-f" else words[1:]
            out.append(words)
    return out


def test_pcs_command_lines_skip_options_and_comments() -> None:
    step = ("# pcs stonith disable sbd-fencing\n"
            "pcs -f \"$cfg\" constraint order \\\n\tpromote A then start B </dev/null\n"
            "x || { pcs status corosync >&2; exit 1; }\n"
            "until pcs cluster setup c n1; do sleep 1; done\n")
    assert pcs_command_lines(step) == [["constraint", "order", "promote", "A", "then", "start",
                                        "B"], ["status", "corosync"],
                                       ["cluster", "setup", "c", "n1"]]


def test_the_pcs_build_declares_what_clusters_from_scratch_builds() -> None:
    inv = Inventory.model_validate(inventory.build(KEY, "tcg", budgets=CALIBRATED,
                                                   manager=PCS.manager, build="pcs"))
    assert PCS.foreign and inv.cluster_manager == "pacemaker"
    assert [n.name for n in inv.nodes] == ["pcmk-1", "pcmk-2"]
    assert [n.address for n in inv.nodes] == ["192.168.1.1", "192.168.1.2"]
    assert (inv.cluster, inv.drbd.resource, inv.drbd.device, inv.drbd.fstype) == (
        "mycluster", "clusterdata", "/dev/drbd1", "xfs")
    assert (inv.corosync.token, inv.corosync.consensus) == (3000, 3600)
    assert (inv.fencing.method, inv.fencing.sbd_device) == ("fence_sbd",
                                                            "/dev/disk/by-id/virtio-sbd")


def test_the_pcs_build_steps_run_in_the_guides_order() -> None:
    both, node1 = ["node1", "node2"], ["node1"]
    assert builds.steps(PCS) == [
        ("10-both-system.sh", both), ("20-node1-cluster.sh", node1),
        ("30-node1-fencing.sh", node1), ("40-both-services.sh", both),
        ("50-both-drbd.sh", both), ("60-node1-drbd-data.sh", node1),
        ("70-node1-resources.sh", node1)]


def _pcs_steps_text() -> str:
    return "\n".join((PCS.steps_dir / name).read_text() for name, _ in builds.steps(PCS))


def test_the_pcs_build_uses_only_documented_pcs_commands() -> None:
    lines = pcs_command_lines(_pcs_steps_text())
    assert len(lines) > 20
    undocumented = [" ".join(w) for w in lines
                    if not any(tuple(w[:len(c)]) == c for c in PCS_COMMANDS)]
    assert not undocumented, f"not in pcs(8) 0.11: {undocumented}"


def test_the_pcs_build_never_disables_fencing_nor_tunes_corosync() -> None:
    import re

    text = _pcs_steps_text()
    assert not re.search(r"stonith-enabled\s*=\s*(false|no|off|0)\b", text, re.I)
    assert not any(w[:2] in (["stonith", "disable"], ["stonith", "delete"])
                   for w in pcs_command_lines(text))
    assert "stonith-enabled=true" in text and "fence_sbd" in text
    # corosync's defaults: `pcs cluster setup` gets no totem options
    setup = next(w for w in pcs_command_lines(text) if w[:2] == ["cluster", "setup"])
    assert "totem" not in setup and not re.search(r"\b(token|consensus)\b", " ".join(setup))


def test_the_pcs_build_steps_say_what_its_inventory_declares() -> None:
    inv = Inventory.model_validate(inventory.build(KEY, "kvm", manager=PCS.manager,
                                                   build="pcs"))
    text = _pcs_steps_text()
    fe = inv.fencing
    for value in (f"pcs cluster setup {inv.cluster} ", f"resource {inv.drbd.resource} {{",
                  f"device    {inv.drbd.device};", f"directory={inv.drbd.mount_point} ",
                  f"fstype={inv.drbd.fstype}",
                  f"[{inv.samba.share}]", f"<name>{inv.hypervisor.vm_name}</name>",
                  f"service='{inv.hypervisor.console_port}'", "devices=\"$SBD_DEV\"",
                  f"SBD_DEV={fe.sbd_device}\n", f"watchdog-timeout={fe.watchdog_timeout} ",
                  f"msgwait-timeout={fe.msgwait} ",
                  f"priority-fencing-delay={fe.priority_fencing_delay}s",
                  *(f"{n.address}\t{n.name}\n" for n in inv.nodes),
                  *(f"{n.address}:{inv.drbd.port};" for n in inv.nodes)):
        assert value in text, value
