"""NODE-04 and HB-08's ownership judges (fixtures/readings/ownership.py) on the tools' own file
formats; each variant names the man page or packaged file it comes from."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.managers.pacemaker.cib import Cib
from fixtures.provision.templates import render
from fixtures.readings.ownership import (
    MARK,
    NodeView,
    Owned,
    autofs_findings,
    command_starts,
    crontab_findings,
    fstab_findings,
    interfaces_findings,
    keyfile_findings,
    libvirt_guests_findings,
    manages_drbd,
    netplan_findings,
    networkd_findings,
    node_findings,
    parse_boot,
    parse_head,
    parse_view,
    read_command,
    sbd_configured,
    script_findings,
    units_to_read,
)
from tests.unit.test_templates import _inventory, _vars

DATA = Path(__file__).parent / "data"
HB = Owned("heartbeat", "/dev/drbd0", "r0", "/var/lib/vmware", "192.168.1.3", ("hademo",))
PCMK = replace(HB, manager="pacemaker")
UUID = "UUID=6f1c2a47-6f3e-4c36-9d8b-3b7f0a0b3c11"

# -- a node as provisioned (the files Debian 12 installs, the project's templates) --------

# Debian 12's installer writes this /etc/fstab (fstab(5) columns, a cdrom with noauto)
FSTAB = """\
# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/vda1 during installation
UUID=0d4b6b0e-6c1d-4a1c-9f7e-1a2b3c4d5e6f /               ext4    errors=remount-ro 0       1
# swap was on /dev/vda5 during installation
UUID=2b2d0f4e-7c1d-4a1c-9f7e-1a2b3c4d5e6f none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
"""
# libvirt-daemon-system 9.0.0-4 (Debian 12): /etc/default/libvirt-guests, as shipped
LIBVIRT_GUESTS = """\
# Customizations for the libvirt-guests.service systemd unit

# URIs to check for running guests
#URIS=default

# action taken on host boot
# - start   all guests which were running on shutdown are started on boot
#           regardless on their autostart settings
# - ignore  libvirt-guests init script won't start any guest on boot, however,
#           guests marked as autostart will still be automatically started by
#           libvirtd
#ON_BOOT=ignore

#ON_SHUTDOWN=shutdown
"""
# Debian 12's /etc/crontab and cron.d/e2scrub_all (e2fsprogs)
CRONTAB = """\
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly
25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }
"""
E2SCRUB = """\
30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/\
e2fsprogs/e2scrub_all_cron
10 3 * * * root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r
"""
# `systemctl list-dependencies --all --plain default.target` of a provisioned node,
# one line per unit (systemd 252 may lead a line with a status glyph)
BOOT_COMMON = """\
default.target
  ● ssh.service
  chrony.service
  cron.service
  libvirt-guests.service
  networking.service
  basic.target
  local-fs.target
  -.mount
  sockets.target
  dbus.socket
  timers.target
  e2scrub_all.timer
"""


def _show(unit: str, word: str, **props: str) -> str:
    state = {"masked": "masked", "": "not-found"}.get(word, "loaded")
    lines = [f"Id={props.pop('Id', unit)}", f"Names={props.pop('Names', unit)}",
             f"LoadState={state}", f"UnitFileState={word}"]
    return "\n".join(lines + [f"{k}={v}" for k, v in props.items()]) + "\n"


def _raw(owned: Owned, enabled: dict[str, str], boot: str, files: dict[str, str],
         show: dict[str, dict[str, str]] | None = None, autostart: str = "",
         blkid: str = "", cib: str = "", server_role: str = "standalone server") -> str:
    """What read_command prints on a node: its marked parts, `head -v`'s file blocks."""
    units = units_to_read(owned)
    show = show or {}
    sections = {
        "is-enabled": "".join(f"{u}={enabled.get(u, '')}\n" for u in units),
        "show": "\n".join(_show(u, enabled.get(u, ""), **show.get(u, {})) for u in units),
        "boot": boot,
        "files": "\n".join(f"==> {p} <==\n{t}" for p, t in files.items()),
        "autostart": autostart, "blkid": blkid, "server-role": server_role + "\n",
    }
    if owned.manager == "pacemaker":
        sections["cib"] = cib
    return "".join(f"{MARK}{name}\n{text}" for name, text in sections.items())


def _files(profile: str = "article") -> dict[str, str]:
    return {"/etc/fstab": FSTAB,
            "/etc/network/interfaces": render("interfaces.j2", **_vars(_inventory(profile), 0)),
            "/etc/default/libvirt-guests": LIBVIRT_GUESTS, "/etc/crontab": CRONTAB,
            "/etc/cron.d/e2scrub_all": E2SCRUB}


HB_ENABLED = {
    "ssh.service": "enabled", "chrony.service": "enabled", "drbd.service": "enabled",
    "drbd@r0.service": "disabled", "drbd-promote@r0.service": "static",
    "heartbeat.service": "enabled", "smbd.service": "disabled", "nmbd.service": "disabled",
    "samba-ad-dc.service": "masked", "smb.service": "alias", "nmb.service": "alias",
    "samba.service": "masked", "corosync.service": "disabled",
    "pacemaker.service": "disabled", "libvirt-guests.service": "enabled",
}
HB_BOOT = BOOT_COMMON + "  drbd.service\n  heartbeat.service\n"
PCMK_ENABLED = {**HB_ENABLED, "drbd.service": "disabled", "heartbeat.service": "disabled",
                "corosync.service": "enabled", "pacemaker.service": "enabled",
                "sbd.service": "enabled", "libvirtd.service": "enabled"}
PCMK_BOOT = BOOT_COMMON + ("  corosync.service\n  sbd.service\n  pacemaker.service\n"
                           "  libvirtd.service\n  libvirtd.socket\n")
CIB_LAB = (DATA / "cib-lab.xml").read_text()


def _view(owned: Owned = HB, enabled: dict | None = None, boot: str | None = None,
          files: dict | None = None, **kw) -> NodeView:
    pcmk = owned.manager == "pacemaker"
    return parse_view(_raw(owned, enabled or (PCMK_ENABLED if pcmk else HB_ENABLED),
                           boot if boot is not None else (PCMK_BOOT if pcmk else HB_BOOT),
                           files if files is not None else _files(),
                           cib=kw.pop("cib", CIB_LAB), **kw), owned)


@pytest.mark.parametrize("owned", [HB, PCMK], ids=["heartbeat", "pacemaker"])
@pytest.mark.parametrize("profile", ["article", "hardened"])
def test_the_provisioned_node_starts_nothing_its_manager_owns(owned, profile):
    """A check must not fail the healthy cluster: the project's own configuration."""
    view = _view(owned, files=_files(profile), show={"smb.service": {
        "Id": "smbd.service", "Names": "smbd.service smb.service"}},
        blkid=f"DEVNAME=/dev/drbd0\n{UUID}\nBLOCK_SIZE=4096\nTYPE=ext3\n")
    assert view.identities == {UUID}
    assert node_findings("node1", view, owned) == []


# -- units: `systemctl is-enabled` words and what pulls a unit in (systemctl(1)) ----------


def test_an_enabled_samba_unit_fails_naming_the_unit_and_the_manager():
    view = _view(enabled={**HB_ENABLED, "smbd.service": "enabled"})
    assert node_findings("node1", view, HB) == [
        "node1: smbd starts at boot (enabled); heartbeat alone starts it"]


def test_samba_ad_dc_enabled_starts_samba_only_on_an_active_directory_dc():
    """Debian's samba-ad-dc.service (enabled by the package) has ExecCondition=
    /usr/share/samba/is-configured samba: it runs only when smb.conf's server role is an AD
    DC. Seen on the lab's article-text build, where it is enabled and never starts."""
    enabled = {**HB_ENABLED, "samba-ad-dc.service": "enabled"}
    boot = HB_BOOT + "  samba-ad-dc.service\n"
    assert node_findings("n1", _view(enabled=enabled, boot=boot), HB) == []
    dc = _view(enabled=enabled, boot=boot, server_role="active directory domain controller")
    assert node_findings("n1", dc, HB) == [
        "n1: samba-ad-dc starts at boot (enabled); heartbeat alone starts it"]


def test_a_static_unit_wanted_by_an_enabled_unit_starts_at_boot():
    # a unit without [Install] (static) pulled in by another unit's Wants= (systemd.unit(5))
    view = _view(enabled={**HB_ENABLED, "nmbd.service": "static"},
                 boot=HB_BOOT + "  fileserver.service\n  nmbd.service\n",
                 show={"nmbd.service": {"WantedBy": "fileserver.service"}})
    assert node_findings("n", view, HB) == [
        "n: nmbd starts at boot (static, pulled in by fileserver.service); heartbeat alone "
        "starts it"]


def test_a_sysv_script_with_rc_links_is_generated_and_starts_at_boot():
    # systemd-sysv-generator(8): /etc/init.d/smbd with /etc/rc2.d/S01smbd and no unit
    # file wins -> `generated`, wanted by multi-user.target
    view = _view(enabled={**HB_ENABLED, "smbd.service": "generated"},
                 boot=HB_BOOT + "  smbd.service\n",
                 show={"smbd.service": {"WantedBy": "multi-user.target"}})
    assert node_findings("n", view, HB) == [
        "n: smbd starts at boot (generated, pulled in by default.target); heartbeat alone "
        "starts it"]


def test_an_alias_is_judged_by_its_unit_and_reported_once():
    # Debian's samba ships smb.service -> smbd.service: `is-enabled smb` says alias
    show = {"smb.service": {"Id": "smbd.service", "Names": "smbd.service smb.service"},
            "smbd.service": {"Names": "smbd.service smb.service"}}
    view = _view(enabled={**HB_ENABLED, "smbd.service": "enabled"}, show=show)
    assert node_findings("n", view, HB) == [
        "n: smbd starts at boot (enabled); heartbeat alone starts it"]
    linked = _view(enabled={**HB_ENABLED, "smbd.service": "linked"}, show=show,
                   boot=HB_BOOT + "  smbd.service\n")
    assert len(node_findings("n", linked, HB)) == 1


def test_a_unit_started_by_its_socket_starts_at_boot_and_a_masked_one_never():
    # `indirect`: the unit's Also= names a socket that is enabled (systemctl(1))
    view = _view(enabled={**HB_ENABLED, "smbd.service": "indirect"},
                 boot=HB_BOOT + "  smbd.socket\n",
                 show={"smbd.service": {"TriggeredBy": "smbd.socket"}})
    assert node_findings("n", view, HB) == [
        "n: smbd starts at boot (indirect, started by smbd.socket); heartbeat alone starts it"]
    masked = _view(enabled={**HB_ENABLED, "smbd.service": "masked"},
                   boot=HB_BOOT + "  smbd.service\n")
    assert node_findings("n", masked, HB) == []


def test_drbd_promote_pulled_in_at_boot_makes_drbd_primary_outside_the_manager():
    # drbd-utils 9: drbd-services@r0.target BindsTo=drbd-promote@r0.service
    view = _view(boot=HB_BOOT + "  drbd-services@r0.target\n  drbd-promote@r0.service\n",
                 show={"drbd-promote@r0.service": {"BoundBy": "drbd-services@r0.target"}})
    assert node_findings("n", view, HB) == [
        "n: drbd-promote@r0 starts at boot (static, pulled in by drbd-services@r0.target); "
        "heartbeat alone starts it"]


def test_heartbeat_needs_one_drbd_service_at_boot_and_the_other_manager_never():
    off = {**HB_ENABLED, "drbd.service": "disabled"}
    assert node_findings("n", _view(enabled=off, boot=BOOT_COMMON + "  heartbeat.service\n"),
                         HB) == [
        "n: the DRBD service is not enabled at boot (drbd disabled, drbd@r0 disabled)"]
    # drbd@r0.target (WantedBy=multi-user.target) pulls drbd@r0.service in: enough
    per_resource = _view(enabled=off, boot=BOOT_COMMON + "  heartbeat.service\n"
                         "  drbd@r0.target\n  drbd@r0.service\n")
    assert node_findings("n", per_resource, HB) == []
    # Debian's corosync package ships a corosync.conf: enabled, corosync starts
    sample = {**_files(), "/etc/corosync/corosync.conf": "totem {\n\tversion: 2\n}\n"}
    both = _view(enabled={**HB_ENABLED, "corosync.service": "enabled"}, files=sample)
    assert node_findings("n", both, HB) == [
        "n: corosync starts at boot (enabled); heartbeat alone runs here"]


def test_the_other_manager_counts_only_where_its_configuration_lets_it_start():
    """A Pacemaker node with Debian's heartbeat package installed and enabled by its
    postinst: without ha.cf heartbeat exits at once (the pcs lab build); a leftover ha.cf
    (a migration half done) makes it start beside Pacemaker."""
    enabled = {**PCMK_ENABLED, "heartbeat.service": "enabled"}
    boot = PCMK_BOOT + "  heartbeat.service\n"
    assert node_findings("n", _view(PCMK, enabled=enabled, boot=boot), PCMK) == []
    left = {**_files(), "/etc/ha.d/ha.cf": "node ha1 ha2\n"}
    assert node_findings("n", _view(PCMK, enabled=enabled, boot=boot, files=left), PCMK) == [
        "n: heartbeat starts at boot (enabled); pacemaker alone runs here"]
    # on a Heartbeat node, corosync without a corosync.conf never starts
    assert node_findings("n", _view(enabled={**HB_ENABLED, "corosync.service": "enabled"}),
                         HB) == []


def test_pacemaker_wants_sbd_exactly_when_the_cib_fences_with_sbd():
    no_sbd = {**PCMK_ENABLED, "sbd.service": "disabled"}
    boot = PCMK_BOOT.replace("  sbd.service\n", "")
    assert node_findings("n", _view(PCMK, enabled=no_sbd, boot=boot), PCMK) == [
        "n: SBD fencing is not enabled at boot (sbd disabled)"]
    ipmi = CIB_LAB.replace('type="fence_sbd"', 'type="fence_ipmilan"')
    assert node_findings("n", _view(PCMK, enabled=no_sbd, boot=boot, cib=ipmi), PCMK) == []


def test_sbd_is_configured_by_a_fence_device_or_the_watchdog_alone():
    # pacemaker-schedulerd(7): stonith-watchdog-timeout set enables watchdog-only SBD
    def cib(resources: str = "", prop: str = "") -> Cib:
        return Cib.parse(f"<configuration><crm_config><cluster_property_set id='o'>{prop}"
                         f"</cluster_property_set></crm_config><resources>{resources}"
                         "</resources></configuration>")
    assert sbd_configured(Cib.parse(CIB_LAB))
    assert sbd_configured(cib('<primitive id="s" class="stonith" type="external/sbd"/>'))
    assert sbd_configured(cib(prop='<nvpair name="stonith-watchdog-timeout" value="10s"/>'))
    assert not sbd_configured(cib(prop='<nvpair name="stonith-watchdog-timeout" value="0"/>'))
    assert not sbd_configured(cib('<primitive id="i" class="stonith" type="fence_ipmilan"/>'))
    assert manages_drbd(Cib.parse(CIB_LAB))
    assert not manages_drbd(cib())


def test_pacemaker_owns_drbd_when_the_cib_runs_linbit_drbd_and_an_unread_cib_fails():
    drbd_on = _view(PCMK, enabled={**PCMK_ENABLED, "drbd.service": "enabled"})
    assert node_findings("n", drbd_on, PCMK) == [
        "n: drbd starts at boot (enabled); pacemaker alone starts it"]
    unread = _view(PCMK, cib="")
    assert node_findings("n", unread, PCMK) == [
        "n: the CIB could not be read (cibadmin, /var/lib/pacemaker/cib/cib.xml): whether "
        "sbd must start at boot and whether Pacemaker brings DRBD up is unknown"]


# -- mounts: fstab(5), systemd.mount(5), autofs(5) ----------------------------------------


@pytest.mark.parametrize("line, reason", [
    ("/dev/drbd0 /var/lib/vmware ext3 defaults 0 2", "the DRBD device on /var/lib/vmware at boot"),
    # fstab(5): "LABEL=<label> or UUID=<uuid> may be given instead of a device name"
    (f"{UUID} /srv/data ext3 defaults,nofail 0 0", "the DRBD device on /srv/data at boot"),
    ('LABEL="vmdata" /var/lib/vmware ext3 defaults 0 2', "the DRBD device on /var/lib/vmware"),
    ("/dev/drbd/by-res/r0/0 /var/lib/vmware ext3 rw 0 0", "the DRBD device on /var/lib/vmware"),
    ("/dev/disk/by-uuid/6f1c2a47-6f3e-4c36-9d8b-3b7f0a0b3c11 /mnt ext3 rw 0 0",
     "the DRBD device on /mnt at boot"),
    # another device on the mount point, written with a trailing slash
    ("/dev/vdb /var/lib/vmware/ ext3 defaults 0 2",
     "/dev/vdb on the mount point /var/lib/vmware at boot"),
    # systemd.mount(5): with x-systemd.automount, noauto has no effect
    ("/dev/drbd0 /var/lib/vmware ext3 noauto,x-systemd.automount 0 0",
     "on first access (x-systemd.automount)"),
])
def test_fstab_lines_that_mount_the_drbd_device_or_the_mount_point_fail(line, reason):
    found = fstab_findings("/etc/fstab", FSTAB + line + "\n", HB,
                           frozenset({UUID, "LABEL=vmdata"}))
    assert len(found) == 1 and found[0].startswith(f"/etc/fstab line 9 `{line}`")
    assert reason in found[0]


@pytest.mark.parametrize("line", [
    "/dev/drbd0 /var/lib/vmware ext3 noauto 0 0",  # fstab(5): noauto, mounted only by hand
    "/dev/vdc /var/lib/vmware2 ext3 defaults 0 2",
    "# /dev/drbd0 /var/lib/vmware ext3 defaults 0 2",
    "/dev/drbd00 /srv ext3 defaults 0 2",
])
def test_fstab_lines_that_leave_the_drbd_device_alone_pass(line):
    assert fstab_findings("/etc/fstab", FSTAB + line + "\n", HB, frozenset({UUID})) == []


def test_fstab_octal_escapes_are_read_as_the_path():
    owned = replace(HB, mount_point="/srv/vm data")
    found = fstab_findings("/etc/fstab", "/dev/vdb /srv/vm\\040data ext3 rw 0 0\n", owned,
                           frozenset())
    assert found and "on the mount point /srv/vm data" in found[0]


def test_an_enabled_mount_unit_fails_once_and_an_fstab_line_is_its_finding():
    # a hand-written /etc/systemd/system/var-lib-vmware.mount, WantedBy=multi-user.target
    unit = _view(enabled={**HB_ENABLED, "var-lib-vmware.mount": "enabled"})
    assert node_findings("n", unit, HB) == [
        "n: var-lib-vmware.mount starts at boot (enabled): it mounts /var/lib/vmware"]
    # systemd-fstab-generator's unit for an fstab line: local-fs.target wants it
    files = {**_files(), "/etc/fstab": FSTAB + "/dev/drbd0 /var/lib/vmware ext3 defaults 0 2\n"}
    fstab = _view(files=files, boot=HB_BOOT + "  var-lib-vmware.mount\n",
                  enabled={**HB_ENABLED, "var-lib-vmware.mount": "generated"})
    assert [f.split("`")[0] for f in node_findings("n", fstab, HB)] == ["n: /etc/fstab line 9 "]


def test_autofs_maps_that_mount_the_drbd_device_fail():
    # auto.master(5): a direct map (/-) keyed by the full path; autofs(5): ":/dev/..."
    direct = "/var/lib/vmware -fstype=ext3,rw :/dev/drbd0\n"
    assert autofs_findings("/etc/auto.direct", direct, HB, frozenset()) == [
        "/etc/auto.direct line 1 `/var/lib/vmware -fstype=ext3,rw :/dev/drbd0`: autofs "
        "mounts the DRBD device on access"]
    indirect = "vmware -fstype=ext3 :/dev/drbd/by-res/r0\n"
    assert len(autofs_findings("/etc/auto.lib", indirect, HB, frozenset())) == 1
    master = "+dir:/etc/auto.master.d\n/- /etc/auto.direct\n/misc /etc/auto.misc\n"
    assert autofs_findings("/etc/auto.master", master, HB, frozenset()) == []


# -- the VIP in the node's network configuration ------------------------------------------


def test_interfaces_stanzas_that_add_the_vip_fail_at_boot_or_by_hand():
    # interfaces(5): an alias interface with its own stanza, netmask on its own line
    alias = ("auto eth0:0\niface eth0:0 inet static\n    address 192.168.1.3\n"
             "    netmask 255.255.255.0\n")
    assert interfaces_findings("/etc/network/interfaces.d/vip", alias, "192.168.1.3") == [
        "/etc/network/interfaces.d/vip line 3 `address 192.168.1.3` (iface eth0:0) adds the "
        "virtual IP at boot"]
    manual = "iface eth0:1 inet static\n address 192.168.1.3/24\n"
    assert interfaces_findings("f", manual, "192.168.1.3") == [
        "f line 2 `address 192.168.1.3/24` (iface eth0:1) adds the virtual IP by hand "
        "(`ifup eth0:1`)"]
    # interfaces(5): up/post-up commands, a line continued with a backslash
    up = ("allow-hotplug eth0\niface eth0 inet static\n address 192.168.1.1/24\n"
          " up ip addr add \\\n    192.168.1.3/24 dev eth0 label eth0:vip\n")
    assert interfaces_findings("f", up, "192.168.1.3") == [
        "f line 4 `up ip addr add 192.168.1.3/24 dev eth0 label eth0:vip` (iface eth0) adds "
        "the virtual IP at boot"]


def test_an_auto_line_in_the_main_file_brings_up_a_stanza_of_interfaces_d():
    # Debian's /etc/network/interfaces sources interfaces.d/*: auto may sit in either
    files = {**_files(), "/etc/network/interfaces": "source /etc/network/interfaces.d/*\n"
             "auto lo eth0 eth0:vip\niface lo inet loopback\n",
             "/etc/network/interfaces.d/vip": "iface eth0:vip inet static\n"
             "  address 192.168.1.3/24\n"}
    assert node_findings("n", _view(files=files), HB) == [
        "n: /etc/network/interfaces.d/vip line 2 `address 192.168.1.3/24` (iface eth0:vip) "
        "adds the virtual IP at boot"]


def test_vrrp_and_ucarp_holding_the_vip_and_an_if_up_hook_adding_it_fail():
    # keepalived.conf(5): vrrp_instance's virtual_ipaddress block
    keepalived = ("vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n"
                  "    virtual_router_id 51\n    virtual_ipaddress {\n"
                  "        192.168.1.3/24 dev eth0\n    }\n}\n")
    # ucarp's interfaces(5) options (Debian's ucarp package)
    ucarp = "auto eth0\niface eth0 inet static\n  address 192.168.1.1/24\n  ucarp-vid 3\n" \
            "  ucarp-vip 192.168.1.3\n  ucarp-password secret\n"
    hook = "#!/bin/sh\n[ \"$IFACE\" = eth0 ] || exit 0\nip addr add 192.168.1.3/24 dev eth0\n"
    files = {**_files(), "/etc/keepalived/keepalived.conf": keepalived,
             "/etc/network/interfaces": ucarp, "/etc/network/if-up.d/vip": hook}
    assert node_findings("n", _view(files=files), HB) == [
        "n: /etc/network/interfaces line 5 `ucarp-vip 192.168.1.3` (iface eth0) adds the "
        "virtual IP at boot",
        "n: /etc/keepalived/keepalived.conf line 6 `192.168.1.3/24 dev eth0`: keepalived "
        "holds the virtual IP",
        "n: /etc/network/if-up.d/vip line 3 `ip addr add 192.168.1.3/24 dev eth0` starts the "
        "virtual IP 192.168.1.3 when an interface comes up"]


def test_interfaces_lines_that_only_mention_a_near_address_pass():
    text = ("auto eth0\niface eth0 inet static\n address 192.168.1.30/24\n"
            " gateway 192.168.1.3\n# address 192.168.1.3\n post-up ip route add 10.0.0.0/8 "
            "via 192.168.1.254\n")
    assert interfaces_findings("f", text, "192.168.1.3") == []


def test_networkd_keyfile_and_netplan_addresses_holding_the_vip_fail():
    # systemd.network(5): Address= in [Network] or in an [Address] section
    network = "[Match]\nName=eth0\n\n[Network]\nAddress=192.168.1.1/24\nAddress=192.168.1.3/24\n"
    assert networkd_findings("/etc/systemd/network/10-eth0.network", network, "192.168.1.3") == [
        "/etc/systemd/network/10-eth0.network line 6 `Address=192.168.1.3/24` gives the "
        "virtual IP to a link systemd-networkd configures at boot"]
    section = "[Match]\nName=eth0\n[Address]\nAddress = 192.168.1.3/24\nLabel=vip\n"
    assert len(networkd_findings("f", section, "192.168.1.3")) == 1
    # nm-settings-keyfile(5): addressN=address/plen[,gateway] in [ipv4]
    keyfile = ("[connection]\nid=eth0\ntype=ethernet\n\n[ipv4]\nmethod=manual\n"
               "address1=192.168.1.1/24,192.168.1.254\naddress2=192.168.1.3/24\n")
    assert keyfile_findings("k", keyfile, "192.168.1.3") == [
        "k line 8 `address2=192.168.1.3/24` gives the virtual IP to a NetworkManager connection"]
    # netplan(5): addresses as a list, one entry a mapping with its lifetime
    plan = ("network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses:\n"
            "        - 192.168.1.1/24\n        - \"192.168.1.3/24\":\n"
            "            lifetime: forever\n")
    assert netplan_findings("/etc/netplan/01.yaml", plan, "192.168.1.3") == [
        "/etc/netplan/01.yaml line 7 `- \"192.168.1.3/24\":` gives the virtual IP to a link "
        "netplan configures at boot"]


def test_a_vip_named_as_a_dns_server_is_not_an_address():
    # netplan(5): nameservers: addresses: lists DNS servers, not the link's addresses
    plan = ("network:\n  ethernets:\n    eth0:\n      addresses: [192.168.1.1/24]\n"
            "      nameservers:\n        addresses: [192.168.1.3]\n")
    assert netplan_findings("p", plan, "192.168.1.3") == []


# -- the VM: libvirt's autostart, libvirt-guests(8) ---------------------------------------


def test_libvirt_autostart_and_libvirt_guests_on_boot_start_fail():
    view = _view(autostart="hademo.xml\nother.xml\n")
    assert node_findings("n", view, HB) == [
        "n: libvirt autostarts VM hademo at boot (/etc/libvirt/qemu/autostart/hademo.xml)"]
    start = LIBVIRT_GUESTS + 'ON_BOOT="start"\n'
    assert libvirt_guests_findings("/etc/default/libvirt-guests", start, ("hademo",)) == [
        '/etc/default/libvirt-guests line 15 `ON_BOOT="start"`: libvirt-guests starts again '
        "at boot every guest that ran at shutdown (VM hademo)"]
    assert libvirt_guests_findings("f", LIBVIRT_GUESTS, ("hademo",)) == []
    # the setting matters only when libvirt-guests starts at boot
    files = {**_files(), "/etc/default/libvirt-guests": start}
    masked = {**HB_ENABLED, "libvirt-guests.service": "masked"}
    assert node_findings("n", _view(enabled=masked, files=files), HB) == []
    assert len(node_findings("n", _view(files=files), HB)) == 1


# -- commands run at boot or on a schedule: crontab(5), rc.local, units' Exec lines -------


@pytest.mark.parametrize("command, what", [
    ("systemctl start smbd.service", "Samba"),
    ("service nmbd start", "Samba"),
    ("/etc/init.d/smbd restart", "Samba"),
    ("/usr/sbin/smbd -D", "Samba"),
    ("sleep 60; mount -t ext3 /dev/drbd0 /var/lib/vmware", "the mount of /var/lib/vmware"),
    ("mount /var/lib/vmware", "the mount of /var/lib/vmware"),
    ("systemctl start var-lib-vmware.mount", "the mount of /var/lib/vmware"),
    ("invoke-rc.d smbd start", "Samba"),
    ("virsh create /var/lib/vmware/hademo/hademo.xml", "the VM hademo"),
    ("ip -4 address add 192.168.1.3/24 dev eth0", "the virtual IP 192.168.1.3"),
    ("ifconfig eth0:0 192.168.1.3 netmask 255.255.255.0 up", "the virtual IP 192.168.1.3"),
    ("drbdadm primary r0", "the DRBD Primary role"),
])
def test_commands_that_start_a_cluster_resource(command, what):
    assert command_starts(command, HB) == what


@pytest.mark.parametrize("command", [
    "pkill smbd", "systemctl stop smbd nmbd", "umount /var/lib/vmware",
    "mountpoint -q /var/lib/vmware", "virsh list --all", "virsh start hademo2",
    "ip addr add 192.168.1.30/24 dev eth0", "drbdadm secondary r0", "smbstatus",
    "samba-tool user list", "systemctl start smbd-backup.service",
])
def test_commands_that_start_nothing_of_the_cluster(command):
    assert command_starts(command, HB) is None


def test_crontab_and_rc_local_lines_name_the_file_line_and_when():
    # crontab(5): @reboot in a user crontab; a system crontab line carries the user
    user = "# m h dom mon dow command\n@reboot sleep 30 && /usr/bin/virsh start hademo\n"
    assert crontab_findings("/var/spool/cron/crontabs/root", user, HB) == [
        "/var/spool/cron/crontabs/root line 2 `@reboot sleep 30 && /usr/bin/virsh start "
        "hademo` starts the VM hademo at boot"]
    system = CRONTAB + "*/5 * * * * root ip addr add 192.168.1.3/24 dev eth0 2>/dev/null\n"
    assert crontab_findings("/etc/crontab", system, HB) == [
        "/etc/crontab line 5 `*/5 * * * * root ip addr add 192.168.1.3/24 dev eth0 "
        "2>/dev/null` starts the virtual IP 192.168.1.3 on a schedule"]
    assert crontab_findings("/etc/crontab", CRONTAB, HB) == []
    rc_local = "#!/bin/sh -e\n# rc.local\ndrbdadm primary r0\nexit 0\n"
    assert script_findings("/etc/rc.local", rc_local, HB, "at boot") == [
        "/etc/rc.local line 3 `drbdadm primary r0` starts the DRBD Primary role at boot"]


def test_a_boot_unit_or_drop_in_running_such_a_command_fails():
    unit = "[Service]\nType=oneshot\nExecStart=-/usr/bin/virsh start hademo\n"
    dropin = "[Service]\nExecStartPost=/usr/sbin/ip addr add 192.168.1.3/24 dev eth0\n"
    files = {**_files(), "/etc/systemd/system/vm-up.service": unit,
             "/etc/systemd/system/networking.service.d/vip.conf": dropin}
    assert node_findings("n", _view(files=files, boot=HB_BOOT + "  vm-up.service\n"), HB) == [
        "n: /etc/systemd/system/vm-up.service line 3 `ExecStart=-/usr/bin/virsh start hademo`"
        " starts the VM hademo when vm-up.service starts at boot",
        "n: /etc/systemd/system/networking.service.d/vip.conf line 2 `ExecStartPost=/usr/sbin"
        "/ip addr add 192.168.1.3/24 dev eth0` starts the virtual IP 192.168.1.3 when "
        "networking.service starts at boot"]
    # the same unit, not started at boot
    assert node_findings("n", _view(files={**_files(), "/etc/systemd/system/vm-up.service":
                                           unit}), HB) == []


# -- the read itself ----------------------------------------------------------------------


def test_the_read_is_one_quoted_read_only_command():
    owned = replace(HB, mount_point="/srv/vm data", device="/dev/drbd1")
    command = read_command(owned)
    assert "'srv-vm\\x20data.mount'" in command and "blkid -p -o export /dev/drbd1" in command
    # it reads only: no systemctl verb that changes a unit, no file written
    assert not re.search(r"systemctl (enable|disable|start|stop|restart|mask|daemon)", command)
    assert not re.search(r"(?<![2&])>|\b(rm|mv|tee|touch)\b", command)
    assert "cibadmin" not in command and "cibadmin" in read_command(PCMK)


def test_head_blocks_and_boot_lines_are_parsed():
    # head(1) -v: a header per file, an empty line between the blocks
    assert parse_head("==> /a <==\nx\n\n==> /b <==\ny\n") == {"/a": "x\n", "/b": "y\n"}
    assert parse_boot("default.target\n  ● ssh.service\n  ○ -.mount\n") == {
        "default.target", "ssh.service", "-.mount"}


def test_the_drbd_identities_read_on_the_primary_judge_the_secondary():
    files = {**_files(), "/etc/fstab": FSTAB + f"{UUID} /var/lib/vmware2 ext3 defaults 0 2\n"}
    secondary = _view(files=files)  # blkid answers nothing on a Secondary
    assert node_findings("node2", secondary, HB) == []
    assert len(node_findings("node2", secondary, HB, frozenset({UUID}))) == 1


def test_each_unit_gets_its_own_show_block_even_when_one_is_missing():
    from fixtures.readings.ownership import parse_show
    # systemctl show: blocks separated by an empty line; an alias answers with its unit
    text = ("Id=smbd.service\nNames=smbd.service smb.service\nUnitFileState=enabled\n\n"
            "Id=nmbd.service\nNames=nmbd.service nmb.service\nLoadState=masked\n")
    units = ("smbd.service", "samba.service", "smb.service", "nmbd.service")
    shown = parse_show(text, units)
    assert shown["smb.service"]["UnitFileState"] == "enabled"
    assert shown["nmbd.service"]["LoadState"] == "masked" and "samba.service" not in shown


def test_the_show_blocks_follow_the_units_asked():
    view = _view(show={"smb.service": {"Id": "smbd.service", "Names": "smbd.service smb.service"}})
    assert view.units["smb.service"]["Id"] == "smbd.service"
    assert view.units["samba.service"]["LoadState"] == "masked"
    assert view.enabled["samba.service"] == "masked"


# -- HB-08: what a node holds now, against what its manager gave it -----------------------


def test_a_part_held_where_the_manager_gives_nothing_is_outside_the_manager():
    from fixtures.managers.heartbeat.parsers import GROUP_PARTS
    from fixtures.readings.ownership import held_outside_manager
    whole, nothing = dict.fromkeys(GROUP_PARTS, True), dict.fromkeys(GROUP_PARTS, False)
    # the baseline: node1 holds the group its manager gave it
    assert held_outside_manager({"node1": whole, "node2": nothing}, {}) == []
    # the VIP added by hand on node2 (a static address): crm_mon gives node2 nothing
    stray = {**nothing, "VIP": True}
    assert held_outside_manager({"node1": whole, "node2": stray}, {
        "node2": "crm_mon shows no resource of the cluster active there"}) == [
        "node2 holds VIP, but crm_mon shows no resource of the cluster active there: started "
        "outside the manager"]
    # the whole group started by hand on node1 while heartbeat is stopped on both
    assert held_outside_manager({"node1": whole, "node2": nothing}, {
        "node1": "heartbeat does not run there", "node2": "heartbeat does not run there"}) == [
        "node1 holds VIP, DRBD Primary, mount, smbd, VM, but heartbeat does not run there: "
        "started outside the manager"]
