"""fixtures.managers.pacemaker.cib judges a CIB by meaning (SPEC §6, §7): the project's own
CIB, one written by pcs after ClusterLabs' "Clusters from Scratch", one with resource sets,
the legacy master/slave form; each breakage fails naming itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures.access.inventory import Inventory
from fixtures.managers.pacemaker.cib import (
    Cib,
    CibError,
    FenceMechanism,
    cib_problems,
    fencing_in_use,
    graph_of,
)
from tests.unit.test_provision_pacemaker import _cib as rendered_template
from tests.unit.test_provision_pacemaker import _inventory as template_inventory

DATA = Path(__file__).parent / "data"
# the lab's CIB as Pacemaker holds it after `crm configure load update` of cib.crm.j2
SAMPLE = (DATA / "cib-lab.xml").read_text()
# pcs 0.11 on Pacemaker 2.1 after Clusters from Scratch (see the file's comment)
CFS = (DATA / "cib-pcs-cfs.xml").read_text()
# the same service tied by resource sets, SBD without a disk (see the file's comment)
SETS = (DATA / "cib-resource-sets.xml").read_text()


def _inventory(**sections) -> Inventory:
    return Inventory.model_validate({
        "cluster": "lab", "cluster_manager": "pacemaker",
        "nodes": [{"name": "node1", "address": "192.168.1.1", "preferred_primary": True,
                   "ssh": {}},
                  {"name": "node2", "address": "192.168.1.2", "ssh": {}}],
        **sections,
    })


INV = _inventory()
# the Clusters-from-Scratch cluster as its inventory declares it
CFS_INV = Inventory.model_validate({
    "cluster": "mycluster", "cluster_manager": "pacemaker",
    "nodes": [{"name": "pcmk-1", "address": "192.168.122.101", "preferred_primary": True,
               "ssh": {}},
              {"name": "pcmk-2", "address": "192.168.122.102", "ssh": {}}],
    "network": {"virtual_ip": "192.168.122.120", "netmask": 24},
    "drbd": {"resource": "wwwdata", "device": "/dev/drbd1", "mount_point": "/var/www/html",
             "fstype": "xfs"},
    "heartbeat": {"auto_failback": False},
})


def _problems(xml: str, inv: Inventory = INV) -> list[str]:
    return cib_problems(Cib.parse(xml), inv)


def _without_failback(inv: Inventory) -> Inventory:
    return inv.model_copy(update={"heartbeat": inv.heartbeat.model_copy(
        update={"auto_failback": False})})


def test_the_lab_cib_makes_the_articles_service():
    assert _problems(SAMPLE) == []


def test_a_whole_cib_document_is_read_too():
    assert _problems(f"<cib>{SAMPLE}</cib>") == []


def test_the_lab_sample_is_what_the_template_writes():
    """cib-lab.xml stands for the rendered cib.crm.j2: the same ids with the same agents."""
    crm = rendered_template(template_inventory())
    written = dict(re.findall(r"^primitive (\S+) (\S+)", crm, re.M))
    agents = {pid: p.agent for pid, p in Cib.parse(SAMPLE).primitives.items()}
    # crmsh's shorthand names a heartbeat OCF agent by its type alone
    assert {pid: a if ":" in a else f"ocf:heartbeat:{a}" for pid, a in written.items()} == agents


def test_a_clusters_from_scratch_cib_written_by_pcs_passes():
    assert _problems(CFS, CFS_INV) == []


def test_clusters_from_scratch_stickiness_keeps_the_service_on_node2_with_auto_failback():
    inv = CFS_INV.model_copy(update={"heartbeat": CFS_INV.heartbeat.model_copy(
        update={"auto_failback": True})})
    found = _problems(CFS, inv)
    assert found == ["the preference for pcmk-1 (50) does not beat resource-stickiness 100: "
                     "the service would stay on pcmk-2 (no auto_failback)"]


def test_resource_sets_ipaddr_lsb_smbd_and_a_by_res_device_pass():
    assert _problems(SETS) == []


def test_the_legacy_master_slave_form_passes_and_is_named():
    legacy = SAMPLE.replace('<clone id="drbd-clone">', '<master id="drbd-clone">').replace(
        "</clone>", "</master>").replace(
        '<nvpair name="promotable" value="true" id="drbd-clone-meta_attributes-promotable"/>',
        "").replace('with-rsc-role="Promoted"', 'with-rsc-role="Master"')
    cib = Cib.parse(legacy)
    assert cib_problems(cib, INV) == []
    assert cib.legacy_ms == ["drbd-clone"]


@pytest.mark.parametrize("agent", ['class="lsb" type="smbd"', 'class="service" type="smbd"',
                                   'class="systemd" type="samba"',
                                   'class="systemd" type="smbd.service"'])
def test_samba_as_any_init_unit_passes(agent):
    assert _problems(SAMPLE.replace('class="systemd" type="smbd"', agent)) == []


def test_a_group_member_order_that_respects_the_dependencies_passes():
    """The VIP first, as Clusters from Scratch starts ClusterIP before WebSite."""
    vip = re.search(r'\s*<primitive id="vip".*?</primitive>', SAMPLE, re.S)[0]
    moved = SAMPLE.replace(vip, "").replace('<group id="ha-group">', '<group id="ha-group">' + vip)
    assert moved != SAMPLE
    assert _problems(moved) == []


def test_drbds_promoted_instance_colocated_with_the_mount_is_the_same_tie():
    reverse = CFS.replace('rsc="WebFS" rsc-role="Started" score="INFINITY" with-rsc="WebData-'
                          'clone" with-rsc-role="Promoted"', 'rsc="WebData-clone" rsc-role='
                          '"Promoted" score="INFINITY" with-rsc="WebFS"')
    assert reverse != CFS
    assert _problems(reverse, CFS_INV) == []


def test_the_drbd_device_may_be_left_to_the_cluster():
    """An inventory without a DRBD device takes any DRBD minor the Filesystem mounts."""
    inv = CFS_INV.model_copy(update={"drbd": CFS_INV.drbd.model_copy(update={"device": None})})
    assert _problems(CFS, inv) == []
    assert any("mounts /dev/sdb1" in line
               for line in _problems(CFS.replace("/dev/drbd1", "/dev/sdb1"), inv))


# (pattern, replacement, expected words of the reason), applied to the pcs CIB
CFS_BREAKAGES = [
    pytest.param(r'<rsc_order first="WebData-clone"[^>]*/>', "",
                 "WebFS is not ordered (Mandatory) after WebData-clone's promote",
                 id="filesystem-not-ordered-after-promote"),
    pytest.param('first-action="promote"', 'first-action="start"',
                 "WebFS is not ordered (Mandatory) after WebData-clone's promote",
                 id="filesystem-ordered-after-start-only"),
    pytest.param('with-rsc-role="Promoted"', "",
                 "WebFS is not colocated (INFINITY) with WebData-clone's Promoted role",
                 id="filesystem-with-any-role"),
    pytest.param(r'<rsc_colocation id="colocation-Samba-ClusterIP-INFINITY"[^>]*/>', "",
                 "ClusterIP (ocf:heartbeat:IPaddr2, 192.168.122.120) is not colocated",
                 id="vip-not-colocated"),
    pytest.param('id="colocation-VM-WebFS-INFINITY" rsc="VM" score="INFINITY"',
                 'id="colocation-VM-WebFS-INFINITY" rsc="VM" score="1000"',
                 "VM (ocf:heartbeat:VirtualDomain) is not colocated", id="vm-colocation-advisory"),
    pytest.param('id="order-WebFS-Samba-mandatory"',
                 'id="order-WebFS-Samba-mandatory" kind="Optional"',
                 "Samba (systemd:smbd) is not ordered (Mandatory) after WebFS",
                 id="samba-order-optional"),
    pytest.param('name="stonith-enabled" value="true"', 'name="stonith-enabled" value="false"',
                 "stonith-enabled is false", id="stonith-disabled"),
    pytest.param(r'<primitive class="stonith".*?</primitive>', "",
                 "no fencing mechanism is configured and enabled", id="no-fence-device"),
    pytest.param('<operations>\n          <op id="fence_dev-monitor',
                 '<meta_attributes id="fence_dev-meta"><nvpair id="fence_dev-tr" '
                 'name="target-role" value="Stopped"/></meta_attributes>'
                 '<operations>\n          <op id="fence_dev-monitor',
                 "no fencing mechanism is configured and enabled", id="fence-device-disabled"),
    pytest.param('value="wwwdata"', 'value="webdata"',
                 "no ocf:linbit:drbd resource manages DRBD resource 'wwwdata'; the CIB's "
                 "drbd resources: WebData ('webdata')", id="wrong-drbd-resource"),
    pytest.param('name="ip" value="192.168.122.120"', 'name="ip" value="192.168.122.121"',
                 "no ocf:heartbeat:IPaddr2/ocf:heartbeat:IPaddr resource holds the VIP "
                 "(ClusterIP holds 192.168.122.121)", id="wrong-vip"),
    pytest.param('name="cidr_netmask" value="24"', 'name="cidr_netmask" value="16"',
                 "ClusterIP gives the VIP /16, not /24", id="wrong-netmask"),
    pytest.param('value="xfs"', 'value="ext4"', "WebFS mounts /var/www/html as ext4, not xfs",
                 id="wrong-fstype"),
    pytest.param('name="promotable" value="true"', 'name="promotable" value="false"',
                 "WebData (ocf:linbit:drbd) is not in a promotable clone", id="not-promotable"),
    pytest.param(r'<primitive class="systemd" id="Samba" type="smbd"/>', "",
                 "no Samba resource", id="no-samba"),
    pytest.param('name="directory" value="/var/www/html"', 'name="directory" value="/srv/www"',
                 "no ocf:heartbeat:Filesystem resource mounts /var/www/html",
                 id="filesystem-elsewhere"),
]


@pytest.mark.parametrize(("pattern", "replacement", "expected"), CFS_BREAKAGES)
def test_each_breakage_of_the_pcs_cib_is_named(pattern, replacement, expected):
    broken = re.sub(pattern, replacement, CFS, count=1, flags=re.S)
    assert broken != CFS
    found = _problems(broken, CFS_INV)
    assert any(expected in line for line in found), found


LAB_BREAKAGES = [
    pytest.param(r'<rsc_colocation [^>]*/>', "", "fs is not colocated (INFINITY) with "
                 "drbd-clone's Promoted role", id="group-colocation-removed"),
    pytest.param(r'<rsc_order [^>]*/>', "", "fs is not ordered", id="group-order-removed"),
    pytest.param(r'<rsc_location [^>]*/>', "", "no location preference brings the service "
                 "back to node1", id="no-preference"),
    pytest.param('score="200" node="node1"', 'score="50" node="node1"',
                 "does not beat resource-stickiness", id="preference-below-stickiness"),
    pytest.param('score="200" node="node1"', 'score="-INFINITY" node="node2"',
                 "forbids node2 to ha-group (-INFINITY): the service can never fail over",
                 id="secondary-banned"),
    pytest.param('<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain"/>',
                 "", "no ocf:heartbeat:VirtualDomain resource", id="no-vm"),
]


@pytest.mark.parametrize(("pattern", "replacement", "expected"), LAB_BREAKAGES)
def test_each_breakage_of_the_lab_cib_is_named(pattern, replacement, expected):
    broken = re.sub(pattern, replacement, SAMPLE, count=1, flags=re.S)
    assert broken != SAMPLE
    found = _problems(broken)
    assert any(expected in line for line in found), found


def test_a_finite_negative_score_on_the_secondary_brings_the_service_home():
    away = SAMPLE.replace('score="200" node="node1"', 'score="-500" node="node2"')
    assert _problems(away) == []


def test_no_preference_is_needed_without_auto_failback():
    assert _problems(re.sub(r"<rsc_location [^>]*/>", "", SAMPLE), _without_failback(INV)) == []


def test_a_colocation_set_that_is_not_sequential_ties_its_members_through_the_promoted():
    """pcs(8): sequential=false leaves the set's members unrelated to one another; each
    still runs with the next set, DRBD's one Promoted instance, so all run together; with
    two Promoted instances (promoted-max=2) nothing ties Samba to the mount any more."""
    loose = SETS.replace('<resource_set id="c_service-0">',
                         '<resource_set id="c_service-0" sequential="false">')
    graph = graph_of(Cib.parse(loose))
    assert ("p_drbd_r0", "Promoted") in graph.runs_with("p_smb")
    assert "p_smb" in graph.together("p_fs")
    assert _problems(loose) == []
    two = loose.replace('name="promotable" value="yes"/>', 'name="promotable" value="yes"/>'
                        '<nvpair id="pm" name="promoted-max" value="2"/>')
    found = _problems(two)
    assert any("p_smb (lsb:smbd) is not colocated" in line for line in found), found


def test_an_order_set_that_skips_the_promote_is_named():
    early = SETS.replace('<resource_set id="o_service-0" action="promote">',
                         '<resource_set id="o_service-0" action="start">')
    assert any("p_fs is not ordered (Mandatory) after ms_drbd_r0's promote" in line
               for line in _problems(early)), _problems(early)


def test_constraints_on_a_tag_and_a_primitive_made_from_a_template_pass():
    """pcs tag create / crmsh rsc_template (Pacemaker Explained, "Tagging Resources",
    "Resource Templates"): the services tied through a tag, the mount through a template."""
    fs = re.search(r'<primitive id="p_fs".*?</primitive>', SETS, re.S)[0]
    tagged = SETS.replace(fs, '<template id="t_fs" class="ocf" provider="heartbeat" '
                              'type="Filesystem"><instance_attributes id="t_fs-ia"><nvpair '
                              'id="t_fs-type" name="fstype" value="ext3"/></instance_attributes>'
                              '</template><primitive id="p_fs" template="t_fs"><instance_'
                              'attributes id="p_fs-ia"><nvpair id="p_fs-dev" name="device" '
                              'value="/dev/drbd0"/><nvpair id="p_fs-dir" name="directory" '
                              'value="/var/lib/vmware"/></instance_attributes></primitive>')
    tagged = re.sub(r'<rsc_colocation id="c_service".*?</rsc_colocation>',
                    '<rsc_colocation id="c1" rsc="p_fs" with-rsc="ms_drbd_r0" '
                    'with-rsc-role="Promoted" score="INFINITY"/><rsc_colocation id="c2" '
                    'rsc="services" with-rsc="p_fs" score="INFINITY"/>', tagged, flags=re.S)
    tagged = tagged.replace("</constraints>", "</constraints><tags><tag id=\"services\">"
                            '<obj_ref id="p_smb"/><obj_ref id="p_vm"/><obj_ref id="p_ip"/>'
                            "</tag></tags>")
    cib = Cib.parse(tagged)
    assert cib.primitives["p_fs"].agent == "ocf:heartbeat:Filesystem"
    assert cib.primitives["p_fs"].params["fstype"] == "ext3"
    assert _problems(tagged) == []


def test_a_preference_on_drbds_started_instances_does_not_bring_the_service_home():
    """Both nodes run a clone instance: only a Promoted-role preference follows the service."""
    started = SETS.replace('role="Promoted" node="node1"', 'node="node1"')
    assert any("no location preference brings the service back to node1" in line
               for line in _problems(started)), _problems(started)


def test_the_fencing_in_use_and_the_units_each_needs_at_boot():
    assert fencing_in_use(Cib.parse(SAMPLE)) == [FenceMechanism("fence_sbd", "fence-sbd",
                                                                ("sbd",))]
    assert fencing_in_use(Cib.parse(CFS)) == [FenceMechanism("fence_xvm", "fence_dev", ())]
    assert fencing_in_use(Cib.parse(SETS)) == [FenceMechanism("sbd", "", ("sbd",))]
    ipmi = CFS.replace('type="fence_xvm"', 'type="fence_ipmilan"').replace(
        "</resources>", '<primitive class="stonith" id="sbd" type="external/sbd"/></resources>')
    assert [(m.agent, m.units, m.sbd) for m in fencing_in_use(Cib.parse(ipmi))] == [
        ("fence_ipmilan", (), False), ("external/sbd", ("sbd",), True)]
    # stonith-watchdog-timeout 0 is SBD's watchdog fencing off
    off = SETS.replace('value="20s"', 'value="0"')
    assert fencing_in_use(Cib.parse(off)) == []
    # stonith-enabled false: nothing fences, whatever is configured
    disabled = CFS.replace('name="stonith-enabled" value="true"',
                           'name="stonith-enabled" value="false"')
    assert fencing_in_use(Cib.parse(disabled)) == []


def test_the_inventorys_fencing_method_must_be_what_fences():
    assert _problems(CFS, CFS_INV.model_copy(update={"fencing": CFS_INV.fencing.model_copy(
        update={"method": "fence_xvm"})})) == []
    inv = CFS_INV.model_copy(update={"fencing": CFS_INV.fencing.model_copy(
        update={"method": "sbd"})})
    assert _problems(CFS, inv) == [
        "the inventory's fencing method sbd is not configured and enabled; the CIB fences "
        "with fence_xvm"]
    assert _problems(SAMPLE, _inventory(fencing={"method": "sbd"})) == []


def test_stonith_is_on_when_the_property_is_absent():
    cib = Cib.parse(re.sub(r'<nvpair name="stonith-enabled"[^>]*/>', "", SAMPLE))
    assert cib.stonith_enabled


@pytest.mark.parametrize("text", ["not xml", "<status/>"])
def test_an_unreadable_cib_is_one_error(text):
    with pytest.raises(CibError):
        Cib.parse(text)
