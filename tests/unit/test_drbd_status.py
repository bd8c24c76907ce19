"""DRBD 8.4 and 9 as the nodes print them: ``drbdadm status``, ``drbdsetup events2 --now``,
``drbdadm sh-minor``/``--version``, ``drbdadm dump`` and DRBD-02's judgement of it.

Where each variant comes from:
- status: drbd-utils' ``status`` command (user/v9/drbdsetup.c; user/v84/drbdsetup.c prints
  the same layout on an 8.4 kernel with the connection named ``peer`` and
  ``replication:Established`` always shown) and drbdsetup(8)'s ``status`` section;
- events2: drbdsetup-events2(8) and drbd-utils' tests/v9/events2-*.test expected outputs;
- dump: drbd.conf(5)'s example files (8.4: ``on alice { volume 0 { device minor 1; ...} }``;
  9: ``volume 0`` at the resource level, ``node-id``, a ``connection`` with ``host ... port``)
  and drbdadm's dump layout (user/v84/drbdadm_main.c, user/v9/drbdadm_dump.c).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fixtures.access.inventory import DRBD
from fixtures.access.node import Result
from fixtures.resources.drbd import (
    DrbdResource,
    Expected,
    NodeConf,
    expected,
    judge_config,
    parse_drbdadm_status,
    parse_events2,
    resource_conf,
    shell_minors,
    state_of,
    utils_versions,
)

# -- drbdadm status ---------------------------------------------------------------------------

# drbd-utils 9 on Debian's 8.4 kernel (drbdsetup-84's status): the peer is "peer"
STATUS_84_HEALTHY = """r0 role:Primary
  disk:UpToDate
  peer role:Secondary
    replication:Established peer-disk:UpToDate

"""

# DRBD 9, one volume: a quiet Established prints no replication word
STATUS_9_HEALTHY = """r0 role:Secondary
  disk:UpToDate
  node1 role:Primary
    peer-disk:UpToDate
"""


def _state(text: str, **kw):
    return state_of(parse_drbdadm_status(text)["r0"], **kw)


@pytest.mark.parametrize("text", [STATUS_84_HEALTHY, STATUS_9_HEALTHY], ids=["8.4", "9"])
def test_status_of_a_healthy_resource_maps_to_connected_uptodate(text):
    s = _state(text)
    assert s.healthy and s.connection == "Connected" and s.suspended == "no"
    assert {s.role, s.peer_role} == {"Primary", "Secondary"}


def test_status_84_resync_reports_the_replication_state_and_done():
    s = _state("r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n"
               "    replication:SyncSource peer-disk:Inconsistent done:42.70\n")
    assert (s.connection, s.peer_disk, s.synced_percent) == ("SyncSource", "Inconsistent", 42.7)
    assert not s.healthy


def test_status_84_standalone_has_no_peer_role_and_is_a_split_brain():
    s = _state("r0 role:Primary\n  disk:UpToDate\n  peer connection:StandAlone\n")
    assert (s.connection, s.peer_role, s.peer_disk) == ("StandAlone", "Unknown", "DUnknown")
    assert s.split_brain and not s.down


def test_status_9_diskless_device_and_suspended_io():
    # drbdsetup status off a terminal adds client: to a Diskless disk; suspended: shows
    # only when I/O is frozen (fencing resource-and-stonith waiting for the fence)
    s = _state("r0 role:Primary suspended:fencing\n  disk:Diskless client:no quorum:yes\n"
               "  node2 connection:Connecting\n")
    assert (s.disk, s.suspended, s.connection) == ("Diskless", "fencing", "WFConnection")
    assert "suspended:fencing" in str(s)


def test_status_9_explicit_volumes_and_verbose_statistics():
    # a LINBIT-guide style resource with `volume:0` lines, then --verbose --statistics,
    # whose counters continue an item 4 columns deeper
    plain = _state("wwwdata role:Primary\n  volume:0 disk:UpToDate\n  node-b role:Secondary\n"
                   "    volume:0 peer-disk:UpToDate\n".replace("wwwdata", "r0"))
    verbose = _state(
        "r0 node-id:1 role:Primary suspended:no\n"
        "  volume:0 minor:100 disk:UpToDate\n"
        "      size:1048508 read:345 written:76 al-writes:3 bm-writes:0\n"
        "  node-b node-id:0 connection:Connected role:Secondary congested:no\n"
        "    volume:0 replication:Established peer-disk:UpToDate resync-suspended:no\n"
        "        received:0 sent:131844 out-of-sync:0 pending:0 unacked:0\n")
    assert plain.healthy and verbose.healthy
    assert verbose.minor == 100 and plain.minor is None


def test_status_9_two_peers_picks_the_named_peer_else_the_one_with_a_disk():
    # three DRBD 9 nodes: node2 replicates, node3 is a diskless tie-breaker
    text = ("r0 role:Primary\n  disk:UpToDate\n"
            "  node3 role:Secondary\n    peer-disk:Diskless peer-client:yes\n"
            "  node2 role:Secondary\n    replication:SyncSource peer-disk:Inconsistent "
            "done:10.00\n")
    assert _state(text).connection == "SyncSource"  # the replica, not the tie-breaker
    assert _state(text, peer="node3.example.com").peer_disk == "Diskless"


def test_status_coloured_on_a_terminal_reads_the_same():
    coloured = "r0 role:\x1b[1;36mPrimary\x1b[0m\n  disk:\x1b[1;32mUpToDate\x1b[0m\n"
    assert _state(coloured).role == "Primary"


# -- drbdsetup events2 --now ------------------------------------------------------------------

# DRBD 9 (drbd-utils tests/v9/events2-*.test: the objects and their words)
EVENTS_9 = """exists resource name:r0 role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:10102
exists connection name:r0 peer-node-id:1 conn-name:node2 connection:Connected role:Secondary
exists device name:r0 volume:0 minor:3 backing_dev:/dev/vdb disk:UpToDate client:no open:yes quorum:yes
exists peer-device name:r0 peer-node-id:1 conn-name:node2 volume:0 replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no
exists path name:r0 peer-node-id:1 conn-name:node2 local:ipv4:10.0.0.1:7789 peer:ipv4:10.0.0.2:7789 established:yes
exists -
"""  # noqa: E501

# drbd-utils 9 on an 8.4 kernel (user/v84/drbdsetup.c: peer-node-id 0, conn-name "peer")
EVENTS_84 = """exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Primary
exists device name:r0 volume:0 minor:0 disk:Inconsistent
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:0 replication:SyncTarget peer-disk:UpToDate resync-suspended:no
exists -
"""  # noqa: E501


def test_events2_9_healthy_names_the_minor():
    s = state_of(parse_events2(EVENTS_9)["r0"])
    assert s.healthy and s.minor == 3 and (s.role, s.peer_role) == ("Primary", "Secondary")


def test_events2_84_resync_target():
    s = state_of(parse_events2(EVENTS_84)["r0"])
    assert (s.connection, s.disk, s.peer_disk, s.peer_role) == (
        "SyncTarget", "Inconsistent", "UpToDate", "Primary")


def test_events2_change_lines_fold_and_destroy_removes():
    # a running `events2` stream (tests/v9/events2-all-create-change.test): Off, then up
    stream = EVENTS_9.replace("exists", "create") + (
        "change connection name:r0 peer-node-id:1 conn-name:node2 connection:Connecting "
        "role:Unknown\n")
    assert state_of(parse_events2(stream)["r0"]).connection == "WFConnection"
    assert parse_events2(stream + "destroy resource name:r0\n") == {}


def test_events2_of_a_resource_without_device_or_connection():
    only = parse_events2("exists resource name:r0 role:Secondary suspended:no\nexists -\n")
    assert state_of(only["r0"]) is None  # no device: not configured
    alone = parse_events2("exists resource name:r0 role:Secondary\n"
                          "exists device name:r0 volume:0 minor:0 disk:UpToDate\n")
    assert state_of(alone["r0"]).connection == "StandAlone"  # no peer configured


# -- sh-minor, --version, the resource on a node ------------------------------------------------

def test_sh_minor_and_version_outputs():
    # drbdadm sh-minor prints one minor per volume; --version KEY=value lines
    assert shell_minors("1\n") == [1] and shell_minors("7\n8\n") == [7, 8]
    assert shell_minors("") == []
    v = utils_versions("DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\n"
                       "DRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x08040b\n"
                       "DRBD_KERNEL_VERSION=8.4.11\nDRBDADM_VERSION_CODE=0x091600\n"
                       "DRBDADM_VERSION=9.22.0\n")
    assert (v["DRBDADM_VERSION"], v["DRBD_KERNEL_VERSION"]) == ("9.22.0", "8.4.11")


class _Node:
    """Answers the two commands DrbdResource runs."""

    name = "node1"

    def __init__(self, state_out: str, status: int = 0, minor: str = "0\n"):
        self.state_out, self.status, self.minor_out = state_out, status, minor
        self.commands: list[str] = []

    def run(self, command: str, *args, timeout=None, **kw) -> Result:
        self.commands.append(command % args if args else command)
        out = self.minor_out if command.startswith("drbdadm sh-minor") else self.state_out
        return Result(command, self.status, out, "", 0.0)


def test_resource_state_reads_events2_and_keeps_its_minor():
    node = _Node(EVENTS_9)
    drbd = DrbdResource(node, "r0")
    assert drbd.state().healthy and drbd.minor == 3 and drbd.device == "/dev/drbd3"
    assert not any(c.startswith("drbdadm sh-minor") for c in node.commands)


def test_resource_state_reads_drbdadm_status_where_events2_is_missing():
    drbd = DrbdResource(_Node(STATUS_84_HEALTHY), "r0", peer="node2")
    assert drbd.state().healthy and drbd.minor == 0  # the status names none: sh-minor


def test_resource_state_falls_back_to_proc_drbd_by_its_minor():
    # an older drbdsetup without events2 on 8.4: /proc/drbd answers, the line of our minor
    proc = ("version: 8.4.11 (api:1/proto:86-101)\n"
            " 0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n"
            " 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n")
    drbd = DrbdResource(_Node(proc, minor="1\n"), "r1")
    assert drbd.state().healthy and drbd.minor == 1
    declared = DrbdResource(_Node(proc), "r0", minor=0)  # the inventory's minor
    assert declared.state().connection == "WFConnection"


# -- drbdadm dump and DRBD-02 -------------------------------------------------------------------

# drbdadm dump of the suite's own r0.res on Debian 12 (drbd-utils 9.22, 8.4 kernel)
DUMP_84 = """# resource r0 on node1: not ignored, not stacked
# defined at /etc/drbd.d/r0.res:3
resource r0 {
    on node1 {
        device           /dev/drbd0 minor 0;
        disk             /dev/vdb;
        meta-disk        internal;
        address          ipv4 192.168.1.1:7789;
    }
    on node2 {
        device           /dev/drbd0 minor 0;
        disk             /dev/vdb;
        meta-disk        internal;
        address          ipv4 192.168.1.2:7789;
    }
    net {
        protocol           C;
        cram-hmac-alg    sha1;
        shared-secret    "not-a-real-secret";
    }
    disk {
        on-io-error      detach;
        resync-rate      200M;
    }
    startup {
        wfc-timeout      15;
    }
}
"""

# DRBD 9 as drbd.conf(5) writes it: the volume once for all hosts, node ids, a
# connection naming the hosts (port from the connection), protocol in its net section;
# here on a separate replication network
CONF_9 = """resource r0 {
      volume 0 {
              device    "/dev/drbd1";
              disk      "/dev/sda7";
              meta-disk internal;
      }
      on "alice.example.com" {
              node-id   0;
              address   10.1.1.31:7789;
      }
      on "bob.example.com" {
              node-id   1;
              address   10.1.1.32:7789;
      }
      connection {
              host      "alice.example.com"  port 7000;
              host      "bob.example.com"    port 7000;
              net {
                        protocol C;
              }
      }
}
"""


def _nodes(dump: str) -> list[NodeConf]:
    return [NodeConf("node1", "node1", dump, "/dev/drbd0", "/dev/vdb", "192.168.1.1"),
            NodeConf("node2", "node2", dump, "/dev/drbd0", "/dev/vdb", "192.168.1.2")]


EXPECT = Expected("r0", "C")


def test_the_suites_own_84_dump_passes_and_reports_what_it_read():
    verdict = judge_config(EXPECT, _nodes(DUMP_84))
    assert verdict.problems == []
    assert any("node1: on node1: device /dev/drbd0 (minor 0), disk /dev/vdb" in f
               for f in verdict.facts)
    declared = Expected("r0", "C", device="/dev/drbd0", minor=0, port=7789)
    assert judge_config(declared, _nodes(DUMP_84)).problems == []


def test_the_84_manual_page_example_reads_device_minor_and_volume():
    # drbd.conf(5) 8.4: `on alice { volume 0 { device minor 1; disk /dev/sda7; ... } }`
    text = ("resource r0 {\n net { protocol C; }\n"
            " on alice {\n  volume 0 {\n   device minor 1;\n   disk /dev/sda7;\n"
            "   meta-disk internal;\n  }\n  address 10.1.1.31:7789;\n }\n}\n")
    host = resource_conf(text, "r0").host("alice")
    assert (host.volume.device, host.volume.minor, host.volume.disk) == (
        "/dev/drbd1", 1, "/dev/sda7")
    assert str(host.addresses[0]) == "10.1.1.31:7789"


def test_a_drbd9_conf_on_fqdn_hosts_and_a_replication_network_passes():
    nodes = [NodeConf("alice.example.com", "alice.example.com", CONF_9, "/dev/drbd1",
                      "/dev/sda7", "10.1.1.31"),
             NodeConf("bob.example.com", "bob.example.com", CONF_9, "/dev/drbd1",
                      "/dev/sda7", "10.1.1.32")]
    assert judge_config(Expected("r0", "C", device="/dev/drbd1", port=7000), nodes).problems == []
    # the connection's `host ... port 7000` overrides the on-section's 7789
    assert any("7789" in p for p in judge_config(Expected("r0", "C", port=7789), nodes).problems)


def test_drbd9_addresses_in_connection_paths_and_floating_sections():
    paths = ("resource r0 {\n device minor 0; disk /dev/vdb; meta-disk internal;\n"
             " on node1 { node-id 0; }\n on node2 { node-id 1; }\n"
             " connection {\n  path { host node1 address 10.9.0.1:7789;"
             " host node2 address 10.9.0.2:7789; }\n"
             "  path { host node1 address 10.8.0.1:7789; host node2 address 10.8.0.2:7789; }\n"
             " }\n}\n")
    assert [str(a) for a in resource_conf(paths, "r0").host("node1").addresses] == [
        "10.9.0.1:7789", "10.8.0.1:7789"]
    nodes = [replace(n, replication_address=f"10.8.0.{i}") for i, n in
             enumerate(_nodes(paths), start=1)]
    assert judge_config(EXPECT, nodes).problems == []
    floating = ("resource r0 {\n floating ipv4 192.168.1.1:7789 { device /dev/drbd0;"
                " disk /dev/vdb; meta-disk internal; }\n floating ipv4 192.168.1.2:7789 {"
                " device /dev/drbd0; disk /dev/vdb; meta-disk internal; }\n}\n")
    assert judge_config(EXPECT, _nodes(floating)).problems == []


@pytest.mark.parametrize(("change", "expect", "reason"), [
    (("192.168.1.2:7789", "10.0.0.2:7789"), EXPECT,
     "node2: DRBD replicates on 10.0.0.2:7789, the inventory's replication address is "
     "192.168.1.2"),
    (("protocol           C", "protocol           A"), EXPECT,
     "protocol A, the inventory's is C"),
    (("192.168.1.1:7789", "192.168.1.1:7790"), Expected("r0", "C", port=7789),
     "node1: DRBD port 7790, the inventory's is 7789"),
    (("meta-disk        internal", "meta-disk        /dev/vdc"), EXPECT,
     "node1: meta-disk /dev/vdc, the inventory's is internal"),
    (("disk             /dev/vdb", "disk             /dev/sdb1"), EXPECT,
     "node1: backing disk /dev/sdb1, the inventory's is /dev/vdb"),
    (("startup {", "startup {\n        become-primary-on node1;"), EXPECT,
     "become-primary-on node1; }: DRBD's init script promotes the resource at boot"),
    (("protocol           C;", "protocol           C;\n        allow-two-primaries yes;"),
     EXPECT, "allow-two-primaries; }: both nodes may be Primary"),
], ids=["address", "protocol", "port", "meta-disk", "disk", "become-primary-on",
        "two-primaries"])
def test_a_departure_fails_drbd02_with_its_reason(change, expect, reason):
    dump = DUMP_84.replace(*change, 1)
    problems = judge_config(expect, _nodes(dump)).problems
    assert any(reason in p for p in problems), problems


def test_a_device_other_than_the_inventorys_fails_and_one_left_out_is_read():
    dump = DUMP_84.replace("/dev/drbd0 minor 0", "/dev/drbd1 minor 1")
    nodes = [replace(n, device="/dev/drbd1") for n in _nodes(dump)]  # sh-dev agrees
    problems = judge_config(replace(EXPECT, device="/dev/drbd0"), nodes).problems
    assert problems == [f"node{i}: device /dev/drbd1, the inventory's is /dev/drbd0"
                        for i in (1, 2)]
    assert judge_config(replace(EXPECT, minor=0), nodes).problems == [
        f"node{i}: minor 1, the inventory's is 0" for i in (1, 2)]
    assert judge_config(EXPECT, nodes).problems == []


def test_an_external_meta_disk_the_inventory_declares_passes():
    dump = DUMP_84.replace("meta-disk        internal", "meta-disk        /dev/vdc [0]")
    assert judge_config(replace(EXPECT, meta_disk="/dev/vdc"), _nodes(dump)).problems == []


def test_dumps_that_differ_between_the_nodes_fail_but_their_comments_may():
    other = DUMP_84.replace("# resource r0 on node1", "# resource r0 on node2")
    nodes = _nodes(DUMP_84)
    assert judge_config(EXPECT, [nodes[0], replace(nodes[1], dump=other)]).problems == []
    changed = DUMP_84.replace("resync-rate      200M", "resync-rate      40M")
    problems = judge_config(EXPECT, [nodes[0], replace(nodes[1], dump=changed)]).problems
    assert problems == ["drbdadm dump r0 differs between node1 and node2: "
                        "'resync-rate      200M;' / 'resync-rate      40M;'"]


def test_a_differing_shared_secret_is_named_by_its_fingerprint_only():
    other = DUMP_84.replace("not-a-real-secret", "another-secret")
    nodes = _nodes(DUMP_84)
    problems = judge_config(EXPECT, [nodes[0], replace(nodes[1], dump=other)]).problems
    assert len(problems) == 1 and "shared-secret" in problems[0]
    assert "not-a-real-secret" not in problems[0] and "another-secret" not in problems[0]


def test_a_host_section_named_other_than_uname_fails_with_the_hint():
    nodes = [replace(n, uname=f"{n.name}.example.com") for n in _nodes(DUMP_84)]
    problems = judge_config(EXPECT, nodes).problems
    assert any("no `on node1.example.com` section" in p and "drbdadm matches uname -n" in p
               for p in problems), problems


def test_the_config_and_drbdadm_disagreeing_on_the_minor_fails():
    nodes = _nodes(DUMP_84)
    problems = judge_config(EXPECT, [replace(nodes[0], device="/dev/drbd5"), nodes[1]]).problems
    assert problems == ["node1: the config says minor 0, drbdadm sh-dev resolves /dev/drbd5"]


def test_auto_promote_is_reported_not_failed_and_protocol_defaults_to_c():
    dump = DUMP_84.replace("        protocol           C;\n", "").replace(
        "startup {", "options {\n        auto-promote yes;\n    }\n    startup {")
    verdict = judge_config(EXPECT, _nodes(dump))
    assert verdict.problems == []
    assert "options { auto-promote yes; }" in verdict.facts
    assert "protocol C (the default)" in verdict.facts


def test_a_missing_resource_or_a_broken_dump_is_a_problem_not_a_pass():
    assert judge_config(replace(EXPECT, resource="r9"), _nodes(DUMP_84)).problems == [
        "node1: drbdadm dump shows no resource r9", "node2: drbdadm dump shows no resource r9"]
    broken = judge_config(EXPECT, _nodes("resource r0 { on node1 {")).problems
    assert broken[0].startswith("node1: drbdadm dump r0 does not parse")


def test_inventory_declared_values_reach_the_expectation():
    got = expected(DRBD(device="/dev/drbd1", minor=1, port=7000, meta_disk="/dev/vdc"))
    assert got == Expected("r0", "C", "/dev/drbd1", 1, 7000, "/dev/vdc")


@pytest.mark.parametrize("replication", [None, ("10.0.0.1", "10.0.0.2")],
                         ids=["one-network", "replication-network"])
def test_the_r0_res_provisioning_writes_passes_drbd02(replication):
    """The suite's own drbd.res.j2 (8.4 source syntax, read by the same parser) for the
    lab's nodes, and for a site replicating on its own network: what provisioning
    builds is what DRBD-02 accepts."""
    from fixtures.access.inventory import Inventory
    from fixtures.provision.templates import render

    nodes = [{"name": f"node{i}", "address": f"192.168.1.{i}", "ssh": {"key": "/k"}}
             for i in (1, 2)]
    if replication:
        for node, ip in zip(nodes, replication, strict=True):
            node["addresses"] = {"replication": ip}
    inv = Inventory.model_validate({"cluster": "t", "profile": "hardened", "nodes": nodes})
    text = render("drbd.res.j2", profile=inv.profile, nodes=inv.nodes,
                  drbd=inv.drbd.as_built(), secret="abcdef")
    confs = [NodeConf(n.name, n.name, text, "/dev/drbd0", n.disk, n.replication_address)
             for n in inv.nodes]
    verdict = judge_config(expected(inv.drbd), confs)
    assert verdict.problems == []
    assert any(f"address {(replication or ('192.168.1.1',))[0]}:7789" in f
               for f in verdict.facts), verdict.facts
