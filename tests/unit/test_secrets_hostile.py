"""Secrets that hold `<`, `"`, `&`, spaces and non-ASCII characters never reach a report,
whole or in part, in any of its forms: raw evidence, HTML, JSON (both escapings), JUnit
XML (text and attributes), compare's diff lines and tables (issue 20: `1 sha1
Hunter2<SecretAAA` ended as `sha256:…<SecretAAA`).
"""

from __future__ import annotations

import html
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.access import secrets
from fixtures.access.evidence import CommandRecord
from fixtures.provision.templates import render
from fixtures.report import changes
from fixtures.report.render import write_report
from fixtures.report.sample import sample_run

NASTY = [
    "Hunter2<SecretAAA",
    'quo"ted"Secret-77',
    "amp&ersand&amp;Secret",
    "with spaces inside it",
    "nön-ÅSCII-Sécrét-中文",
    "<script>alert(1)</script>",
    "tab\tand trailing<&>\"'",
]


@pytest.fixture(autouse=True)
def fresh():
    secrets.clear()
    yield
    secrets.clear()


def forms(value: str) -> list[str]:
    """Every way a secret may be written in a report file."""
    element = ET.Element("t", message=value)
    element.text = value
    xml = ET.tostring(element, encoding="unicode")
    return [value, html.escape(value), html.escape(value, quote=False),
            str(markupsafe.escape(value)), json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1], xml]


def contexts(value: str) -> list[tuple[str, bool]]:
    """(text, is markup) of the secret in each place a report shows it."""
    line = f"1 sha1 {value}"
    element = ET.Element("failure", message=f"auth {value}")
    element.text = f"auth 1\n{line}\n"
    return [
        (f"auth 1\n{line}\n", False),  # evidence as read
        (f"--- before\n+++ after\n@@ -1 +1 @@\n-1 sha1 old-key-value\n+{line}\n", False),
        (f"| node1 | {line} |\n", False),  # a text table
        (f"-  key: {value}\n+  key: other-value\n", False),  # corosync key in a diff
        (f"<pre>auth 1\n{html.escape(line)}\n</pre>", True),
        (f"<td>{markupsafe.escape(line)}</td>", True),
        (ET.tostring(element, encoding="unicode"), True),  # JUnit
        (json.dumps({"stdout": f"auth 1\n{line}\n"}), False),
        (json.dumps({"stdout": f"auth 1\n{line}\n"}, ensure_ascii=False), False),
    ]


def leaked(value: str, text: str) -> list[str]:
    """The forms of ``value`` (and of its part after a `<`, `&` or space) in ``text``."""
    parts = [value] + [value.split(sep, 1)[1] for sep in "<& " if sep in value
                       and len(value.split(sep, 1)[1]) >= 6]
    return [f for p in parts for f in forms(p) if f and f in text]


@pytest.mark.parametrize("value", NASTY)
def test_a_registered_secret_is_redacted_whole_in_every_context(value: str):
    secrets.register(value)
    for text, markup in contexts(value):
        out = secrets.redact(text, markup=markup)
        assert not leaked(value, out), (text, out)
        assert secrets.fingerprint(value) in out, (text, out)


@pytest.mark.parametrize("value", [v for v in NASTY if not v.startswith(("tab", "<"))])
def test_a_secret_found_by_its_pattern_is_redacted_whole(value: str):
    """Not registered: discovered in raw evidence, as the report does before writing."""
    secrets.discover(f"auth 1\n1 sha1 {value}\n")
    assert value in secrets.registered()
    for text, markup in contexts(value):
        out = secrets.redact(text, markup=markup)
        assert not leaked(value, out), (text, out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>"&\' éÅ中\\;:=#-+|azAZ09')), min_size=8,
               max_size=24).map(str.strip).filter(lambda v: len(v) >= 8))
def test_generated_secrets_never_leak(value: str):
    secrets.clear()
    secrets.register(value)
    for text, markup in contexts(value):
        out = secrets.redact(text, markup=markup)
        assert value not in out and html.escape(value) not in out, (text, out)


def test_no_part_of_a_nasty_secret_in_any_report_file(tmp_path: Path):
    """A whole report (evidence, HTML, JSON, JUnit, changes since the previous run) of
    a run whose authkeys and DRBD secrets are the nasty ones, written by the template
    filter as provisioning does, then read back from the nodes."""
    authkey, drbd = NASTY[0], NASTY[4]
    rendered = render("authkeys.j2", profile="hardened", secret=authkey)
    previous_dir = tmp_path / "reports" / "previous"
    write_report(sample_run(), previous_dir)
    previous = json.loads((previous_dir / "compliance.json").read_text())
    previous["_path"] = str(previous_dir / "compliance.json")
    cfg = json.loads((previous_dir / "config.json").read_text())
    node = next(iter(cfg["nodes"]))
    cfg["nodes"][node]["files"]["/etc/corosync/corosync.conf"] = {
        "sha256": "00" * 32, "secret": False, "missing": False, "error": "",
        "text": "totem {\n  key: old-inline-key\n}\n"}
    (previous_dir / "config.json").write_text(json.dumps(cfg))

    run = sample_run()
    now = time.time()
    run.tests[0].evidence.commands += [
        CommandRecord(node, "cat /etc/ha.d/authkeys", 0, rendered, "", now, 0.1),
        CommandRecord(node, "drbdadm dump", 0, f'  shared-secret "{drbd}";\n', "", now, 0.1),
        CommandRecord(node, "grep -r sha1 /etc/ha.d", 0, f"/etc/ha.d/authkeys:1 sha1 "
                      f"{authkey}\n", "", now, 0.1),
    ]
    run.tests[0].message = f"authkeys differ: {authkey} vs {drbd}"
    run.tests[0].longrepr = f'E   AssertionError: "{authkey}" != "{drbd}"'
    run.info.configs[node]["/etc/corosync/corosync.conf"] = {
        "sha256": "11" * 32, "secret": False, "missing": False, "error": "",
        "text": f"totem {{\n  key: {NASTY[3]}\n}}\n"}
    run.info.artefacts[node]["authkeys"] = rendered
    out = tmp_path / "reports" / "run"
    write_report(run, out, past=[previous])
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / "changes-since-previous.html").is_file() and (out / "junit.xml").is_file()
    for p in files:
        text = p.read_text(encoding="utf-8", errors="replace")
        for value in (authkey, drbd, NASTY[3]):
            assert not leaked(value, text), f"{leaked(value, text)} in {p.relative_to(out)}"
    compare_json = json.loads((out / "changes-since-previous.json").read_text())
    diffs = "\n".join(f["diff"] for f in compare_json["files"])
    assert "key: sha256:" in diffs and NASTY[3] not in diffs
    assert changes.CONFIG_FILE in {p.name for p in files}
