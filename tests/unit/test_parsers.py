"""Parsers of what the nodes print: /proc/drbd, drbdadm status, heartbeat files,
and the watcher's lines."""

from __future__ import annotations

from fixtures.drbd import parse_drbdadm_status, parse_proc_drbd, proc_drbd_version
from fixtures.heartbeat import parse_authkeys, parse_ha_cf, parse_haresources
from fixtures.watch import LogLine, Sample, _spans, parse_line

PROC_SYNCING = """version: 8.4.11 (api:1/proto:86-101)
srcversion: 211FB288A383ED945B83420
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:412672 nr:0 dw:0 dr:414784 al:8 bm:0 lo:0 pe:1 ua:0 ap:0 ep:1 wo:f oos:636064
	[=======>............] sync'ed: 39.5% (636064/1048508)K
	finish: 0:00:15 speed: 41,248 (41,248) K/sec
"""

PROC_SPLIT = """version: 8.4.11 (api:1/proto:86-101)
 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----
    ns:0 nr:0 dw:4 dr:2 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:4
 1: cs:Unconfigured
"""


def test_proc_drbd_during_initial_sync():
    assert proc_drbd_version(PROC_SYNCING) == "8.4.11"
    s = parse_proc_drbd(PROC_SYNCING)[0]
    assert (s.connection, s.role, s.peer_role) == ("SyncSource", "Primary", "Secondary")
    assert (s.disk, s.peer_disk, s.protocol) == ("UpToDate", "Inconsistent", "C")
    assert s.synced_percent == 39.5 and s.speed_kib == 41248
    assert not s.healthy and not s.split_brain


def test_proc_drbd_split_brain_is_standalone():
    states = parse_proc_drbd(PROC_SPLIT)
    assert list(states) == [0]
    assert states[0].split_brain and states[0].peer_disk == "DUnknown"
    assert str(states[0]) == "cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown"


def test_drbdadm_status_connecting_peer():
    text = "r0 role:Secondary\n  disk:UpToDate\n  node2 connection:Connecting\n"
    r0 = parse_drbdadm_status(text)["r0"]
    assert r0["role"] == "Secondary" and r0["connection"] == "Connecting"
    assert r0["peer"] == "node2"


def test_ha_cf_keeps_every_value_of_repeated_directives():
    cf = parse_ha_cf("node node1\nnode  node2  # the standby\nucast eth0 192.168.1.2\n"
                     "serial /dev/ttyS1\ncrm off\n")
    assert cf.all("node") == ["node1", "node2"]
    assert cf["ucast"] == "eth0 192.168.1.2" and cf["crm"] == "off"
    assert cf.get("bcast") is None


def test_authkeys_crc_is_seen_as_crc():
    keys = parse_authkeys("auth 1\n1 crc\n")
    assert keys["keys"][keys["auth"]][0] == "crc"


def test_haresources_split_over_lines_with_backslash_is_one_group():
    text = "# comment\nnode1 drbddisk::r0 \\\n  Filesystem::/dev/drbd0::/var/lib/vmware::ext3 \\\n"
    text += "  IPaddr2::192.168.1.3/24/eth0\n"
    assert parse_haresources(text) == [["node1", "drbddisk::r0",
                                        "Filesystem::/dev/drbd0::/var/lib/vmware::ext3",
                                        "IPaddr2::192.168.1.3/24/eth0"]]


def test_haresources_printed_as_in_the_article_is_several_groups():
    assert len(parse_haresources("node1 drbddisk::r0\nsamba vmware\n")) == 2


def test_watcher_lines():
    s = parse_line("S 100.25 Secondary WFConnection UpToDate/DUnknown 0 0 0")
    assert isinstance(s, Sample) and s.connection == "WFConnection" and not s.serving
    log = parse_line("L 101.00 heartbeat[812]: 2026/11/24_16:40:27 WARN: node node1: is dead")
    assert isinstance(log, LogLine) and "is dead" in log.text
    assert parse_line("garbage") is None and parse_line("S 1 2 3") is None


def test_spans_of_a_held_role_end_at_the_next_sample():
    samples = []
    for t, role in [(0.0, "Secondary"), (0.25, "Primary"), (0.5, "Primary"), (0.75, "Secondary"),
                    (1.0, "Primary")]:
        s = Sample(t, role, "Connected", "UpToDate/UpToDate", False, False, False)
        s.t = t
        samples.append(s)
    assert _spans(samples, "role") == [(0.25, 0.75), (1.0, 1.25)]
