"""The inventory schema: good files load with SPEC defaults, bad ones fail with one line."""

from __future__ import annotations

import pytest
import yaml

from fixtures.access.fault_hooks import HOOKS
from fixtures.access.inventory import FaultHooks, InventoryError, load


def _write(tmp_path, data) -> str:
    key = tmp_path / "id_ed25519"
    key.write_text("not really a key")
    text = yaml.safe_dump(data) if not isinstance(data, str) else data
    path = tmp_path / "inventory.yaml"
    path.write_text(text.replace("KEY", str(key)))
    return str(path)


GOOD = {
    "cluster": "staging",
    "nodes": [
        {"name": "node1", "address": "192.168.1.1", "ssh": {"key": "KEY"}},
        {"name": "node2", "address": "192.168.1.2", "ssh": {"key": "KEY"}},
    ],
}


def test_minimal_inventory_takes_the_articles_defaults(tmp_path):
    inv = load(_write(tmp_path, GOOD))
    assert (inv.heartbeat.keepalive, inv.heartbeat.warntime, inv.heartbeat.deadtime,
            inv.heartbeat.initdead, inv.heartbeat.udpport) == (2, 6, 10, 60, 694)
    # device, minor and port are read from the nodes unless declared (SPEC §7);
    # provisioning builds SPEC §1's
    assert (inv.drbd.device, inv.drbd.minor, inv.drbd.port) == (None, None, None)
    assert (inv.drbd.as_built().device, inv.drbd.as_built().port) == ("/dev/drbd0", 7789)
    assert inv.drbd.meta_disk == "internal"
    assert inv.drbd.protocol == "C" and inv.drbd.mount_point == "/var/lib/vmware"
    assert inv.network.virtual_ip == "192.168.1.3"
    assert inv.samba.share == "RaidOverIP"
    assert inv.profile == "hardened"
    assert inv.disposable is False, "a cluster is not disposable unless it says so"
    assert inv.primary.name == "node1" and inv.secondary.name == "node2"
    # a node's fault hooks are the fault vocabulary's, none given by default
    assert list(FaultHooks.model_fields) == [*HOOKS, "timeout"]
    assert all(getattr(inv.primary.faults, hook) is None for hook in HOOKS)


def test_preferred_primary_and_budget_scale(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["nodes"][1]["preferred_primary"] = True
    data["budgets"] = {"scale": 2.0, "takeover_after_stop": 20}
    inv = load(_write(tmp_path, data))
    assert inv.primary.name == "node2"
    assert inv.budgets.scaled.takeover_after_stop == 40.0


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.update(colour="blue"), "colour: unknown key"),
    (lambda d: d.pop("cluster"), "cluster: missing key"),
    (lambda d: d["nodes"][0].update(address="not-an-ip"), "nodes.0.address"),
    (lambda d: d["nodes"][1].update(name="node1"), "both nodes are named 'node1'"),
    (lambda d: d["nodes"].pop(), "nodes"),
    (lambda d: d.update(profile="cowboy"), "profile"),
    (lambda d: d["heartbeat"].update(deadtime="ten") if "heartbeat" in d
     else d.update(heartbeat={"deadtime": "ten"}), "heartbeat.deadtime"),
])
def test_bad_inventories_fail_with_one_line_naming_the_problem(tmp_path, mutate, expected):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(data)
    with pytest.raises(InventoryError) as err:
        load(_write(tmp_path, data))
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_missing_key_file_is_named(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["nodes"][0]["ssh"]["key"] = "/nonexistent/key"
    with pytest.raises(InventoryError, match=r"nodes.node1.ssh.key: no such file /nonexistent"):
        load(_write(tmp_path, data))


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(InventoryError, match="no such file"):
        load(tmp_path / "absent.yaml")
    with pytest.raises(InventoryError, match="unreadable"):
        load(_write(tmp_path, "cluster: [unclosed"))
    with pytest.raises(InventoryError, match="mapping"):
        load(_write(tmp_path, "- just a list"))


def test_real_world_values_pass_the_strict_patterns(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["nodes"][0].update(interface="enp0s31f6", disk="/dev/disk/by-id/ata-ST1000_Z1D2:part1",
                            serial="/dev/ttyUSB0")
    data["nodes"][1].update(interface="bond0.100", disk="/dev/mapper/vg0-drbd")
    data["drbd"] = {"resource": "r0", "device": "/dev/drbd10", "mount_point": "/srv/vm-images",
                    "fstype": "ext4", "resync_rate": "40M"}
    data["samba"] = {"shares": ["Raid_Over-IP.1", "public"]}
    data["hypervisor"] = {"vms": ["web-01.prod", "db-01"]}
    data["cluster"] = "prod-paris.2"
    data["netns"] = "ha_ns"
    data["heartbeat"] = {"keepalive": 1, "warntime": 2, "deadtime": 3, "initdead": 6}
    data["network"] = {"netmask": 24, "virtual_ip": "192.168.1.254"}
    inv = load(_write(tmp_path, data))
    assert inv.nodes[0].disk == "/dev/disk/by-id/ata-ST1000_Z1D2:part1"
    assert inv.heartbeat.initdead == 6


def test_tilde_expands_in_key_known_hosts_and_inventory_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "id").write_text("x")
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for node in data["nodes"]:
        node["ssh"] = {"key": "~/id", "known_hosts": "~/kh"}
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(data))
    inv = load("~/inv.yaml")
    assert inv.nodes[0].ssh.key == tmp_path / "id"
    assert inv.nodes[0].ssh.known_hosts == tmp_path / "kh"
    assert inv.source == tmp_path / "inv.yaml"


def test_key_is_optional_and_known_hosts_defaults_to_the_users(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for node in data["nodes"]:
        node["ssh"] = {}
    inv = load(_write(tmp_path, data))
    assert inv.nodes[0].ssh.key is None  # the ssh-agent's keys
    assert inv.nodes[0].ssh.known_hosts.name == "known_hosts"
    assert "~" not in str(inv.nodes[0].ssh.known_hosts)


@pytest.mark.parametrize("pin, ok", [
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGEDSNdmYKWrgOcxN/JjN4DCgYtpQWb51ZGLKwFpzi3n root@x",
     True),
    ("SHA256:8jKCOUq1oeYlnNGfmpWauXw3O6kXUax084IeZccPO/c", True),
    ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGEDSNdmYKWrgOcxN/JjN4DCgYtpQWb51ZGLKwFpzi3n", False),
    ("ssh-ed25519 not-base64!", False),
    ("MD5:aa:bb", False),
])
def test_host_key_pin_forms(tmp_path, pin, ok):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["nodes"][0]["ssh"]["host_key"] = pin
    if ok:
        assert load(_write(tmp_path, data)).nodes[0].ssh.host_key == " ".join(pin.split()[:2])
    else:
        with pytest.raises(InventoryError, match="nodes.0.ssh.host_key"):
            load(_write(tmp_path, data))
