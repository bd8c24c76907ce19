"""The Pacemaker path's node files rendered from their templates (SPEC §6), and the
Heartbeat path's files left as they were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.access.inventory import Corosync, Fencing, Inventory
from fixtures.managers.pacemaker import provision as prov
from fixtures.managers.pacemaker.parsers import IDS, parse_corosync_conf
from fixtures.provision.run import PACEMAKER_STEPS, STEPS, steps_for
from fixtures.provision.templates import render
from tests.unit.test_templates import _inventory as base_inventory
from tests.unit.test_templates import _vars

DATA = Path(__file__).with_name("data")


def _inventory(profile: str = "hardened", manager: str = "pacemaker", corosync=None,
               fencing=None) -> Inventory:
    """test_templates' two nodes, with the manager and its sections."""
    return base_inventory(profile).model_copy(update={
        "cluster": "lab", "cluster_manager": manager,
        "corosync": Corosync(**(corosync or {})), "fencing": Fencing(**(fencing or {}))})


class _Ctx:
    """What cib_variables reads of a provisioning Context."""

    def __init__(self, inv: Inventory):
        self.inventory = inv


def _corosync(inv: Inventory, i: int = 0):
    text = render("corosync.conf.j2", **_vars(inv, i, cluster_name=inv.cluster,
                                               corosync=prov.corosync_settings(inv),
                                               log_path="/var/log/pacemaker/pacemaker.log"))
    return text, parse_corosync_conf(text)


def _cib(inv: Inventory) -> str:
    return render("cib.crm.j2", **_vars(inv, 0, **prov.cib_variables(_Ctx(inv))))


def test_corosync_conf_has_both_nodes_two_node_crypto_and_the_token():
    inv = _inventory(corosync={"token": 8000, "consensus": 9600})
    text, conf = _corosync(inv)
    assert text == _corosync(inv, 1)[0]  # identical on both nodes
    totem = conf["totem"]
    assert (totem["token"], totem["consensus"]) == ("8000", "9600")
    assert (totem["crypto_cipher"], totem["crypto_hash"]) == ("aes256", "sha256")
    assert totem["keyfile"] == "/etc/corosync/authkey" and totem["cluster_name"] == "lab"
    assert "key" not in totem  # never inline: the key lives in the 400 file
    assert conf["quorum"]["provider"] == "corosync_votequorum"
    assert conf["quorum"]["two_node"] == "1"
    nodes = [(n["name"], n["nodeid"], n["ring0_addr"])
             for n in conf["nodelist"].subsections("node")]
    assert nodes == [("node1", "1", "192.168.1.1"), ("node2", "2", "192.168.1.2")]
    assert conf["logging"]["logfile"] == "/var/log/pacemaker/pacemaker.log"


def test_corosync_conf_without_two_node_has_no_two_node_line():
    _, conf = _corosync(_inventory(corosync={"two_node": False}))
    assert "two_node" not in conf["quorum"]


def test_authkey_is_the_key_alone_and_registered_as_secret():
    secrets.clear()
    key = "ab" * 128
    text = render("corosync-authkey.j2", key=key)
    assert text == key  # no newline: the file's bytes are the key corosync reads
    assert secrets.redact(f"key {key}") == f"key {secrets.fingerprint(key)}"
    secrets.clear()


def test_sbd_defaults_name_the_device_watchdog_and_pacemaker_integration():
    inv = _inventory(fencing={"watchdog_timeout": 7, "msgwait": 15})
    text = render("sbd.default.j2", fencing=inv.fencing)
    env = dict(line.split("=", 1) for line in text.splitlines()
               if line and not line.startswith("#"))
    assert env["SBD_DEVICE"] == "/dev/disk/by-id/virtio-sbd"
    assert env["SBD_WATCHDOG_DEV"] == "/dev/watchdog"
    assert env["SBD_WATCHDOG_TIMEOUT"] == "7"
    assert (env["SBD_PACEMAKER"], env["SBD_STARTMODE"], env["SBD_DELAY_START"]) == (
        "yes", "always", "no")


def _statements(cib: str) -> list[str]:
    """crmsh statements: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", cib)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_cib_has_a_promotable_drbd_clone_not_the_deprecated_ms():
    stmts = _statements(_cib(_inventory()))
    assert not any(s.startswith("ms ") for s in stmts)
    clone = next(s for s in stmts if s.startswith("clone "))
    assert clone.split()[1:3] == [IDS["drbd_clone"], IDS["drbd"]]
    for meta in ("promotable=true", "promoted-max=1", "promoted-node-max=1", "clone-max=2",
                 "clone-node-max=1", "notify=true"):
        assert meta in clone.split()
    drbd = next(s for s in stmts if s.startswith(f"primitive {IDS['drbd']} "))
    assert "ocf:linbit:drbd" in drbd and "drbd_resource=r0" in drbd
    assert "role=Promoted" in drbd and "role=Unpromoted" in drbd
    assert "Master" not in _cib(_inventory()) and "Slave" not in _cib(_inventory())


def test_cib_group_colocated_with_promoted_ordered_after_promote_and_prefers_node1():
    inv = _inventory()
    stmts = _statements(_cib(inv))
    group = next(s for s in stmts if s.startswith("group "))
    # haresources' order: the address comes up last and goes first, so a client never
    # reaches the VIP before the share and the console serve
    assert group.split()[1:6] == [IDS["group"], IDS["fs"], IDS["smbd"], IDS["vm"], IDS["vip"]]
    assert f"colocation {IDS['group']}-with-promoted inf: {IDS['group']} " \
           f"{IDS['drbd_clone']}:Promoted" in stmts
    assert f"order {IDS['group']}-after-promote Mandatory: {IDS['drbd_clone']}:promote " \
           f"{IDS['group']}:start" in stmts
    pref = next(s for s in stmts if s.startswith(f"location {IDS['group']}-prefers"))
    score = int(pref.split()[3].rstrip(":"))
    assert pref.split()[-1] == "node1"
    # the article's auto_failback: node 1's preference beats the whole group's stickiness
    assert score > 4 * prov.STICKINESS
    assert f"resource-stickiness={prov.STICKINESS}" in " ".join(stmts)
    vip = next(s for s in stmts if s.startswith(f"primitive {IDS['vip']} "))
    assert "ip=192.168.1.3" in vip and "cidr_netmask=24" in vip and "nic=eth0" in vip
    fs = next(s for s in stmts if s.startswith(f"primitive {IDS['fs']} "))
    assert 'device="/dev/drbd0"' in fs and 'directory="/var/lib/vmware"' in fs
    vm = next(s for s in stmts if s.startswith(f"primitive {IDS['vm']} "))
    assert 'config="/var/lib/vmware/hademo/hademo.xml"' in vm
    assert 'hypervisor="qemu:///system"' in vm
    assert f"primitive {IDS['smbd']} systemd:smbd" in " ".join(stmts)


def test_cib_fencing_is_enabled_with_sbd_and_the_priority_delay():
    inv = _inventory(fencing={"priority_fencing_delay": 12, "msgwait": 30,
                              "watchdog_timeout": 15})
    cib = _cib(inv)
    stmts = _statements(cib)
    assert "stonith-enabled=false" not in " ".join(stmts)
    prop = next(s for s in stmts if s.startswith("property "))
    assert "stonith-enabled=true" in prop and "priority-fencing-delay=12s" in prop
    timeout = int(re.search(r"stonith-timeout=(\d+)s", prop)[1])
    assert timeout > inv.fencing.msgwait * 1.2  # fence_sbd waits msgwait before it says done
    fence = next(s for s in stmts if s.startswith(f"primitive {IDS['fence']} "))
    assert "stonith:fence_sbd" in fence and 'devices="/dev/disk/by-id/virtio-sbd"' in fence
    # the group outweighs the clone: a fence race spares the node that holds it
    group = next(s for s in stmts if s.startswith("group "))
    assert "priority=10" in group


def test_drbd_res_pacemaker_fencing_and_the_84_handlers():
    inv = _inventory()
    text = render("drbd.res.j2", **_vars(inv, 0, secret="test-secret-not-real",
                                          cluster_manager="pacemaker"))
    assert re.search(r"disk \{[^}]*fencing resource-and-stonith;", text)
    assert 'fence-peer "/usr/lib/drbd/crm-fence-peer.sh";' in text
    assert 'after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";' in text
    assert ".9.sh" not in text  # DRBD 9's scripts do not drive the in-kernel 8.4


@pytest.mark.parametrize("profile", ["article", "hardened"])
def test_heartbeat_drbd_res_is_unchanged(profile):
    """Byte for byte what the Heartbeat path rendered before the Pacemaker path existed."""
    inv = _inventory(profile, manager="heartbeat")
    want = (DATA / f"heartbeat-{profile}-drbd.res").read_text()
    variables = _vars(inv, 0, secret="test-secret-not-real")
    assert render("drbd.res.j2", **variables) == want
    assert render("drbd.res.j2", **variables, cluster_manager="heartbeat") == want


def test_steps_by_manager():
    assert steps_for(_inventory(manager="pacemaker")) == PACEMAKER_STEPS
    names = [t for t, _ in PACEMAKER_STEPS]
    assert names[0] == "Heartbeat retired" and names[-1] == "§4 Corosync + Pacemaker"
    assert "§4 Heartbeat" not in names
    hb = steps_for(_inventory(manager="heartbeat"))
    assert hb[0][1] is prov.retire and hb[1:] == STEPS

