"""The node configuration files rendered from the jinja2 templates, per profile."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from fixtures.access.inventory import Inventory, load
from fixtures.managers.heartbeat.parsers import parse_authkeys, parse_ha_cf, parse_haresources
from fixtures.probes.watch import Sample, parse_line
from fixtures.provision.templates import TEMPLATE_DIRS, render


def test_each_template_name_is_found_in_one_folder_only():
    """provision/templates/ and each manager's templates/ are searched in turn: a name in
    two of them would render the first silently."""
    assert len(TEMPLATE_DIRS) >= 3 and all(d.is_dir() for d in TEMPLATE_DIRS)
    names = [f.name for d in TEMPLATE_DIRS for f in d.iterdir() if f.suffix == ".j2"]
    assert len(names) == len(set(names)), sorted(n for n in set(names) if names.count(n) > 1)


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
            "primary": inv.primary, "network": inv.network, "drbd": inv.drbd.as_built(),
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
                        vm_name="hademo", drbd_resource="r0", drbd_minor=0),
        "watch-pacemaker": render("watch.sh.j2", interval=0.25, ha_log="/var/log/ha-log",
                                  ha_log_noise="\t(info|debug): ", vip="192.168.1.3",
                                  mount_point="/var/lib/vmware", vm_name="hademo",
                                  drbd_resource="r0", drbd_minor=0),
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
    from fixtures.managers.pacemaker.driver import Pacemaker

    log = tmp_path / "pacemaker.log"
    log.write_text("")
    script = tmp_path / "watch.sh"
    script.write_text(render("watch.sh.j2", interval=0.25, ha_log=str(log),
                             ha_log_noise=Pacemaker.log_noise, vip="192.0.2.1",
                             mount_point="/nowhere", vm_name="hademo", drbd_resource="r0",
                             drbd_minor=0))
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


def _watch(tmp_path, root, actions, minor: int | str = 0, path=None) -> str:
    """Run the rendered watcher against the fake /proc under ``root`` while ``actions()``
    runs (tmp_path/ha-log is its log, ``path`` a directory put first on PATH); its output."""
    log = tmp_path / "ha-log"
    log.write_text("")
    script = tmp_path / "watch.sh"
    script.write_text(render("watch.sh.j2", interval=0.25, ha_log=str(log), ha_log_noise="",
                             vip="192.168.1.3", mount_point="/var/lib/vmware",
                             vm_name="hademo", drbd_resource="r0", drbd_minor=minor,
                             root=str(root)))
    env = {**os.environ, "PATH": f"{path}:{os.environ['PATH']}"} if path else None
    with subprocess.Popen(["sh", str(script)], stdout=subprocess.PIPE, env=env,
                          stderr=subprocess.DEVNULL, text=True, start_new_session=True) as proc:
        try:
            actions()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
        return proc.stdout.read()


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

    def change() -> None:
        time.sleep(1.0)
        (root / "proc/uptime").write_text("101.50 80.00\n")
        (root / "proc/drbd").write_text(" 0: cs:WFConnection ro:Secondary/Unknown "
                                        "ds:UpToDate/DUnknown C r-----\n")
        (root / "proc/net/fib_trie").write_text(fib)
        (root / "proc/mounts").write_text("proc /proc proc rw 0 0\n")
        (root / "proc/4242/cmdline").write_bytes(b"/bin/bash\0")  # the pid was reused
        with (tmp_path / "ha-log").open("a") as f:
            f.write("heartbeat[99]: info: Giving up all HA resources.\n")
        time.sleep(1.0)

    out = _watch(tmp_path, root, change)
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


@pytest.mark.parametrize(("minor", "want"), [
    (1, ("Primary", "Connected", "UpToDate/UpToDate")),
    ("", ("-", "-", "-")),  # the node could not say which minor: DRBD unseen, not guessed
])
def test_the_watcher_reads_its_resources_minor_not_the_first_device(tmp_path, minor, want):
    """Two resources on the node (/proc/drbd of DRBD 8.4, drbd.conf(5)'s minors 0 and 1):
    the watcher samples the line of the minor it was given."""
    root = tmp_path
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/uptime").write_text("100.25 80.00\n")
    (root / "proc/drbd").write_text(
        "version: 8.4.11 (api:1/proto:86-101)\n"
        " 0: cs:WFConnection ro:Secondary/Unknown ds:Inconsistent/DUnknown C r-----\n"
        "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n"
        " 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
        "    ns:76 nr:0 dw:76 dr:345 al:3 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n")
    (root / "proc/net/fib_trie").write_text("")
    (root / "proc/mounts").write_text("")
    out = _watch(tmp_path, root, lambda: time.sleep(0.8), minor)
    first = next(parse_line(line) for line in out.splitlines() if line.startswith("S "))
    assert (first.role, first.connection, first.disks) == want, out


def test_on_drbd9_the_watcher_follows_drbdsetup_events2(tmp_path):
    """DRBD 9's /proc/drbd names no device: the watcher folds a running `drbdsetup events2`
    (here a stand-in on PATH printing drbdsetup-events2(8) lines: the initial `exists`
    state, then a change) for its resource and minor; another resource's lines are not
    ours."""
    root, bin_dir = tmp_path / "root", tmp_path / "bin"
    (root / "proc/net").mkdir(parents=True)
    bin_dir.mkdir()
    (root / "proc/uptime").write_text("100.25 80.00\n")
    (root / "proc/drbd").write_text("version: 9.2.12 (api:2/proto:86-122)\n"
                                    "GIT-hash: 0123456789abcdef build by root\n"
                                    "Transports (api:21): tcp (9.2.12)\n")
    (root / "proc/net/fib_trie").write_text("")
    (root / "proc/mounts").write_text("")
    fake = bin_dir / "drbdsetup"
    fake.write_text(
        "#!/bin/sh\n"
        "[ \"$1 $2\" = 'events2 all' ] || exit 1\n"
        "echo 'exists resource name:r0 role:Primary suspended:no'\n"
        "echo 'exists device name:r0 volume:0 minor:3 disk:UpToDate client:no quorum:yes'\n"
        "echo 'exists connection name:r0 peer-node-id:1 conn-name:node2 connection:Connected "
        "role:Secondary'\n"
        "echo 'exists peer-device name:r0 peer-node-id:1 conn-name:node2 volume:0 "
        "replication:Established peer-disk:UpToDate'\n"
        "echo 'exists resource name:r1 role:Secondary suspended:no'\n"
        "echo 'exists -'\n"
        f"while [ ! -e {tmp_path / 'go'} ]; do sleep 0.05; done\n"
        "echo 'change connection name:r0 peer-node-id:1 conn-name:node2 connection:Connecting "
        "role:Unknown'\n"
        "echo 'change peer-device name:r0 peer-node-id:1 conn-name:node2 volume:0 "
        "replication:Off peer-disk:DUnknown'\n"
        "exec sleep 30\n")
    fake.chmod(0o755)

    def change() -> None:
        time.sleep(1.0)  # the initial state is read
        (root / "proc/uptime").write_text("100.75 80.00\n")
        time.sleep(0.5)  # sampled
        (tmp_path / "go").touch()  # the change is printed, then read
        time.sleep(0.5)
        (root / "proc/uptime").write_text("101.50 80.00\n")
        time.sleep(0.5)

    out = _watch(tmp_path, root, change, minor=3, path=bin_dir)
    seen = [(s.role, s.connection, s.disks) for s in map(parse_line, out.splitlines())
            if isinstance(s, Sample)]
    assert ("Primary", "Connected", "UpToDate/UpToDate") in seen, out
    assert seen[-1] == ("Primary", "WFConnection", "UpToDate/DUnknown"), out
