"""Heartbeat's configuration read by meaning (SPEC §7): ha.cf, haresources and authkeys in the
forms heartbeat's documentation and real clusters use, and HB-01's judgement of them.

Sources of the variants: heartbeat's annotated sample files (doc/ha.cf, doc/haresources,
doc/authkeys), its parser (heartbeat/config.c, heartbeat/auth.c, lib/plugins/HBcomm),
the Linux-HA "GettingStarted" page, the DRBD user's guide (Heartbeat R1-style
configuration), a ha.cf posted to the linux-ha list, and the article's own lines.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fixtures.managers.heartbeat.parsers import (
    DrbdDisk,
    Expected,
    Filesystem,
    IPAddress,
    Medium,
    Resource,
    authkeys_problems,
    ha_cf_problems,
    haresources_problems,
    msec,
    parse_authkeys,
    parse_ha_cf,
    parse_haresources,
    parse_resource,
    timing_problems,
)
from fixtures.provision.templates import render
from tests.unit.build_texts import heredoc
from tests.unit.test_templates import _inventory, _vars

# the article's ha.cf (§4.2), as an admin types it from the article
ARTICLE_HA_CF = """\
logfacility     local0
keepalive 2
warntime 6
deadtime 10
initdead 60
udpport 694
ucast eth0 192.168.1.2
auto_failback on
node HAdebian01
node HAdebian02
"""
ARTICLE_HARESOURCES = ("HAdebian01 drbddisk::r0 Filesystem::/dev/drbd0::/var/lib/vmware::ext3 "
                       "samba vmware IPaddr2::192.168.1.3/24/eth0\n")

WANT = Expected(keepalive=2, warntime=6, deadtime=10, initdead=60, udpport=694,
                auto_failback=True, nodes=("HAdebian01", "HAdebian02"), primary="HAdebian01",
                heartbeat_addresses={"HAdebian01": ("192.168.1.1",),
                                     "HAdebian02": ("192.168.1.2",)},
                drbd_resource="r0", drbd_device="/dev/drbd0", mount_point="/var/lib/vmware",
                fstype="ext3", virtual_ip="192.168.1.3", netmask=24)


def _cf_problems(text: str, want: Expected = WANT, uname: str = "HAdebian01",
                 resolved: dict[str, str] | None = None) -> list[str]:
    return ha_cf_problems(parse_ha_cf(text), want, "HAdebian01", uname, resolved)


def _hr_problems(text: str, want: Expected = WANT, other: str | None = None) -> list[str]:
    return haresources_problems({"HAdebian01": parse_haresources(text),
                                 "HAdebian02": parse_haresources(other or text)}, want)


# ---- ha.cf


def test_the_articles_ha_cf_is_the_inventorys_cluster():
    cf = parse_ha_cf(ARTICLE_HA_CF)
    assert cf.nodes == ["HAdebian01", "HAdebian02"]
    assert cf.media == [Medium("ucast", "eth0", ("192.168.1.2",))]
    assert _cf_problems(ARTICLE_HA_CF) == []


def test_heartbeats_sample_ha_cf_with_every_medium_form():
    # doc/ha.cf: commented defaults, one bcast per interface, mcast's five fields, serial
    text = """\
#	There are lots of options in this file.  All you have to have is a set
#	of nodes listed {"node ...} one of {serial, bcast, mcast, or ucast},
#	and a value for "auto_failback".
debugfile /var/log/ha-debug
logfile	/var/log/ha-log
#keepalive 2
#deadtime 30
baud	19200
serial	/dev/ttyS0	# Linux
bcast	eth0		# Linux
bcast	eth1 eth2	# Linux
mcast eth0 225.0.0.1 694 1 0
ucast eth0 192.168.1.2
auto_failback on
node	ken3
node	kathy
"""
    cf = parse_ha_cf(text)
    assert cf.media == [Medium("serial", "/dev/ttyS0"), Medium("bcast", "eth0"),
                        Medium("bcast", "eth1"), Medium("bcast", "eth2"),
                        Medium("mcast", "eth0", ("225.0.0.1", "694", "1", "0")),
                        Medium("ucast", "eth0", ("192.168.1.2",))]
    assert cf.nodes == ["ken3", "kathy"]
    assert cf.effective("keepalive").written is None  # commented out: the default applies


def test_left_out_timings_take_heartbeats_documented_defaults():
    # Linux-HA GettingStarted: both nodes on one "node" line, no warntime, no udpport
    cf = parse_ha_cf("keepalive 2\ndeadtime 30\ninitdead 120\nbcast eth0\n"
                     "node linuxha1 linuxha2\nauto_failback on\n")
    assert cf.nodes == ["linuxha1", "linuxha2"]
    assert (cf.effective("warntime").value, cf.effective("warntime").written) == (15.0, None)
    assert cf.effective("udpport").value == 694
    bare = parse_ha_cf("node a b\nbcast eth0\n")
    assert [bare.effective(n).value for n in ("keepalive", "deadtime", "warntime", "initdead",
                                             "udpport", "auto_failback")] == [
        1.0, 30.0, 15.0, 30.0, 694, "legacy"]


@pytest.mark.parametrize(("deadtime", "initdead"), [("5", 12.0), ("8", 16.0), ("10", 20.0),
                                                    ("11", 11.0), ("500ms", 12.0)])
def test_initdead_default_follows_deadtime_as_config_c_computes_it(deadtime, initdead):
    assert parse_ha_cf(f"deadtime {deadtime}").effective("initdead").value == initdead


@pytest.mark.parametrize(("text", "ms"), [("2", 2000), ("500ms", 500), ("500MS", 500),
                                          ("0.5", 500), ("1.5", 1500), ("1500msec", 1500),
                                          ("2000000us", 2000), (".5", 500), ("2s", None),
                                          ("two", None), ("2min", None)])
def test_times_are_read_as_heartbeats_get_msec_reads_them(text, ms):
    # config.c get_msec: seconds, or ms/msec/us/usec in any case; any other unit is refused
    assert msec(text) == ms


def test_a_list_posted_ha_cf_with_tabs_ms_and_crm():
    # linux-ha list, msg09749: keepalive in ms, tabs, fully qualified names, crm respawn
    text = ("debugfile /logs/ha-debug\nlogfacility\tlocal0\nkeepalive 500ms\ndeadtime 10\n"
            "warntime 5\ninitdead 20\nudpport\t694\nucast eth1 10.0.0.32\nauto_failback yes\n"
            "node\tshsam3.pubpress.com\nnode\tshsam4.pubpress.com\ncrm respawn\n")
    cf = parse_ha_cf(text)
    assert cf.effective("keepalive").value == 0.5
    assert cf.effective("auto_failback").value == "on"
    assert cf.nodes == ["shsam3.pubpress.com", "shsam4.pubpress.com"] and cf.crm
    want = replace(WANT, keepalive=0.5, warntime=5, initdead=20,
                   nodes=("shsam3.pubpress.com", "shsam4.pubpress.com"),
                   heartbeat_addresses={"shsam3.pubpress.com": ("10.0.0.31",),
                                        "shsam4.pubpress.com": ("10.0.0.32",)})
    problems = ha_cf_problems(cf, want, "shsam3.pubpress.com", "shsam3.pubpress.com")
    assert [p.split(":")[0] for p in problems] == ["crm respawn"]


def test_repeated_directives_commas_and_the_udp_alias():
    cf = parse_ha_cf("keepalive 1\nkeepalive 2\nnode a,b\nnode c\nudp eth0\n")
    assert cf.effective("keepalive").value == 2.0  # the last one wins
    assert cf.nodes == ["a", "b", "c"]
    assert cf.media == [Medium("bcast", "eth0")]  # config.c: 'udp' replaced by 'bcast'


@pytest.mark.parametrize(("written", "value"), [("on", "on"), ("true", "on"), ("Yes", "on"),
                                                ("y", "on"), ("1", "on"), ("off", "off"),
                                                ("FALSE", "off"), ("no", "off"), ("0", "off"),
                                                ("legacy", "legacy"), ("maybe", None)])
def test_auto_failback_forms_as_cl_str_to_boolean_reads_them(written, value):
    assert parse_ha_cf(f"auto_failback {written}").effective("auto_failback").value == value


def test_a_miscased_directive_is_refused_like_heartbeat_does():
    problems = _cf_problems(ARTICLE_HA_CF.replace("keepalive 2", "KeepAlive 2"))
    assert any("'KeepAlive'" in p and "refuses" in p for p in problems)


def test_a_written_time_heartbeat_refuses_is_a_failure_with_its_reason():
    problems = _cf_problems(ARTICLE_HA_CF.replace("keepalive 2", "keepalive 2s"))
    assert problems == ["keepalive '2s' is not a time heartbeat reads (seconds, or a number "
                        "with ms or us): heartbeat refuses the file"]


def test_each_value_is_compared_with_the_inventory_saying_whether_it_was_written():
    problems = _cf_problems("node HAdebian01 HAdebian02\nucast eth0 192.168.1.2\n"
                            "keepalive 2000ms\nwarntime 6\ndeadtime 10\ninitdead 60\n"
                            "auto_failback on\n", replace(WANT, udpport=695))
    assert problems == ["udpport 694 (heartbeat's default), inventory: 695"]
    problems = _cf_problems(ARTICLE_HA_CF.replace("warntime 6", "warntime 5000ms"))
    assert problems == ["warntime 5s (written '5000ms'), inventory: 6s"]


def test_timing_rules_fail_with_their_reason_on_valid_but_unsafe_values():
    assert timing_problems(2, 6, 10, 60) == []
    assert [p.split(":")[0] for p in timing_problems(2, 2, 4, 6)] == [
        "keepalive 2s is not below warntime 2s", "deadtime 4s is not more than twice "
        "keepalive (2s)", "initdead 6s is less than twice deadtime (8s)"]
    # a cluster left at heartbeat's defaults passes through init_config but not ha.cf(5)'s
    # advice: initdead then equals deadtime
    problems = _cf_problems("node HAdebian01 HAdebian02\nucast eth0 192.168.1.2\n"
                            "auto_failback on\n", replace(WANT, keepalive=1, warntime=15,
                                                          deadtime=30, initdead=30))
    assert problems == ["initdead 30s is less than twice deadtime (60s): a booting peer is "
                        "declared dead before its network is up (ha.cf(5))"]


def test_legacy_auto_failback_is_refused_even_by_default():
    problems = _cf_problems(ARTICLE_HA_CF.replace("auto_failback on\n", ""))
    assert problems == ["auto_failback legacy (heartbeat's default): the deprecated behaviour, "
                        "with which hb_standby and ipfail do not work; inventory: on"]


def test_node_names_compare_as_heartbeat_compares_them():
    # config.c add_node and heartbeat.c lookup_node lowercase both sides
    assert _cf_problems(ARTICLE_HA_CF.replace("HAdebian01", "hadebian01"),
                        uname="HADebian01") == []
    problems = _cf_problems(ARTICLE_HA_CF, uname="debian")
    assert problems[0].startswith("`uname -n` is 'debian', not among ha.cf's nodes")
    problems = _cf_problems(ARTICLE_HA_CF.replace("node HAdebian02\n", ""))
    assert problems == ["ha.cf names the nodes ['HAdebian01'], the inventory "
                        "['HAdebian01', 'HAdebian02']"]


def test_each_heartbeat_address_of_the_peer_needs_a_ucast_line():
    two_rings = replace(WANT, heartbeat_addresses={"HAdebian01": ("192.168.1.1", "10.0.0.1"),
                                                   "HAdebian02": ("192.168.1.2", "10.0.0.2")})
    assert _cf_problems(ARTICLE_HA_CF, two_rings) == [
        "no ucast line reaches HAdebian02 at 10.0.0.2 (ucast targets: 192.168.1.2)"]
    # the same file on both nodes, a ucast to each (heartbeat ignores its own address)
    both = ARTICLE_HA_CF + "ucast eth1 10.0.0.1\nucast eth1 10.0.0.2\n"
    assert _cf_problems(both, two_rings) == []
    # a target written as a name counts as the address the node resolves it to
    named = ARTICLE_HA_CF.replace("ucast eth0 192.168.1.2", "ucast eth0 HAdebian02")
    assert _cf_problems(named, resolved={"HAdebian02": "192.168.1.2"}) == []
    # broadcast and multicast reach whoever is on the link: no address to compare
    assert _cf_problems(ARTICLE_HA_CF.replace("ucast eth0 192.168.1.2", "bcast eth0")) == []
    assert _cf_problems(ARTICLE_HA_CF.replace("ucast eth0 192.168.1.2", "")) == [
        "no heartbeat medium (bcast, mcast, ucast or serial): heartbeat refuses to start"]


def test_udpport_written_after_the_media_does_not_reach_them():
    text = ARTICLE_HA_CF.replace("udpport 694\n", "") + "udpport 695\n"
    problems = _cf_problems(text, replace(WANT, udpport=695))
    assert problems == ["udpport 695 comes after the first UDP medium, which already uses 694: "
                        "set udpport before the media (ha.cf)"]


# ---- haresources


def test_heartbeats_sample_haresources_forms():
    # doc/haresources: bare addresses (with bits, interface, broadcast), Filesystem, httpd
    text = """\
#	This is a list of resources that move from machine to machine as
#	nodes go down and come up in the cluster.
just.linux-ha.org	135.9.216.110 135.9.215.111 httpd
just.linux-ha.org	135.9.216.3/28/eth0/135.9.216.12 httpd
node1  10.0.0.170 Filesystem::/dev/sda1::/data1::ext2
bigfoot	Filesystem::/dev/sdb1::/data1::ext2
"""
    groups = parse_haresources(text)
    assert [g.node for g in groups] == ["just.linux-ha.org", "just.linux-ha.org", "node1",
                                        "bigfoot"]
    ip = groups[1].resources[0]
    assert isinstance(ip, IPAddress) and ip.script == "IPaddr"
    assert (ip.address, ip.prefix, ip.interface) == ("135.9.216.3", 28, "eth0")
    assert groups[0].resources[2] == Resource("httpd")
    fs = groups[3].resources[0]
    assert isinstance(fs, Filesystem)
    assert (fs.device, fs.mount_point, fs.fstype) == ("/dev/sdb1", "/data1", "ext2")


def test_drbd_guides_group_with_a_continuation_line():
    # DRBD user's guide, "Heartbeat R1-style configuration"
    text = ("bob drbddisk::mysql Filesystem::/dev/drbd0::/var/lib/mysql::ext3 \\\n"
            "    10.9.42.1 mysql\n")
    (group,) = parse_haresources(text)
    assert [type(r).__name__ for r in group.resources] == ["DrbdDisk", "Filesystem",
                                                           "IPAddress", "Resource"]
    assert group.resources[0].resource == "mysql"


def test_resource_arguments_and_defaults():
    assert parse_resource("drbddisk").resource == "all"  # drbddisk's own default
    assert parse_resource("drbdupper::r0-U") == DrbdDisk("drbdupper", ("r0-U",))
    fs = parse_resource("Filesystem::/dev/drbd0::/srv/::ext4::noatime,nodiratime")
    assert (fs.mount_point, fs.fstype, fs.args[3]) == ("/srv", "ext4", "noatime,nodiratime")
    assert parse_resource("Filesystem::/dev/drbd0::/srv").fstype is None  # mount finds it
    assert parse_resource("IPaddr::10.0.0.1/255.255.255.0/eth1").prefix == 24
    assert parse_resource("IPaddr2::10.0.0.1").prefix is None
    assert parse_resource("MailTo::root@example.org::failover") == Resource(
        "MailTo", ("root@example.org", "failover"))


def test_the_articles_haresources_is_the_inventorys_group():
    assert _hr_problems(ARTICLE_HARESOURCES) == []


def test_the_ip_may_come_first_and_drbddisk_may_name_no_resource():
    text = ("HAdebian01 192.168.1.3 drbddisk Filesystem::/dev/drbd0::/var/lib/vmware::ext3 "
            "samba vmstart\n")
    assert _hr_problems(text) == []


def test_order_is_judged_by_dependency():
    fs_first = ("HAdebian01 Filesystem::/dev/drbd0::/var/lib/vmware::ext3 drbddisk::r0 samba "
                "IPaddr2::192.168.1.3/24/eth0\n")
    assert [p.split(":")[0] for p in _hr_problems(fs_first)] == [
        "Filesystem"]  # "Filesystem::... starts before drbddisk::r0"
    assert "starts before drbddisk::r0" in _hr_problems(fs_first)[0]
    samba_first = ("HAdebian01 drbddisk::r0 samba MailTo::root "
                   "Filesystem::/dev/drbd0::/var/lib/vmware::ext3 IPaddr2::192.168.1.3\n")
    assert _hr_problems(samba_first) == [
        "samba start before Filesystem::/dev/drbd0::/var/lib/vmware::ext3: they would run "
        "without /var/lib/vmware mounted"]


def test_the_group_must_hold_the_inventorys_disk_mount_and_vip():
    text = "HAdebian01 drbddisk::r1 Filesystem::/dev/drbd0::/srv::ext4 IPaddr2::192.168.1.4\n"
    problems = _hr_problems(text)
    assert problems[0].startswith("the group of HAdebian01 has no drbddisk for r0")
    assert problems[1:] == [
        "Filesystem::/dev/drbd0::/srv::ext4 mounts on /srv, inventory: /var/lib/vmware",
        "Filesystem::/dev/drbd0::/srv::ext4 mounts ext4, inventory: ext3",
        "the group of HAdebian01 carries no IPaddr/IPaddr2 of the VIP 192.168.1.3: "
        "HAdebian01 drbddisk::r1 Filesystem::/dev/drbd0::/srv::ext4 IPaddr2::192.168.1.4"]
    wrong_mask = ARTICLE_HARESOURCES.replace("192.168.1.3/24", "192.168.1.3/16")
    assert _hr_problems(wrong_mask) == [
        "IPaddr2::192.168.1.3/16/eth0 gives the VIP the netmask 16, inventory: /24"]
    dotted = ARTICLE_HARESOURCES.replace("192.168.1.3/24", "192.168.1.3/255.255.255.0")
    assert _hr_problems(dotted) == []


def test_drbd_device_by_resource_name_or_any_when_the_inventory_leaves_it_open():
    by_res = ARTICLE_HARESOURCES.replace("/dev/drbd0", "/dev/drbd/by-res/r0")
    assert _hr_problems(by_res) == []
    drbd1 = ARTICLE_HARESOURCES.replace("/dev/drbd0", "/dev/drbd1")
    assert "mounts no Filesystem of /dev/drbd0" in _hr_problems(drbd1)[0]
    assert _hr_problems(drbd1, replace(WANT, drbd_device=None)) == []


def test_groups_are_read_as_a_list_and_the_primarys_is_judged():
    text = ARTICLE_HARESOURCES + "HAdebian02 IPaddr::192.168.1.30 apache2\n"
    assert _hr_problems(text) == []
    only_node2 = ARTICLE_HARESOURCES.replace("HAdebian01", "HAdebian02")
    assert _hr_problems(only_node2)[0].startswith("no haresources group prefers HAdebian01")
    stranger = ARTICLE_HARESOURCES + "HAdebian03 apache2\n"
    assert _hr_problems(stranger) == ["haresources gives a group to 'HAdebian03', not a node of "
                                      "the cluster: heartbeat refuses to start"]


def test_both_nodes_must_hold_the_same_groups_in_meaning():
    same = ARTICLE_HARESOURCES.replace("HAdebian01", "hadebian01").replace(
        "IPaddr2::192.168.1.3/24/eth0", "IPaddr2::192.168.1.3/24/eth0  # the VIP")
    assert _hr_problems(ARTICLE_HARESOURCES, other=same) == []
    other = ARTICLE_HARESOURCES.replace(" samba", "")
    assert _hr_problems(ARTICLE_HARESOURCES, other=other)[0].startswith(
        "haresources differs between HAdebian01 and HAdebian02")


def test_the_article_printed_over_several_lines_is_several_groups():
    text = "HAdebian01 drbddisk::r0 Filesystem::/dev/drbd0::/var/lib/vmware::ext3\nsamba vmware\n"
    problems = _hr_problems(text)
    assert "haresources gives a group to 'samba'" in problems[0]


# ---- authkeys


@pytest.mark.parametrize(("text", "active", "method"), [
    ("auth 1\n1 sha1 s3cret\n", 1, "sha1"),
    ("# doc/authkeys\n#auth 1\n#1 crc\n#2 sha1 HI!\n3 md5 Hello!\nauth 3\n", 3, "md5"),
    ("  auth\t2\n\t1 crc\n  2 sha1 key#with#hashes\n", 2, "sha1"),
    ("auth 01\n1 md5 k\n", 1, "md5"),
])
def test_authkeys_forms_as_heartbeats_auth_c_reads_them(text, active, method):
    keys = parse_authkeys(text)
    assert (keys.active, keys.method) == (active, method)
    assert authkeys_problems(keys) == []


def test_authkeys_that_sign_nothing_fail_with_their_reason():
    assert authkeys_problems(parse_authkeys("auth 1\n1 crc\n"))[0].startswith(
        "authkeys signs with crc")
    assert authkeys_problems(parse_authkeys("1 sha1 k\n")) == [
        "authkeys has no 'auth N' line: heartbeat refuses to start"]
    assert authkeys_problems(parse_authkeys("auth 2\n1 sha1 k\n")) == [
        "authkeys 'auth 2' names no key: heartbeat refuses to start"]
    assert authkeys_problems(parse_authkeys("auth 1\n1 sha1\n")) == [
        "authkeys key 1 (sha1) has no secret: heartbeat refuses it"]


# ---- the project's own templates pass the judgement


@pytest.mark.parametrize("profile", ["article", "hardened"])
def test_the_projects_templates_pass_hb01(profile):
    inv = _inventory(profile)
    want = Expected.of(inv)
    assert want.heartbeat_addresses == {"node1": ("192.168.1.1",), "node2": ("192.168.1.2",)}
    for i, node in enumerate(inv.nodes):
        cf = parse_ha_cf(render("ha.cf.j2", **_vars(inv, i)))
        assert ha_cf_problems(cf, want, node.name, node.name) == []
    by_node = {n.name: parse_haresources(render("haresources.j2", **_vars(inv, i)))
               for i, n in enumerate(inv.nodes)}
    assert haresources_problems(by_node, want) == []


def test_the_article_text_builds_hand_written_files_pass_hb01():
    # lab/builds/article-text/60-both-heartbeat.sh: ha.cf as the article prints it (bcast,
    # the serial line taken up, ipfail), its haresources line with Debian's service names
    ha_cf = heredoc("article-text", "60-both-heartbeat.sh", "HACF")
    haresources = heredoc("article-text", "60-both-heartbeat.sh", "HARES")
    want = replace(WANT, drbd_resource="user")
    assert parse_ha_cf(ha_cf).media == [Medium("bcast", "eth0"), Medium("serial", "/dev/ttyS1")]
    assert _cf_problems(ha_cf, want) == []
    assert _hr_problems(haresources, want) == []
