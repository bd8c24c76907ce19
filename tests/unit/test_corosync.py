"""Corosync's effective totem as HB-01/HB-02 judge it on Pacemaker: read from the running
corosync (corosync-cmapctl), else from corosync.conf with corosync's documented defaults;
the inventory's values are expectations only where it declares them (SPEC §7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.access.inventory import Corosync, Fencing, Inventory
from fixtures.managers.pacemaker.parsers import (
    Totem,
    crypto_problems,
    parse_cmapctl,
    parse_corosync_conf,
    timing_problems,
    totem_from_cmap,
    totem_from_conf,
)

DATA = Path(__file__).with_name("data")
# `corosync-cmapctl totem. runtime.config.totem.` on corosync 3.1 (Debian 12) of a two-node
# cluster made by `pcs cluster setup`: corosync-cmapctl(8)'s "key (type) = value" lines
CMAP = (DATA / "cmapctl-pcs-two-node.txt").read_text()
# Clusters from Scratch, ap-corosync-conf.rst: pcs writes no token and no consensus
PCS_CONF = (DATA / "corosync-pcs-two-node.conf").read_text()


def test_cmapctl_lines_are_read_with_their_values():
    cmap = parse_cmapctl(CMAP)
    assert cmap["runtime.config.totem.token"] == "3000"
    assert cmap["totem.cluster_uuid"] == "e592f61f916943978bdf7c046a195980"
    assert cmap["runtime.config.totem.knet_compression_model"] == "none"
    # a value may hold spaces; an empty string value is printed as "key (str) = "
    assert parse_cmapctl("totem.cluster_name (str) = my cluster\nx.y (str) = ") == {
        "totem.cluster_name": "my cluster", "x.y": ""}
    assert parse_cmapctl("Failed to initialize the cmap API. Error CS_ERR_LIBRARY") == {}


def test_the_running_totem_is_the_runtime_one():
    totem = totem_from_cmap(parse_cmapctl(CMAP))
    assert totem == Totem(3000, 3600, "aes256", "sha256", "running corosync, corosync-cmapctl")


def test_the_runtime_token_counts_the_token_coefficient():
    """corosync.conf(5): token 3000 + 650 for the third node; totem.token is what the file
    said, runtime.config.totem.token what corosync runs."""
    three = "totem.token (u32) = 3000\nruntime.config.totem.token (u32) = 3650\n"
    totem = totem_from_cmap(parse_cmapctl(three))
    assert (totem.token, totem.consensus) == (3650, 4380)
    # no crypto keys in the map: corosync's default, none
    assert (totem.crypto_cipher, totem.crypto_hash) == ("none", "none")


def test_a_map_without_the_runtime_token_is_no_reading():
    assert totem_from_cmap(parse_cmapctl("totem.token (u32) = 3000")) is None
    assert totem_from_cmap({}) is None


def test_a_pcs_corosync_conf_without_token_gets_corosyncs_defaults():
    totem = totem_from_conf(parse_corosync_conf(PCS_CONF))
    assert (totem.token, totem.consensus) == (3000, 3600)
    assert (totem.crypto_cipher, totem.crypto_hash) == ("aes256", "sha256")
    assert "defaults" in totem.source and "not running" in totem.source


def test_a_third_node_adds_the_token_coefficient_and_consensus_follows():
    three = PCS_CONF.replace("}\n\nquorum", "    node {\n        ring0_addr: pcmk-3\n"
                             "        name: pcmk-3\n        nodeid: 3\n    }\n}\n\nquorum")
    assert totem_from_conf(parse_corosync_conf(three)).token == 3650
    coefficient = three.replace("transport: knet", "transport: knet\n    token: 5000\n"
                                "    token_coefficient: 1000")
    totem = totem_from_conf(parse_corosync_conf(coefficient))
    assert (totem.token, totem.consensus) == (6000, 7200)


def test_a_corosync_conf_with_written_timings_and_no_crypto():
    text = "totem {\n token: 10000\n consensus: 12000\n}\n"
    totem = totem_from_conf(parse_corosync_conf(text))
    assert (totem.token, totem.consensus, totem.crypto_cipher) == (10000, 12000, "none")
    assert totem_from_conf(parse_corosync_conf("")).token == 3000  # no totem section at all


def _totem(token=3000, consensus=3600, cipher="aes256", hash_="sha256") -> Totem:
    return Totem(token, consensus, cipher, hash_, "test")


def test_timings_are_compared_only_where_the_inventory_declares_them():
    assert timing_problems(_totem(), None, None) == []
    assert timing_problems(_totem(), 3000, 3600) == []
    assert timing_problems(_totem(), 10000, None) == [
        "corosync token is 3000 ms, inventory: 10000 ms"]


@pytest.mark.parametrize("consensus", [3000, 2000, 3500])
def test_consensus_below_1_2_token_fails_with_corosyncs_rule(consensus):
    found = timing_problems(_totem(consensus=consensus), None, None)
    assert len(found) == 1 and "is less than 1.2 × token (3000 ms)" in found[0]


@pytest.mark.parametrize(("cipher", "hash_", "expected"), [
    ("none", "none", ["crypto_cipher is none", "crypto_hash is none"]),
    ("aes256", "sha1", ["crypto_hash is sha1, a weak hash"]),
    ("aes256", "md5", ["crypto_hash is md5, a weak hash"]),
    ("3des", "sha256", ["crypto_cipher is 3des, not one of aes256"]),
    ("aes128", "sha512", []),
])
def test_crypto_is_judged_for_strength(cipher, hash_, expected):
    found = crypto_problems(_totem(cipher=cipher, hash_=hash_), None, None)
    assert len(found) == len(expected)
    assert all(want in line for want, line in zip(expected, found, strict=True)), found


def test_declared_crypto_is_compared():
    assert crypto_problems(_totem(), "aes256", "sha256") == []
    assert crypto_problems(_totem(), None, "sha512") == [
        "corosync crypto_hash is sha256, inventory: sha512"]


def test_weak_or_unusual_corosync_values_load_for_the_controls_to_judge():
    """SPEC §7: nothing is refused at load; HB-01/HB-02 fail them with the reason."""
    cs = Corosync(token=5000, consensus=4000, crypto_cipher="none", crypto_hash="md5")
    assert (cs.consensus, cs.crypto_cipher) == (4000, "none")
    assert Corosync().token is None and Corosync().crypto_cipher is None
    with pytest.raises(ValueError):
        Corosync(crypto_cipher="aes256; reboot")  # still no shell metacharacters


def test_the_fencing_method_is_any_agent_and_sbds_settings_load_as_given():
    assert Fencing().method is None and Fencing().sbd
    assert not Fencing(method="fence_ipmilan").sbd
    # an unusual SBD timing loads; the provisioning refuses to write it to a header
    assert Fencing(method="sbd", msgwait=5).msgwait == 5


def test_the_budgets_count_on_declared_timings_or_the_provisioned_ones():
    from fixtures.managers.base import manager_for
    base = Inventory.model_validate({
        "cluster": "c", "cluster_manager": "pacemaker",
        "nodes": [{"name": "a", "address": "192.168.1.1", "preferred_primary": True,
                   "ssh": {}},
                  {"name": "b", "address": "192.168.1.2", "ssh": {}}]})
    # undeclared: the provisioned token = deadtime 10 s, consensus 12 s; SBD msgwait 20 s
    assert manager_for(base).failover_allowance() == 10 + 12 + 15 + 20
    ipmi = base.model_copy(update={"corosync": Corosync(token=3000),
                                   "fencing": Fencing(method="fence_ipmilan")})
    assert manager_for(ipmi).failover_allowance() == 3 + 3.6 + 15
    assert manager_for(ipmi).detection_floor()[0] == 3
