"""lab/snapshot.py: the key changes with whatever shaped the disks, save/restore copy
the disks, the phases file records the setup's stretches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import snapshot
from lab.errors import LabError

INV = {"cluster": "lab", "profile": "hardened", "provision": True, "nodes": [{"name": "node1"}],
       "budgets": {"scale": 2.0}}


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HA_LAB_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def key(**changes) -> str:
    inv = {**INV, **changes.pop("inventory", {})}
    args = {"image_hash": "img1", "provision_hash": "prov1", **changes}
    return snapshot.key_of(snapshot.key_inputs(args["image_hash"], inv, args["provision_hash"]))


def test_volatile_parts_do_not_change_the_key() -> None:
    assert key() == key(inventory={"budgets": {"scale": 5.0}, "provision": False})


@pytest.mark.parametrize("change", [
    {"image_hash": "img2"}, {"provision_hash": "prov2"},
    {"inventory": {"profile": "article"}}, {"inventory": {"cluster_manager": "pacemaker"}},
    {"inventory": {"nodes": [{"name": "nodeX"}]}},
])
def test_anything_that_shaped_the_disks_changes_the_key(change) -> None:
    assert key(**change) != key()


def test_provisioning_code_is_hashed(tmp_path: Path) -> None:
    tree = tmp_path / "prov"
    (tree / "templates").mkdir(parents=True)
    (tree / "templates" / "ha.cf.j2").write_text("deadtime 10\n")
    before = snapshot.tree_hash(tree)
    (tree / "templates" / "ha.cf.j2").write_text("deadtime 30\n")
    assert snapshot.tree_hash(tree) != before


def test_each_managers_provisioning_is_hashed_and_nothing_else_of_it(tmp_path: Path) -> None:
    """The key follows fixtures/provision/ and each manager's provision.py and templates/,
    not its parsers or driver (a change there does not provision the lab again)."""
    for rel, text in (("provision/run.py", "steps"), ("managers/m/provision.py", "apply"),
                      ("managers/m/templates/m.conf.j2", "x"), ("managers/m/driver.py", "d")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    before = snapshot.tree_hash(tmp_path, snapshot.PROVISIONING)
    (tmp_path / "managers/m/driver.py").write_text("d2")
    assert snapshot.tree_hash(tmp_path, snapshot.PROVISIONING) == before
    for rel in ("managers/m/provision.py", "managers/m/templates/m.conf.j2", "provision/run.py"):
        (tmp_path / rel).write_text("changed")
        assert snapshot.tree_hash(tmp_path, snapshot.PROVISIONING) != before
        before = snapshot.tree_hash(tmp_path, snapshot.PROVISIONING)


def test_save_then_restore_brings_the_disks_back(tmp_path: Path) -> None:
    nodes = {"node1": tmp_path / "n1", "node2": tmp_path / "n2"}
    for name, d in nodes.items():
        d.mkdir()
        (d / "root.qcow2").write_bytes(b"root " + name.encode())
        with (d / "data.raw").open("wb") as fh:
            fh.write(b"drbd")
            fh.truncate(1 << 20)
    sbd = tmp_path / "sbd.img"
    with sbd.open("wb") as fh:
        fh.write(b"SBD header and slots")
        fh.truncate(8 << 20)
    snapshot.save("k1", {"image": "x"}, nodes, [sbd])
    assert snapshot.present("k1") and not snapshot.present("k2")
    for d in nodes.values():
        (d / "root.qcow2").write_bytes(b"changed by a scenario")
    sbd.write_bytes(b"node1 fenced node2")
    snapshot.restore("k1", nodes, [sbd])
    assert (nodes["node2"] / "root.qcow2").read_bytes() == b"root node2"
    assert (nodes["node1"] / "data.raw").stat().st_size == 1 << 20
    # the SBD disk both nodes share comes back with the nodes' disks
    assert sbd.read_bytes()[:20] == b"SBD header and slots" and sbd.stat().st_size == 8 << 20
    snapshot.save("k2", {"image": "y"}, nodes)
    assert snapshot.present("k2") and not snapshot.present("k1")  # one snapshot kept
    with pytest.raises(LabError, match="no snapshot k1"):
        snapshot.restore("k1", nodes)
    # a snapshot saved without the SBD disk cannot restore a lab that has one
    with pytest.raises(LabError, match="lacks sbd.img"):
        snapshot.restore("k2", nodes, [sbd])


@pytest.mark.parametrize("previous, requested, have_disks, usable, action", [
    ("heartbeat", "heartbeat", True, False, "keep"),  # today's `lab up`
    ("pacemaker", "pacemaker", True, True, "keep"),
    ("heartbeat", "pacemaker", False, False, "keep"),  # nothing to keep: blank anyway
    ("heartbeat", "pacemaker", True, True, "restore"),
    ("heartbeat", "pacemaker", True, False, "blank"),  # never provision over the other's
    ("pacemaker", "heartbeat", True, False, "blank"),
])
def test_build_switch(previous, requested, have_disks, usable, action) -> None:
    assert snapshot.build_switch(previous, requested, have_disks, usable) == action


def test_the_lab_remembers_its_build() -> None:
    assert snapshot.lab_build() == "heartbeat"  # a lab from before the record
    snapshot.set_lab_build("pacemaker")
    assert snapshot.lab_build() == "pacemaker"


def test_phases_are_recorded_in_order_with_epoch_seconds() -> None:
    snapshot.start_phases()
    with snapshot.phase("boot to SSH", "setup"):
        pass
    with pytest.raises(RuntimeError), snapshot.phase("calibration", "setup"):
        raise RuntimeError("x")
    phases = json.loads(snapshot.phases_path().read_text())
    assert [(p["name"], p["kind"]) for p in phases] == [("boot to SSH", "setup"),
                                                       ("calibration", "setup")]
    assert phases[0]["ended"] >= phases[0]["started"] > 1.7e9
    assert phases[1]["ended"] is None


def test_the_running_record_follows_the_disks() -> None:
    snapshot.set_running_from("k1")
    assert snapshot.running_from() == "k1"
    snapshot.set_running_from(None)
    assert snapshot.running_from() is None
