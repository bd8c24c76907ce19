"""Secrets never reach a report: patterns, registered values, the one writer, file modes."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from fixtures.access import secrets
from fixtures.access.evidence import CommandRecord
from fixtures.provision.templates import render
from fixtures.report import output
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

AUTHKEY = "5f1e2d3c4b5a69788796a5b4c3d2e1f0"
DRBD_SECRET = "Xy7-drbd-Secret-9Q"
MARKER = "PLANTED-marker-7d41c9"


@pytest.fixture(autouse=True)
def fresh():
    secrets.clear()
    yield
    secrets.clear()


def test_authkeys_key_becomes_its_fingerprint():
    text = f"auth 1\n1 sha1 {AUTHKEY}\n"
    out = secrets.redact(text)
    assert AUTHKEY not in out
    assert out == f"auth 1\n1 sha1 {secrets.fingerprint(AUTHKEY)}\n"
    # the same key on both nodes gives the same fingerprint: "identical" stays provable
    assert secrets.redact(text) == out


def test_crc_authkeys_has_no_key_and_is_left_alone():
    assert secrets.redact("auth 1\n1 crc\n") == "auth 1\n1 crc\n"


@pytest.mark.parametrize("line", [
    f'\tshared-secret "{DRBD_SECRET}";',  # drbd.res
    f'        shared-secret           "{DRBD_SECRET}";',  # drbdadm dump
    f"shared-secret {DRBD_SECRET};",  # unquoted
    f"shared-secret &#34;{DRBD_SECRET}&#34;;",  # as jinja escapes it in HTML
    f'shared-secret \\"{DRBD_SECRET}\\";',  # inside a JSON string
])
def test_drbd_shared_secret_in_every_form(line: str):
    out = secrets.redact(line)
    assert DRBD_SECRET not in out
    assert secrets.fingerprint(DRBD_SECRET) in out


def test_corosync_inline_key():
    out = secrets.redact("totem {\n  key: c0ffee-c0ffee-c0ffee\n}\n")
    assert "c0ffee-c0ffee-c0ffee" not in out and "sha256:" in out


def test_registered_value_anywhere_and_escaped():
    secrets.register(MARKER)
    for text in (f"x {MARKER} y", f"grep found {MARKER}<br>"):
        assert MARKER not in secrets.redact(text)
    secrets.register('pa"ss<word>&1')
    assert "pa" not in secrets.redact("pa&#34;ss&lt;word&gt;&amp;1").split("sha256")[0]


def test_short_values_are_not_secrets():
    secrets.register("abc")
    secrets.register("")
    secrets.register(None)
    assert secrets.registered() == frozenset()
    assert secrets.redact("abc abc") == "abc abc"


def test_discover_registers_what_a_pattern_found():
    secrets.discover(f"1 sha1 {AUTHKEY}\n")
    # seen later without its pattern (a grep, a diff): still hidden
    assert AUTHKEY not in secrets.redact(f"match: {AUTHKEY}")


def test_already_a_fingerprint_is_kept():
    fp = secrets.fingerprint(AUTHKEY)
    assert secrets.redact(f"1 sha1 {fp}\n") == f"1 sha1 {fp}\n"


def test_template_filter_registers_the_value():
    text = render("authkeys.j2", profile="hardened", secret=AUTHKEY)
    assert AUTHKEY in text  # the node gets the real key
    assert AUTHKEY in secrets.registered()


def test_writer_redacts_and_writes_owner_only(tmp_path: Path):
    secrets.register(MARKER)
    path = output.write_text(tmp_path / "a" / "b" / "f.txt", f"value {MARKER}\n")
    assert MARKER not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no tmp left
    doc = output.write_json(tmp_path / "d.json", {"k": f'shared-secret "{DRBD_SECRET}";'})
    assert DRBD_SECRET not in doc.read_text()
    assert json.loads(doc.read_text())["k"].startswith("shared-secret")


def test_no_secret_in_any_file_of_a_report(tmp_path: Path):
    run = sample_run()
    secrets.register(MARKER)
    now = time.time()
    ev = run.tests[0].evidence
    ev.commands += [
        CommandRecord("node1", "cat /etc/ha.d/authkeys", 0, f"auth 1\n1 sha1 {AUTHKEY}\n", "",
                      now, 0.1),
        CommandRecord("node2", "drbdadm dump r0", 0, f'  shared-secret "{DRBD_SECRET}";\n' * 60,
                      "", now, 0.1),
        CommandRecord("node1", f"echo {MARKER}", 1, MARKER, f"error {MARKER}", now, 0.1),
    ]
    ev.notes.append(f"saw {MARKER}")
    run.tests[0].message = f"failed with {AUTHKEY} in sight"
    run.tests[0].longrepr = f"E   AssertionError: {AUTHKEY}"
    run.info.artefacts["node1"]["authkeys"] = f"auth 1\n1 sha1 {AUTHKEY}\n"
    run.info.configs["node1"]["/etc/drbd.d/r0.res"] = {
        "sha256": "ab" * 32, "secret": False, "missing": False, "error": "",
        "text": f'resource r0 {{ net {{ shared-secret "{DRBD_SECRET}"; }} }}\n'}
    run.info.beyond_article.append(f"marker {MARKER}")
    out = tmp_path / "reports" / "run"
    write_report(run, out)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    for p in files:
        text = p.read_bytes().decode("utf-8", "replace")
        for secret in (AUTHKEY, DRBD_SECRET, MARKER):
            assert secret not in text, f"{secret} in {p.relative_to(out)}"
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    # the fingerprint is shown instead, so "same key on both nodes" is still readable
    html = (out / "compliance.html").read_text()
    assert secrets.fingerprint(AUTHKEY) in html


def test_writer_leaves_an_existing_dir_alone(tmp_path: Path):
    tmp_path.chmod(0o755)
    output.write_text(tmp_path / "trend.html", "x")
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # --out . keeps the cwd open
    assert stat.S_IMODE((tmp_path / "trend.html").stat().st_mode) == 0o600
