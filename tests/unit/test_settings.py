"""The report's settings read from the cluster (fixtures/readings/settings.py): the article's
values beside what a cluster runs, on the project's own files and on a cluster built by
the article's text (lab/builds/article-text), never a secret."""

from __future__ import annotations

from types import SimpleNamespace

from fixtures.provision.templates import render
from fixtures.readings.settings import (
    DRBD_ARTICLE,
    HEARTBEAT_ARTICLE,
    NONE,
    Setting,
    _collect,
    drbd_settings,
    heartbeat_settings,
)
from tests.unit.build_texts import heredoc
from tests.unit.test_templates import _inventory, _vars


def _beyond(read: dict[str, str], article: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in read.items() if v != article.get(k, NONE)}


def test_the_article_text_ha_cf_departs_only_where_the_build_hardened_it():
    read = heartbeat_settings(heredoc("article-text", "60-both-heartbeat.sh", "HACF"),
                              "auth 1\n1 sha1 0123456789abcdef\n")
    assert read["keepalive"] == "2s" and read["auto_failback"] == "on"
    assert _beyond(read, HEARTBEAT_ARTICLE) == {
        "heartbeat paths": "bcast eth0, serial /dev/ttyS1", "ping nodes": "192.168.1.254",
        "ipfail": "respawned", "authkeys method": "sha1"}


def test_the_projects_hardened_heartbeat_names_its_answers():
    inv = _inventory("hardened")
    read = heartbeat_settings(render("ha.cf.j2", **_vars(inv, 0)), "auth 1\n1 sha1 s3cr3t\n")
    assert read["heartbeat paths"].startswith("ucast eth0 192.168.1.2")
    assert read["ipfail"] == "respawned" and read["authkeys method"] == "sha1"


def test_drbd_settings_from_the_article_text_resource_never_show_a_secret():
    res = heredoc("article-text", "20-both-drbd.sh", "RES").replace(
        "\tnet {\n", '\tnet {\n\t\tcram-hmac-alg sha1;\n\t\tshared-secret "Hunter2<Secret";\n')
    read = drbd_settings(res, "user")
    assert read["protocol"] == "C" and read["wfc-timeout"] == "240"
    assert read["on-io-error"] == "detach" and read["after-sb-1pri"] == "discard-secondary"
    assert read["shared secret"] == "set" and read["cram-hmac-alg"] == "sha1"
    assert "Hunter2" not in repr(read)
    assert _beyond(read, DRBD_ARTICLE)["on-io-error"] == "detach"


def test_an_unreadable_resource_is_said_so():
    assert drbd_settings("", "user") == {"configuration": "not readable"}


def test_settings_differing_between_nodes_name_each_node_and_the_article_always_shows():
    nodes = [SimpleNamespace(name="n1"), SimpleNamespace(name="n2")]
    values = {"n1": {"deadtime": "10s"}, "n2": {"deadtime": "30s"}}
    found = _collect(nodes, lambda n: values[n.name], "Heartbeat", "ha.cf",
                     {"deadtime": "10s", "keepalive": "2s"})
    assert found == [
        Setting("Heartbeat", "deadtime", "n1: 10s; n2: 30s", "10s", "ha.cf"),
        Setting("Heartbeat", "keepalive", NONE, "2s", "ha.cf")]
    assert all(s.beyond_article for s in found)
    assert found[0].as_dict()["beyond_article"] is True
