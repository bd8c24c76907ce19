"""The migration runbook Heartbeat -> Pacemaker (fixtures/migration/migrate.py), without a node:
its steps, their commands rendered from the inventories (quoted), the fitness check of
the two inventories, and the proof that the data was kept (DRBD generations, fs UUID)."""

from __future__ import annotations

import shlex

import pytest

from fixtures.access.inventory import DRBD, Fencing, Inventory
from fixtures.migration import migrate
from fixtures.migration.migrate import (
    STEPS,
    MigrationError,
    check_pair,
    judge_identity,
    parse_gi,
    runbook,
    same_data_generation,
)
from fixtures.provision import system as p_system
from fixtures.provision.run import PACEMAKER_STEPS
from tests.unit.test_templates import _inventory as base_inventory

GI_A = ("5A9C53DAEB0A5B4B", "0000000000000000", "E6D2E7EE1D8F55C4", "E6D1E7EE1D8F55C5")


def pair(**after) -> tuple[Inventory, Inventory]:
    hb = base_inventory("hardened").model_copy(update={"cluster": "lab"})
    pm = hb.model_copy(update={"cluster_manager": "pacemaker",
                               "fencing": Fencing(sbd_device="/dev/disk/by-id/virtio-sbd"),
                               **after})
    return hb, pm


def lines(step_key: str, before: Inventory, after: Inventory) -> list[tuple[str, str]]:
    step = next(s for s in STEPS if s.key == step_key)
    return [(c.on, c.line) for c in step.commands(before, after)]


def test_one_window_node2_stopped_before_node1_and_heartbeat_disabled():
    hb, pm = pair()
    keys = [s.key for s in STEPS]
    window = [s.key for s in STEPS if s.in_window]
    # the window is one contiguous stretch from the heartbeat stop to the group's return
    assert window == keys[keys.index("stop-heartbeat"):keys.index("group-back") + 1]
    assert keys.index("record") < keys.index("stop-heartbeat") < keys.index("verify")
    assert lines("stop-heartbeat", hb, pm) == [
        ("node2", "systemctl stop heartbeat"), ("node2", "systemctl disable heartbeat"),
        ("node1", "systemctl stop heartbeat"), ("node1", "systemctl disable heartbeat")]
    for step in STEPS:
        assert step.title and len(step.why) > 40, step.key  # each says why


def test_no_step_recreates_metadata_or_the_file_system():
    hb, pm = pair()
    text = runbook(hb, pm)
    assert "create-md" not in text.replace("never create-md", "").replace(
        "need create-md", "")
    assert "mkfs" not in text
    assert "drbdadm adjust r0" in text and "drbdadm get-gi r0" in text
    assert "blkid -p -o value -s UUID $(drbdadm sh-dev r0 | head -n1)" in text


def test_the_migration_reuses_provisionings_pacemaker_steps():
    """Every Pacemaker provisioning step but §2 (nodes, untouched by the manager) is run by
    a migration step: a new provisioning step cannot be silently left out."""
    used = set()
    for step in STEPS:
        cells = step.run.__closure__ or ()
        for cell in cells:
            if isinstance(cell.cell_contents, tuple):
                used.update(cell.cell_contents)
    used.add(migrate.p_pacemaker.retire_heartbeat)  # run_stop_heartbeat calls it
    needed = {fn for _, fn in PACEMAKER_STEPS} - {p_system.apply}
    assert needed <= used


def test_commands_are_rendered_from_the_inventory():
    hb, pm = pair(fencing=Fencing(sbd_device="/dev/disk/by-id/virtio-fence0",
                                  watchdog_timeout=15, msgwait=30))
    pcmk = dict(lines("pacemaker", hb, pm))
    sbd = [ln for on, ln in lines("pacemaker", hb, pm) if ln.startswith("sbd ")]
    assert sbd == ["sbd -d /dev/disk/by-id/virtio-fence0 -1 15 -4 30 create"]
    assert pcmk["node1"].startswith("crm configure load update /etc/ha-suite/cib.crm")
    pre = [ln for _, ln in lines("preflight", hb, pm)]
    assert "test -b /dev/disk/by-id/virtio-fence0 && test -c /dev/watchdog" in pre


def test_commands_quote_every_inventory_value():
    """The inventory's patterns already refuse shell metacharacters; the runbook quotes
    anyway, so a value reaching it unvalidated stays one word."""
    evil = "r0; rm -rf /"
    hb, pm = pair()
    hb = hb.model_copy(update={"drbd": DRBD.model_construct(
        **{**hb.drbd.model_dump(), "resource": evil, "mount_point": "/srv/a b"})})
    pm = pm.model_copy(update={"drbd": hb.drbd})
    for step in STEPS:
        for c in step.commands(hb, pm):
            words = shlex.split(c.line, comments=True)
            assert "rm" not in words, (step.key, c.line)
            if evil in c.line:
                assert evil in words or f"{evil}.res" in " ".join(words), c.line
    assert ("each node", "drbdadm adjust 'r0; rm -rf /'   # never create-md") in \
        lines("drbd", hb, pm)
    assert ("each node", "! mountpoint -q '/srv/a b'") in lines("released", hb, pm)


def test_inventories_that_are_not_one_cluster_moved_are_refused():
    hb, pm = pair()
    assert check_pair(hb, pm) == []
    assert check_pair(pm, pm)[0].startswith("the inventory before says pacemaker")
    assert "after says heartbeat" in check_pair(hb, hb)[0]
    other = pm.model_copy(update={"drbd": DRBD(resource="r1")})
    assert check_pair(hb, other) == ["the two inventories describe different DRBD resources"]
    moved = pm.model_copy(update={"nodes": list(reversed(pm.nodes))})
    assert "different nodes" in check_pair(hb, moved)[0]
    with pytest.raises(MigrationError, match="different DRBD"):
        migrate.Migration(hb, other)  # refused before any connection


def test_generation_identifiers_parse_and_descend():
    assert parse_gi(":".join(GI_A) + ":1:1:1:1:0:0:0:0:0:0:0:0\n") == GI_A
    with pytest.raises(MigrationError, match="no DRBD generation"):
        parse_gi("'r0' not defined in your config\n")
    # same generation; the Primary bit (lowest) flipped
    assert same_data_generation(GI_A, ("5A9C53DAEB0A5B4A",) + GI_A[1:])
    # a new generation began: the old current is now the bitmap UUID
    assert same_data_generation(GI_A, ("1111222233334444", "5A9C53DAEB0A5B4A") + GI_A[2:])
    # fresh metadata from create-md: nothing of the old lineage
    fresh = ("0000000000000004", "0000000000000000", "0000000000000000", "0000000000000000")
    assert not same_data_generation(GI_A, fresh)
    assert not same_data_generation(("0" * 16,) * 4, ("0" * 16,) * 4)  # nothing recorded


def test_judge_identity_names_a_recreated_file_system_or_metadata():
    before = {"fs_uuid": "4e1b", "gi": {"node1": GI_A, "node2": GI_A}}
    assert judge_identity(before, before) == []
    fresh = ("0000000000000004",) + ("0" * 16,) * 3
    after = {"fs_uuid": "9999", "gi": {"node1": GI_A, "node2": fresh}}
    problems = judge_identity(before, after)
    assert problems[0] == "file system UUID changed: 4e1b -> 9999 (the file system was " \
                          "re-created)"
    assert problems[1].startswith("node2: DRBD generation 5A9C53DAEB0A5B4B is not in")
    assert len(problems) == 2
    assert judge_identity({"fs_uuid": "", "gi": {}}, before) == [
        "no file system UUID was recorded before the migration"]
    assert judge_identity(before, {"fs_uuid": "4e1b", "gi": {"node1": GI_A}}) == [
        "node2: no DRBD generation identifiers after the migration"]


def test_runbook_cli_prints_the_steps_and_refuses_a_bad_pair(tmp_path, capsys):
    import yaml

    hb, pm = pair()
    for name, inv in (("hb.yaml", hb), ("pm.yaml", pm)):
        (tmp_path / name).write_text(yaml.safe_dump(inv.model_dump(mode="json",
                                                                    exclude_unset=True)))
    assert migrate.main(["--before", str(tmp_path / "hb.yaml"),
                           "--after", str(tmp_path / "pm.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n## ") == len(STEPS)
    assert "[node2] systemctl stop heartbeat" in out and "(service down)" in out
    assert migrate.main(["--before", str(tmp_path / "pm.yaml"),
                           "--after", str(tmp_path / "hb.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("migration: the inventory before says pacemaker") and \
        err.count("\n") == 1
    assert migrate.main(["--before", str(tmp_path / "nope.yaml"),
                           "--after", str(tmp_path / "pm.yaml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
