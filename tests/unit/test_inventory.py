"""The inventory schema: good files load with SPEC defaults, bad ones fail with one line."""

from __future__ import annotations

import pytest
import yaml

from fixtures.inventory import InventoryError, load


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
    assert inv.drbd.device == "/dev/drbd0" and inv.drbd.port == 7789
    assert inv.drbd.protocol == "C" and inv.drbd.mount_point == "/var/lib/vmware"
    assert inv.network.virtual_ip == "192.168.1.3"
    assert inv.samba.share == "RaidOverIP"
    assert inv.profile == "hardened"
    assert inv.disposable is False, "a cluster is not disposable unless it says so"
    assert inv.primary.name == "node1" and inv.secondary.name == "node2"


def test_preferred_primary_and_budget_scale(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["nodes"][1]["preferred_primary"] = True
    data["budgets"] = {"scale": 2.0, "takeover_after_stop": 20}
    inv = load(_write(tmp_path, data))
    assert inv.primary.name == "node2"
    assert inv.budgets.limit("takeover_after_stop") == 40.0


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
