"""Property-based: generated inventories and past reports never make the loader or
``compare`` raise anything but their own one-line error (issue 20).

Each example starts from a valid document and replaces or deletes a few fields anywhere in
it with generated JSON values (NaN, infinities, huge integers, control characters, lists
where mappings belong...), or is raw bytes. 1,000 examples for the inventory loader and
1,000 for compare: 2,000 in all.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.access.inventory import Inventory, InventoryError, load
from fixtures.report import changes, trend
from fixtures.report.pages import render_template
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "1000"))

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``doc`` a value can be replaced or deleted."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict) -> dict:
    doc = copy.deepcopy(base)
    where = paths(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(where))
        parent = doc
        try:
            for p in path[:-1]:
                parent = parent[p]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    if draw(st.booleans()):  # a new key anywhere at the top
        doc[draw(st.text(max_size=8))] = draw(VALUES)
    return doc


# -- the inventory loader ---------------------------------------------------------------

BASE_INVENTORY = {
    "cluster": "prop", "disposable": True,
    "nodes": [
        {"name": "node1", "address": "10.0.0.1",
         "ssh": {"key": "/nonexistent/k", "port": 22, "connect_timeout": 5,
                 "host_key": "SHA256:" + "A" * 43}, "faults": {"timeout": 30}},
        {"name": "node2", "address": "10.0.0.2", "ssh": {"key": "/nonexistent/k"}},
    ],
    "network": {"netmask": 24, "virtual_ip": "10.0.0.3"},
    "heartbeat": {"deadtime": 10, "keepalive": 2},
    "budgets": {"scale": 2.0, "failback": 60, "calibration": {"measured": 3.0, "nodes": {
        "node1": 3.0}}},
    "drbd": {"resource": "r0", "port": 7789},
}
assert Inventory.model_validate(BASE_INVENTORY)


def _judge_inventory(path: Path) -> None:
    try:
        load(path, check_files=False)
    except InventoryError as exc:
        message = str(exc)
        assert message.startswith(f"inventory {path}") and "\n" not in message, message
        assert all(c.isprintable() for c in message), repr(message)


@settings(max_examples=EXAMPLES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated(BASE_INVENTORY))
def test_a_generated_inventory_loads_or_is_refused_in_one_line(doc: dict):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "inventory.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        _judge_inventory(path)


@settings(max_examples=EXAMPLES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_generated_bytes_as_an_inventory_are_refused_in_one_line(data: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "inventory.yaml"
        path.write_bytes(b"cluster: c\n" + data)
        _judge_inventory(path)


# -- compare ----------------------------------------------------------------------------

def _base_report() -> tuple[dict, dict]:
    """The sample run's report as write_report writes it; nothing left behind in /tmp."""
    with tempfile.TemporaryDirectory(prefix="hostile-property-") as d:
        write_report(sample_run(), Path(d) / "run")
        return (json.loads((Path(d) / "run" / "compliance.json").read_text()),
                json.loads((Path(d) / "run" / "config.json").read_text()))


BASE_RUN, BASE_CONFIG = _base_report()
BASE_CHANGE = {"title": "upgrade", "steps": [{"title": "a", "seconds": 1.5}],
               "downtime": {"seconds": 3, "outages": 1},
               "dataset": {"files": 2, "intact": 2, "missing": 0, "corrupt": 0},
               "checks": [{"name": "c", "ok": True}]}


def _compare(before: dict, after: dict, config: dict, change: dict) -> None:
    """The whole of `compare` but the file writing: read, check, compare, say, render."""
    with tempfile.TemporaryDirectory() as d:
        runs = []
        for name, doc in (("before", before), ("after", after)):
            run = Path(d) / name
            run.mkdir()
            (run / "compliance.json").write_text(json.dumps(doc))
            (run / "config.json").write_text(json.dumps(config if name == "after"
                                                        else BASE_CONFIG))
            runs.append(run)
        try:
            (b, b_cfg), (a, a_cfg) = changes.load_run(runs[0]), changes.load_run(runs[1])
            record = changes.normalise_change(change)
        except changes.CompareError as exc:
            assert "\n" not in str(exc), str(exc)
            return
        result = changes.compare(b, a, b_cfg, a_cfg, [b], str(runs[0]), str(runs[1]), record)
        said = changes.text(result)
        assert all(c.isprintable() for line in said.splitlines() for c in line)
        render_template("compare.html.j2", cmp=result)
        json.dumps(result, allow_nan=False)  # what write_json will be given
        trend.text(trend.compute([b, a]))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_generated_past_reports_are_compared_or_refused_in_one_line(data: st.DataObject):
    which = data.draw(st.sampled_from(["run", "config", "change"]))
    after = data.draw(mutated(BASE_RUN)) if which == "run" else BASE_RUN
    config = data.draw(mutated(BASE_CONFIG)) if which == "config" else BASE_CONFIG
    change = data.draw(mutated(BASE_CHANGE)) if which == "change" else BASE_CHANGE
    _compare(BASE_RUN, after, config, change)
