"""The draft inventory `python -m fixtures.discover` writes: every value read says where,
the file loads under the suite's schema, and hostile node output stays data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fixtures.access.inventory import Inventory
from fixtures.discover import DiscoverError, Draft
from fixtures.discover.pacemaker import read_cib
from fixtures.managers.pacemaker.cib import Cib


def _article_text_draft() -> Draft:
    """What discovery reads on the lab's article-text build (lab/builds/article-text)."""
    d = Draft()
    for i, (name, address) in enumerate([("HAdebian01", "192.168.1.1"),
                                         ("HAdebian02", "192.168.1.2")]):
        d.set(f"nodes.{i}.name", name, f"{address}: uname -n")
        d.set(f"nodes.{i}.address", address, "the address given on the command line")
        d.set(f"nodes.{i}.interface", "eth0", f"{address}: ip -4 -o addr show")
        d.set(f"nodes.{i}.disk", "/dev/vdb", f"{address}: drbdadm sh-ll-dev user")
        d.set(f"nodes.{i}.ssh.host_key", "SHA256:" + "A" * 43, f"{address}: verified")
    d.set("cluster_manager", "heartbeat", "192.168.1.1: systemctl is-active heartbeat")
    d.set("primary", "HAdebian01", "haresources (the group's preferred node)")
    d.set("heartbeat.keepalive", 2, "ha.cf (keepalive 2s (written '2'))")
    d.set("heartbeat.auto_failback", True, "ha.cf")
    d.set("drbd.resource", "user", "haresources (drbddisk::user)")
    d.set("drbd.device", "/dev/drbd0", "drbdadm sh-dev user")
    d.set("drbd.mount_point", "/var/lib/vmware", "findmnt")
    d.set("drbd.fstype", "ext3", "findmnt")
    d.set("network.virtual_ip", "192.168.1.3", "haresources (IPaddr2::192.168.1.3)")
    d.set("network.netmask", 24, "ip -4 -o addr show (the VIP as held)")
    d.set("samba.shares", ["RaidOverIp"], "testparm -s")
    d.set("hypervisor.vms", ["reactos"], "virsh list --name")
    d.set("hypervisor.console_port", 902, "virsh dumpxml reactos")
    return d


def _render(d: Draft, **ssh: object) -> str:
    return d.render_for("article-text", ["192.168.1.1", "192.168.1.2"],
                        {"user": "root", "port": 22, **ssh}, "2026-12-07T00:00:00Z")


def test_the_draft_loads_and_says_where_each_value_was_read():
    text = _render(_article_text_draft())
    inv = Inventory.model_validate(yaml.safe_load(text))
    assert [n.name for n in inv.nodes] == ["HAdebian01", "HAdebian02"]
    assert inv.primary.name == "HAdebian01" and inv.nodes[0].preferred_primary
    assert (inv.drbd.resource, inv.drbd.mount_point, inv.drbd.fstype) == (
        "user", "/var/lib/vmware", "ext3")
    assert inv.samba.shares == ("RaidOverIp",) and inv.hypervisor.vms == ("reactos",)
    assert not inv.disposable  # discovery never makes a cluster disposable
    assert "resource: user  # haresources (drbddisk::user)" in text
    assert "# warntime: not read; the schema's default applies" in text


def test_sudo_and_port_from_the_command_line_go_to_every_node():
    inv = Inventory.model_validate(yaml.safe_load(
        _render(_article_text_draft(), user="hadmin", become="sudo", port=2222)))
    assert {(n.ssh.user, n.ssh.become, n.ssh.port) for n in inv.nodes} == {
        ("hadmin", "sudo", 2222)}


def test_hostile_node_output_stays_a_value_and_a_one_line_comment():
    d = _article_text_draft()
    d.set("samba.shares", ["a: b # c", "new\nline"], "testparm said\n  evil: yes\x1b[2J")
    data = yaml.safe_load(_render(d))
    assert data["samba"]["shares"] == ["a: b # c", "new\nline"]
    assert "evil" not in data and set(data) >= {"cluster", "nodes", "samba"}


def test_a_value_not_read_is_named_in_the_draft():
    d = _article_text_draft()
    d.notes.append("samba.shares: no share lies under /var/lib/vmware")
    assert "# NOT READ: samba.shares: no share lies under /var/lib/vmware" in _render(d)


def test_bad_command_line_is_one_line_and_exit_2():
    for args, expect in [(["h1"], "the following arguments are required"),
                         (["127.0.0.1", "127.0.0.2", "--port", "0"], "nodes.0.ssh.port"),
                         (["127.0.0.1", "127.0.0.2", "--become", "su"], "invalid choice"),
                         (["127.0.0.1", "no-such-host.invalid"], "cannot resolve"),
                         (["127.0.0.1", "127.0.0.2", "--key", "/nonexistent/k"],
                          "no such file")]:
        proc = subprocess.run([sys.executable, "-m", "fixtures.discover", *args],
                              capture_output=True, text=True, timeout=60)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(lines) == 1 and expect in lines[0] and "Traceback" not in proc.stderr, (
            args, proc.stderr)


DATA = Path(__file__).parent / "data"


def _from_cib(name: str) -> Draft:
    d = Draft()
    read_cib(d, Cib.parse((DATA / name).read_text()), "cibadmin", "n1")
    return d


def test_the_labs_cib_gives_the_group_vip_and_preferred_node():
    d = _from_cib("cib-lab.xml")
    assert (d.get("drbd.resource"), d.get("drbd.mount_point"), d.get("network.virtual_ip"),
            d.get("primary")) == ("r0", "/var/lib/vmware", "192.168.1.3", "node1")
    assert d.get("heartbeat.auto_failback") is True


def test_a_clusters_from_scratch_cib_is_read_by_what_it_runs_not_its_ids():
    """pcs's ids (WebData-clone, WebFS, ClusterIP), constraints instead of a group."""
    d = _from_cib("cib-pcs-cfs.xml")
    assert (d.get("drbd.resource"), d.get("drbd.mount_point"), d.get("drbd.fstype"),
            d.get("network.virtual_ip"), d.get("primary")) == (
        "wwwdata", "/var/www/html", "xfs", "192.168.122.120", "pcmk-1")
    assert "location-Samba-pcmk-1-50" in d.values["primary"].source


def test_a_cib_with_two_drbd_resources_asks_to_name_one():
    text = (DATA / "cib-lab.xml").read_text()
    twice = text.replace("</resources>", '<primitive id="other" class="ocf" provider="linbit" '
                         'type="drbd"/></resources>')
    with pytest.raises(DiscoverError, match="holds 2 ocf:linbit:drbd"):
        read_cib(Draft(), Cib.parse(twice), "cibadmin", "n1")
