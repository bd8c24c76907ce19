"""fixtures.cib judges a CIB against SPEC §6's group; each breakage names itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures.cib import Cib, CibError, group_problems
from fixtures.inventory import Inventory

SAMPLE = (Path(__file__).parent / "data" / "cib-lab.xml").read_text()
INV = Inventory.model_validate({
    "cluster": "lab", "cluster_manager": "pacemaker",
    "nodes": [{"name": "node1", "address": "192.168.1.1", "preferred_primary": True,
               "ssh": {}},
              {"name": "node2", "address": "192.168.1.2", "ssh": {}}],
})


def test_the_lab_cib_is_the_articles_group():
    assert group_problems(Cib.parse(SAMPLE), INV) == []


def test_a_whole_cib_document_is_read_too():
    assert group_problems(Cib.parse(f"<cib>{SAMPLE}</cib>"), INV) == []


BREAKAGES = [
    ('value="true" id="cib-bootstrap-options-stonith-enabled"',
     'value="false" id="cib-bootstrap-options-stonith-enabled"', "stonith-enabled is false"),
    (r'<primitive id="fence-sbd".*?</primitive>', "", "no fence device"),
    (r'<rsc_colocation [^>]*/>', "", "is not colocated"),
    ('with-rsc-role="Promoted"', 'with-rsc-role="Unpromoted"', "is not colocated"),
    (r'<rsc_order [^>]*/>', "", "is not ordered"),
    ('first-action="promote"', 'first-action="start"', "is not ordered"),
    (r'<rsc_location [^>]*/>', "", "no location preference"),
    ('score="200" node="node1"', 'score="50" node="node1"', "does not beat resource-stickiness"),
    ('<nvpair name="promotable" value="true" id="drbd-clone-meta_attributes-promotable"/>', "",
     "no promotable clone"),
    ('value="192.168.1.3"', 'value="192.168.1.9"', "holds 192.168.1.9"),
    ('<primitive id="smbd" class="systemd" type="smbd"/>', "", "no group of"),
]


@pytest.mark.parametrize(("pattern", "replacement", "expected"), BREAKAGES,
                         ids=[b[2] for b in BREAKAGES])
def test_each_breakage_is_named(pattern, replacement, expected):
    broken = re.sub(pattern, replacement, SAMPLE, count=1, flags=re.S)
    assert broken != SAMPLE
    found = group_problems(Cib.parse(broken), INV)
    assert any(expected in line for line in found), found


def test_the_deprecated_ms_syntax_is_named():
    legacy = SAMPLE.replace('<clone id="drbd-clone">', '<master id="drbd-clone">').replace(
        "</clone>", "</master>")
    found = group_problems(Cib.parse(legacy), INV)
    assert any("deprecated master/slave" in line for line in found), found


def test_stonith_is_on_when_the_property_is_absent():
    cib = Cib.parse(re.sub(r'<nvpair name="stonith-enabled"[^>]*/>', "", SAMPLE))
    assert cib.stonith_enabled


@pytest.mark.parametrize("text", ["not xml", "<status/>"])
def test_an_unreadable_cib_is_one_error(text):
    with pytest.raises(CibError):
        Cib.parse(text)
