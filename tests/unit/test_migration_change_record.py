"""The change record in the comparison: what was changed, its steps with their durations,
the downtime and the data set's counts, read from AFTER's change.json or --change FILE
and shown first (compare.json, the terminal lines; compare.html in the browser test)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.report import changes
from fixtures.report.__main__ import main
from tests.unit.test_compare import add, reports


def sample_change(missing: int = 0) -> dict:
    """A change record as lab/rehearse.py writes it."""
    return {
        "kind": "migration",
        "title": "Heartbeat 3.0.6 to Corosync + Pacemaker + SBD, in place",
        "description": "one maintenance window on the same two nodes",
        "started": 1_795_950_000.0, "ended": 1_795_950_412.5,
        "steps": [
            {"title": "Check the cluster before the window", "seconds": 6.2, "ok": True,
             "note": "at the Heartbeat baseline", "in_window": False},
            {"title": "Open the window: stop Heartbeat, node 2 then node 1", "seconds": 71.4,
             "ok": True, "note": "node2: heartbeat stopped", "in_window": True},
            {"title": "Corosync, SBD and Pacemaker", "seconds": 188.0, "ok": True,
             "note": "14 change(s)", "in_window": True},
        ],
        "downtime": {"seconds": 301.7, "longest": 301.7, "outages": 1,
                     "method": "SMB writes through the VIP every 0.5 s"},
        "dataset": {"files": 200, "intact": 200 - missing, "missing": missing, "corrupt": 0,
                    "unreadable": 0, "bytes": 41_000_000,
                    "vm_disk": "same disk (boot counter 3 -> 4), banner boot=4 on VIP:902",
                    "vm_ok": True},
        "checks": [{"name": "file system UUID kept", "ok": True, "detail": "4e1b…"}],
    }


@pytest.fixture(autouse=True)
def fresh():
    secrets.clear()
    yield
    secrets.clear()


def test_normalise_fills_the_optional_parts_and_judges_the_change():
    ch = changes.normalise_change(sample_change())
    assert ch["ok"] and ch["seconds"] == 412.5 and len(ch["steps"]) == 3
    assert ch["downtime"] == {"seconds": 301.7, "longest": 301.7, "outages": 1,
                              "method": "SMB writes through the VIP every 0.5 s"}
    assert ch["dataset"]["ok"] and ch["dataset"]["intact"] == 200
    bare = changes.normalise_change({"title": "samba upgraded by hand"})
    assert bare["ok"] and bare["steps"] == [] and bare["downtime"] is None \
        and bare["dataset"] is None and bare["seconds"] is None
    lost = changes.normalise_change(sample_change(missing=2))
    assert not lost["ok"] and not lost["dataset"]["ok"]
    failed = sample_change()
    failed["steps"][2]["ok"] = False
    assert not changes.normalise_change(failed)["ok"]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("title"), "'title' (what was changed) is required"),
    (lambda d: d.update(steps={"a": 1}), "'steps' must be a list"),
    (lambda d: d["steps"][1].pop("seconds"), "step 2 needs a 'title' and its 'seconds'"),
    (lambda d: d["steps"][0].update(seconds="6 s"), "step 1 needs a 'title' and its 'seconds'"),
    (lambda d: d.update(downtime={"longest": 3}), "'downtime' needs its 'seconds'"),
    (lambda d: d["dataset"].pop("corrupt"), "'dataset' needs the counts files, intact, "
                                            "missing, corrupt"),
    (lambda d: d["checks"].append({"name": "x"}), "check 2 needs a 'name' and 'ok'"),
])
def test_a_malformed_record_is_named_in_one_line(mutate, message):
    doc = copy.deepcopy(sample_change())
    mutate(doc)
    with pytest.raises(changes.CompareError) as exc:
        changes.normalise_change(doc, "change.json")
    assert str(exc.value) == f"change.json: {message}"
    with pytest.raises(changes.CompareError, match="not a JSON object"):
        changes.normalise_change([1], "change.json")


def _runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = reports(tmp_path, history=0)
    a = add(root, "before", 10, takeover=11.5, seed=7)
    b = add(root, "after", 11, takeover=40.2, seed=7, changed=True)
    return root, a, b


def test_compare_reads_the_change_json_of_the_after_run(tmp_path: Path, capsys):
    root, a, b = _runs(tmp_path)
    (b / "change.json").write_text(json.dumps(sample_change()))
    assert main(["compare", str(a), str(b), "--reports-dir", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "change: Heartbeat 3.0.6 to Corosync + Pacemaker + SBD, in place (ok)"
    assert "  data set: 200/200 intact, 0 missing, 0 corrupt, 0 unreadable" in out
    assert "  downtime: 301.7 s (1 outage(s))" in out
    doc = json.loads((root / "compare-before--after" / "compare.json").read_text())
    assert doc["change"]["title"].startswith("Heartbeat 3.0.6")
    assert doc["summary"]["downtime_s"] == 301.7
    assert doc["summary"]["dataset"] == {"files": 200, "intact": 200, "missing": 0,
                                         "corrupt": 0, "unreadable": 0}
    assert [s["seconds"] for s in doc["change"]["steps"]] == [6.2, 71.4, 188.0]
    html = (root / "compare-before--after" / "compare.html").read_text()
    assert html.index('id="change"') < html.index('id="change-summary"')  # the change first


def test_change_option_wins_and_no_record_means_no_change_section(tmp_path: Path, capsys):
    root, a, b = _runs(tmp_path)
    rec = tmp_path / "elsewhere.json"
    rec.write_text(json.dumps({"title": "samba from bookworm-security", "steps": []}))
    assert main(["compare", str(a), str(b), "--reports-dir", str(root), "--change",
                 str(rec), "--out", str(tmp_path / "c1")]) == 0
    doc = json.loads((tmp_path / "c1" / "compare.json").read_text())
    assert doc["change"]["title"] == "samba from bookworm-security"
    assert doc["summary"]["downtime_s"] is None and doc["summary"]["dataset"] is None
    assert main(["compare", str(a), str(b), "--reports-dir", str(root),
                 "--out", str(tmp_path / "c2")]) == 0
    doc = json.loads((tmp_path / "c2" / "compare.json").read_text())
    assert doc["change"] is None
    assert 'id="change"' not in (tmp_path / "c2" / "compare.html").read_text()
    capsys.readouterr()


def test_a_bad_change_file_is_one_line_and_exit_2(tmp_path: Path, capsys):
    root, a, b = _runs(tmp_path)
    assert main(["compare", str(a), str(b), "--reports-dir", str(root), "--change",
                 str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("compare: ") and "missing.json" in err and err.count("\n") == 1
    (b / "change.json").write_text("{not json")
    assert main(["compare", str(a), str(b), "--reports-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert "change.json: not JSON" in err and err.count("\n") == 1
