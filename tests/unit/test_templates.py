"""The node configuration files rendered from the jinja2 templates, per profile."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from fixtures.heartbeat import parse_authkeys, parse_ha_cf, parse_haresources
from fixtures.inventory import Inventory, load
from fixtures.provision.templates import render
from fixtures.watch import parse_line


def _inventory(profile: str) -> Inventory:
    return Inventory.model_validate({
        "cluster": "t", "profile": profile, "disposable": True,
        "nodes": [
            {"name": "node1", "address": "192.168.1.1", "serial": "/dev/ttyS1",
             "ssh": {"key": "/k"}},
            {"name": "node2", "address": "192.168.1.2", "serial": "/dev/ttyS1",
             "ssh": {"key": "/k"}},
        ],
        "network": {"ping_node": "192.168.1.254"},
    })


def _vars(inv: Inventory, i: int, **extra) -> dict:
    node, peer = inv.nodes[i], inv.nodes[1 - i]
    return {"profile": inv.profile, "nodes": inv.nodes, "node": node, "peer": peer,
            "primary": inv.primary, "network": inv.network, "drbd": inv.drbd,
            "heartbeat": inv.heartbeat, "samba": inv.samba, "hypervisor": inv.hypervisor,
            "vm_dir": "/var/lib/vmware/hademo",
            "vm_uuid": "2c4b916e-4da9-4d54-8f0c-6d69d0800b71", **extra}


@pytest.mark.parametrize("profile", ["article", "hardened"])
def test_haresources_is_one_identical_line_on_both_nodes(profile):
    inv = _inventory(profile)
    texts = [render("haresources.j2", **_vars(inv, i)) for i in (0, 1)]
    assert texts[0] == texts[1]
    groups = parse_haresources(texts[0])
    assert [str(g) for g in groups] == [
        "node1 drbddisk::r0 Filesystem::/dev/drbd0::/var/lib/vmware::ext3 samba libvirtd "
        "vmstart IPaddr2::192.168.1.3/24/eth0"]


def test_ha_cf_article_profile_is_the_article_and_no_more():
    cf = parse_ha_cf(render("ha.cf.j2", **_vars(_inventory("article"), 0)))
    assert [cf[k] for k in ("keepalive", "warntime", "deadtime", "initdead", "udpport")] == [
        "2", "6", "10", "60", "694"]
    assert cf["auto_failback"] == "on" and cf["crm"] == "off"
    assert cf.all("node") == ["node1", "node2"]
    assert cf["ucast"] == "eth0 192.168.1.2"
    assert "serial" not in cf and "ping" not in cf and "respawn" not in cf


def test_ha_cf_hardened_adds_serial_path_and_ipfail():
    cf = parse_ha_cf(render("ha.cf.j2", **_vars(_inventory("hardened"), 1)))
    assert cf["serial"] == "/dev/ttyS1"
    assert cf["ucast"] == "eth0 192.168.1.1"
    assert cf["ping"] == "192.168.1.254"
    assert cf["respawn"].endswith("/ipfail")


def test_authkeys_sha1_when_hardened_crc_when_literal():
    hardened = parse_authkeys(render("authkeys.j2", **_vars(_inventory("hardened"), 0,
                                                            secret="s3")))
    assert hardened.keys[1] == ("sha1", "s3") and hardened.method == "sha1"
    article = parse_authkeys(render("authkeys.j2", **_vars(_inventory("article"), 0, secret="s")))
    assert article.method == "crc"


def test_drbd_resource_has_both_nodes_and_hardening_only_when_asked():
    hardened = render("drbd.res.j2", **_vars(_inventory("hardened"), 0, secret="abc"))
    article = render("drbd.res.j2", **_vars(_inventory("article"), 0, secret="abc"))
    for text in (hardened, article):
        assert "protocol C;" in text and "meta-disk internal;" in text
        assert "address   192.168.1.1:7789;" in text and "address   192.168.1.2:7789;" in text
        assert text.count("device    /dev/drbd0;") == 2
    assert "after-sb-1pri discard-secondary;" in hardened and 'shared-secret "abc";' in hardened
    assert "after-sb" not in article and "shared-secret" not in article


def test_smb_conf_share_is_guest_writable_on_the_mount_point():
    text = render("smb.conf.j2", **_vars(_inventory("hardened"), 0))
    section = text.split("[RaidOverIP]")[1]
    for line in ("path = /var/lib/vmware", "guest ok = yes", "writable = yes"):
        assert line in section


def test_resource_scripts_and_watcher_are_valid_shell(tmp_path):
    inv = _inventory("hardened")
    scripts = {
        "vmstart": render("resource.d-vmstart.j2", **_vars(inv, 0, stop_grace=5)),
        "samba": render("resource.d-samba.j2", **_vars(inv, 0)),
        "libvirtd": render("resource.d-libvirtd.j2", **_vars(inv, 0)),
        "watch": render("watch.sh.j2", interval=0.25, ha_log="/var/log/ha-log",
                        ha_log_noise="", vip="192.168.1.3", mount_point="/var/lib/vmware",
                        vm_name="hademo"),
        "watch-pacemaker": render("watch.sh.j2", interval=0.25, ha_log="/var/log/ha-log",
                                  ha_log_noise="\t(info|debug): ", vip="192.168.1.3",
                                  mount_point="/var/lib/vmware", vm_name="hademo"),
    }
    for name, text in scripts.items():
        path = tmp_path / name
        path.write_text(text)
        subprocess.run(["sh", "-n", str(path)], check=True)
        assert text.startswith("#!/bin/sh")


def test_domain_keeps_disk_on_the_replicated_fs_and_console_on_902():
    text = render("domain.xml.j2", **_vars(_inventory("hardened"), 0))
    assert "<source file='/var/lib/vmware/hademo/disk.img'/>" in text
    assert "service='902'" in text and "cache='writethrough'" in text


@pytest.mark.skipif(shutil.which("nasm") is None, reason="nasm not installed (make deps)")
def test_demo_guest_assembles_to_one_boot_sector():
    from fixtures.provision.hypervisor import guest_boot_sector

    sector = guest_boot_sector()
    assert len(sector) == 512 and sector[-2:] == b"\x55\xaa"
    assert b"HADEMO guest up: boot=" in sector


def test_the_labs_inventory_loads_with_the_suites_schema(tmp_path):
    from lab import inventory as lab_inventory

    key = tmp_path / "id_ed25519"
    key.write_text("key")
    data = lab_inventory.build(key, "tcg", budgets={"scale": 2.5, "calibration": {
        "measured": 3.6, "reference": 2.85, "nodes": {"node1": 3.6}, "method": "m"}})
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data))
    inv = load(path)
    assert inv.disposable and inv.provision and inv.netns == "halab"
    assert inv.primary.name == "node1" and inv.nodes[1].faults.power_off


def test_the_watcher_drops_the_managers_chatter_on_the_node(tmp_path):
    """Pacemaker's info lines never leave the node (they cost a slow node CPU and buried
    a failover's timeline); its notices and the resource agents' lines do. The rendered
    script runs here for real against a log file."""
    from fixtures.manager.pacemaker import Pacemaker

    log = tmp_path / "pacemaker.log"
    log.write_text("")
    script = tmp_path / "watch.sh"
    script.write_text(render("watch.sh.j2", interval=0.25, ha_log=str(log),
                             ha_log_noise=Pacemaker.log_noise, vip="192.0.2.1",
                             mount_point="/nowhere", vm_name="hademo"))
    with subprocess.Popen(["sh", str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, start_new_session=True) as proc:
        try:
            time.sleep(1.0)  # tail -F is following
            with log.open("a") as f:
                f.write("Nov 25 node2 pacemaker-based [342] (cib_perform_op) \tinfo: Diff\n"
                        "Nov 25 node2 pacemaker-controld [347] (execute_rsc_action) \tnotice: "
                        "Initiating start operation vm_start_0\n"
                        "Nov 25 node2 IPaddr2(vip)[7254]:    INFO: Adding inet address\n")
            time.sleep(1.5)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
        out = proc.stdout.read()
    logged = [line.split(" ", 2)[2] for line in out.splitlines() if line.startswith("L ")]
    assert logged == [
        "Nov 25 node2 pacemaker-controld [347] (execute_rsc_action) \tnotice: "
        "Initiating start operation vm_start_0",
        "Nov 25 node2 IPaddr2(vip)[7254]:    INFO: Adding inet address"], out


def test_the_watcher_reads_the_nodes_state_from_proc_and_libvirts_pid_file(tmp_path):
    """The node side runs here for real against a fake /proc: DRBD role and disk states,
    the VIP as a local /32 in fib_trie, the mount, the VM by libvirt's pid file whose
    process still names the guest; a change shows in the next samples."""
    root = tmp_path
    for d in ("proc/net", "proc/4242", "run/libvirt/qemu"):
        (root / d).mkdir(parents=True)
    (root / "proc/uptime").write_text("100.25 80.00\n")
    (root / "proc/drbd").write_text(
        "version: 8.4.11 (api:1/proto:86-101)\n"
        " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
        "    ns:76 nr:0 dw:76 dr:345 al:3 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n")
    fib = ("        +-- 192.168.1.0/30 2 0 1\n           |-- 192.168.1.1\n"
           "              /32 host LOCAL\n")
    (root / "proc/net/fib_trie").write_text(
        fib + "           |-- 192.168.1.3\n              /32 host LOCAL\n")
    (root / "proc/mounts").write_text("/dev/drbd0 /var/lib/vmware ext4 rw 0 0\n")
    (root / "run/libvirt/qemu/hademo.pid").write_text("4242")
    (root / "proc/4242/cmdline").write_bytes(b"/usr/bin/qemu-system-x86_64\0-name\0"
                                             b"guest=hademo,debug-threads=on\0")
    log = tmp_path / "ha-log"
    log.write_text("")
    script = tmp_path / "watch.sh"
    script.write_text(render("watch.sh.j2", interval=0.25, ha_log=str(log), ha_log_noise="",
                             vip="192.168.1.3", mount_point="/var/lib/vmware",
                             vm_name="hademo", root=str(root)))
    with subprocess.Popen(["sh", str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, start_new_session=True) as proc:
        try:
            time.sleep(1.0)
            (root / "proc/uptime").write_text("101.50 80.00\n")
            (root / "proc/drbd").write_text(" 0: cs:WFConnection ro:Secondary/Unknown "
                                            "ds:UpToDate/DUnknown C r-----\n")
            (root / "proc/net/fib_trie").write_text(fib)
            (root / "proc/mounts").write_text("proc /proc proc rw 0 0\n")
            (root / "proc/4242/cmdline").write_bytes(b"/bin/bash\0")  # the pid was reused
            with log.open("a") as f:
                f.write("heartbeat[99]: info: Giving up all HA resources.\n")
            time.sleep(1.0)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
        out = proc.stdout.read()
    samples = [parse_line(line) for line in out.splitlines() if line.startswith("S ")]
    first, last = samples[0], samples[-1]
    assert (first.uptime, first.role, first.connection, first.disks) == (
        100.25, "Primary", "Connected", "UpToDate/UpToDate")
    assert (first.vip, first.mount, first.vm) == (True, True, True)
    assert (last.uptime, last.role, last.connection, last.disks) == (
        101.5, "Secondary", "WFConnection", "UpToDate/DUnknown")
    assert (last.vip, last.mount, last.vm) == (False, False, False)
    logged = [parse_line(line) for line in out.splitlines() if line.startswith("L ")]
    assert [(x.uptime, x.text) for x in logged] == [
        (101.5, "heartbeat[99]: info: Giving up all HA resources.")], out
