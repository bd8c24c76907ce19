"""lab/rehearse.py's pure parts: the migrated inventory, the regressions, the change record
(read back by the comparison), and its arguments (one-line errors)."""

from __future__ import annotations

import pytest
import yaml

from fixtures.access.inventory import load
from fixtures.report import changes
from lab import inventory as lab_inventory
from lab import rehearse
from lab.inventory import build


def _lab_inventory(tmp_path) -> dict:
    key = tmp_path / "id_ed25519"
    key.write_text("k")
    key.chmod(0o600)
    return build(key, "tcg", budgets={"scale": 3.1, "calibration": {
        "measured": 1.6, "reference": 1.05, "nodes": {"node1": 1.6}, "method": "m"}},
        provision=False)


def test_migrated_inventory_is_the_same_nodes_on_pacemaker_with_sbd(tmp_path):
    raw = _lab_inventory(tmp_path)
    out = rehearse.migrated_inventory(raw, lab_inventory.pacemaker_fencing("tcg"))
    assert out["cluster_manager"] == "pacemaker" and out["provision"] is False
    # the same fencing a Pacemaker lab is written with: on TCG the longer fence delay, or
    # the holder of the group loses the fence race (HB-07 failed so in a rehearsal)
    assert out["fencing"] == lab_inventory.build(
        tmp_path / "id_ed25519", "tcg", budgets=raw["budgets"], manager="pacemaker")["fencing"]
    assert out["fencing"]["priority_fencing_delay"] == 45
    assert {k: v for k, v in out.items() if k not in ("cluster_manager", "fencing",
                                                       "provision")} == \
        {k: v for k, v in raw.items() if k not in ("cluster_manager", "provision")}
    path = tmp_path / "inventory-migrated.yaml"
    path.write_text(yaml.safe_dump(out, sort_keys=False))
    inv = load(path)
    before = tmp_path / "inventory.yaml"
    before.write_text(yaml.safe_dump(raw, sort_keys=False))
    hb = load(before)
    assert hb.cluster_manager == "heartbeat" and inv.cluster_manager == "pacemaker"
    assert [n.address for n in inv.nodes] == [n.address for n in hb.nodes]
    assert inv.budgets.scale == hb.budgets.scale and inv.netns == "halab"
    from fixtures.migration.migrate import check_pair

    assert check_pair(hb, inv) == []
    # an inventory that already had fencing settings keeps them, the device replaced
    raw["fencing"] = {"msgwait": 30, "sbd_device": "/dev/vdc"}
    assert rehearse.migrated_inventory(raw, {"sbd_device": "/dev/x"})["fencing"] == {
        "msgwait": 30, "sbd_device": "/dev/x"}


def test_regressions_are_controls_that_passed_before_and_failed_after():
    before = {"controls": [{"id": "HB-03", "status": "passed"},
                           {"id": "HB-09", "status": "not applicable"},
                           {"id": "SMB-02", "status": "failed"}]}
    after = {"controls": [{"id": "HB-03", "status": "failed"},
                          {"id": "HB-09", "status": "failed"},
                          {"id": "SMB-02", "status": "failed"}]}
    assert rehearse.regressions(before, after) == ["HB-03"]
    assert rehearse.regressions(after, after) == []


def test_the_change_record_is_what_the_comparison_reads():
    down = {"seconds": 250.4, "longest": 250.4, "outages": 1, "writes": 400, "failures": 31,
            "spans": [[1, 251.4]], "open_at_end": False}
    check = {"files": 200, "intact": 200, "missing": 0, "corrupt": 0, "unreadable": 0}
    steps = [{"title": "Open the window", "seconds": 70.2, "ok": True, "note": "",
              "in_window": True}]
    checks = [{"name": "file system UUID kept", "ok": True, "detail": "a -> a"}]
    rec = rehearse.change_record(100.0, 900.0, steps, down, check, "same disk", True, checks,
                                 41_000_000, 0.5)
    ch = changes.normalise_change(rec)
    assert ch["ok"] and ch["seconds"] == 800.0 and ch["kind"] == "migration"
    assert ch["downtime"]["seconds"] == 250.4 and "every 0.5 s" in ch["downtime"]["method"]
    assert "400 acknowledged, 31 failed" in ch["downtime"]["method"]
    assert ch["dataset"] == {**check, "bytes": 41_000_000, "vm_disk": "same disk",
                             "vm_ok": True, "ok": True}
    lost = rehearse.change_record(100.0, 900.0, steps, down, {**check, "intact": 199,
                                                               "missing": 1},
                                  "same disk", True, checks, 1, 0.5)
    assert not changes.normalise_change(lost)["ok"]
    vm_bad = rehearse.change_record(100.0, 900.0, steps, down, check, "silent", False, checks,
                                    1, 0.5)
    assert not changes.normalise_change(vm_bad)["dataset"]["ok"]


@pytest.mark.parametrize("argv, message", [
    (["--files", "0"], "--files must be at least 1"),
    (["--files", "x"], "argument --files: invalid int value: 'x'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        rehearse.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == f"rehearse: error: {message}\n"


def test_out_must_be_new_or_empty(tmp_path, capsys):
    (tmp_path / "x").write_text("")
    with pytest.raises(SystemExit):
        rehearse.parse_args(["--out", str(tmp_path)])
    assert "exists and is not empty" in capsys.readouterr().err
    assert rehearse.parse_args(["--out", str(tmp_path / "new")]).out == tmp_path / "new"
