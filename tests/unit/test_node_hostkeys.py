"""Node access against a throw-away SSH server on 127.0.0.1: host keys verified on every
connection (pin, known_hosts plain or hashed, trust on first contact), keys from the
ssh-agent and passphrase-protected keys, Node.stream held to the same check, and a session
slower than its limit."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import paramiko
import pytest

from fixtures.access.inventory import Inventory
from fixtures.access.node import CommandTimeout, HostKeyError, Node, NodeError, fingerprint
from tests.unit.local_sshd import LocalSSHD, make_key, public_line


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    return {"client": make_key(d / "client"), "host": make_key(d / "host"),
            "other": make_key(d / "other"), "locked": make_key(d / "locked", "s3cret")}


@pytest.fixture(scope="module")
def sshd(keys):
    with LocalSSHD("accept", keys["host"]) as server:
        yield server


def node(port: int, tmp_path: Path, trust_new: bool = False, **ssh: object) -> Node:
    settings = {"port": port, "connect_timeout": 2, "known_hosts": str(tmp_path / "kh"), **ssh}
    inv = Inventory.model_validate({
        "cluster": "t", "network": {"netmask": 8, "virtual_ip": "127.0.0.3"},
        "nodes": [{"name": "node1", "address": "127.0.0.1", "ssh": settings},
                  {"name": "node2", "address": "127.0.0.2", "ssh": settings}]})
    return Node(inv.nodes[0], default_timeout=10, trust_new_host_keys=trust_new)


def fp(path: Path) -> str:
    return paramiko.PKey.from_path(str(path)).fingerprint


def test_fingerprint_is_openssh_s(keys):
    out = subprocess.run(["ssh-keygen", "-lf", f"{keys['host']}.pub"], capture_output=True,
                         text=True, check=True).stdout.split()[1]
    assert fingerprint(public_line(keys["host"])) == out == fp(keys["host"])


def test_pinned_key_line_and_fingerprint_connect(sshd, keys, tmp_path):
    for pin in (public_line(keys["host"]), fp(keys["host"])):
        n = node(sshd.port, tmp_path, key=str(keys["client"]), host_key=pin)
        assert n.run("true", timeout=5, record=False).ok
        assert n.host_key_note == f"{fp(keys['host'])} (pinned)"
        n.disconnect()


def test_a_different_key_is_refused_before_login(sshd, keys, tmp_path):
    n = node(sshd.port, tmp_path, key=str(keys["client"]), host_key=public_line(keys["other"]))
    r = n.run("true", timeout=5, record=False)
    assert r.exit_status is None and "does not match the inventory's ssh.host_key" in r.error
    assert fp(keys["host"]) in r.error and fp(keys["other"]) in r.error
    with pytest.raises(HostKeyError):
        n.stream("true", lambda t, line: None)


@pytest.mark.parametrize("hashed", [False, True])
def test_known_hosts_plain_and_hashed(sshd, keys, tmp_path, hashed):
    host = f"[127.0.0.1]:{sshd.port}"
    entry = paramiko.HostKeys.hash_host(host) if hashed else host
    (tmp_path / "kh").write_text(f"{entry} {public_line(keys['host'])}\n")
    n = node(sshd.port, tmp_path, key=str(keys["client"]))
    assert n.run("true", timeout=5, record=False).ok
    assert n.host_key_note == f"{fp(keys['host'])} (known_hosts {tmp_path / 'kh'})"


def test_trust_on_first_contact_only(sshd, keys, tmp_path):
    kh = tmp_path / "sub" / "known_hosts"
    refused = node(sshd.port, tmp_path, key=str(keys["client"]), known_hosts=str(kh))
    assert "is unknown" in refused.run("true", timeout=5, record=False).error
    n = node(sshd.port, tmp_path, trust_new=True, key=str(keys["client"]), known_hosts=str(kh))
    assert n.run("true", timeout=5, record=False).ok
    assert n.host_key_note.endswith("(trusted on first contact)")
    assert kh.read_text() == f"[127.0.0.1]:{sshd.port} {public_line(keys['host'])}\n"
    assert oct(kh.stat().st_mode & 0o777) == "0o600"
    # the next run finds it on record
    again = node(sshd.port, tmp_path, key=str(keys["client"]), known_hosts=str(kh))
    assert again.run("true", timeout=5, record=False).ok
    assert "known_hosts" in again.host_key_note
    # a changed key is refused even when trusting new ones, and known_hosts is left alone
    kh.write_text(f"[127.0.0.1]:{sshd.port} {public_line(keys['other'])}\n")
    changed = node(sshd.port, tmp_path, trust_new=True, key=str(keys["client"]),
                   known_hosts=str(kh))
    assert "CHANGED" in changed.run("true", timeout=5, record=False).error
    assert public_line(keys["host"]) not in kh.read_text()


def test_stream_verifies_the_host_key_too(sshd, keys, tmp_path):
    n = node(sshd.port, tmp_path, key=str(keys["client"]), host_key=public_line(keys["host"]))
    stream = n.stream("true", lambda t, line: None, max_seconds=5)
    assert stream.ended.wait(5)
    stream.close()


@pytest.fixture
def agent(tmp_path, monkeypatch):
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    yield sock
    proc.terminate()
    proc.wait(timeout=10)


def _add(key: Path) -> None:
    subprocess.run(["ssh-add", "-q", str(key)], check=True, timeout=10,
                   env={**os.environ}, stdin=subprocess.DEVNULL, capture_output=True)


def test_agent_keys_when_no_key_is_given(sshd, keys, tmp_path, agent):
    n = node(sshd.port, tmp_path, host_key=public_line(keys["host"]))
    assert "no key in ssh-agent (the agent holds no key)" in n.run(
        "true", timeout=5, record=False).error
    _add(keys["client"])
    assert n.run("true", timeout=5, record=False).ok


def test_passphrase_key_through_the_agent_that_holds_it(sshd, keys, tmp_path, agent,
                                                        monkeypatch):
    locked = node(sshd.port, tmp_path, key=str(keys["locked"]),
                  host_key=public_line(keys["host"]))
    err = locked.run("true", timeout=5, record=False).error
    assert err == (f"node1: SSH key {keys['locked']} is passphrase-protected: add it to "
                   f"ssh-agent (ssh-add {keys['locked']})")
    # the agent holds the same key (added unencrypted from a copy): used, without a prompt
    plain = tmp_path / "plain"
    plain.write_bytes(keys["locked"].read_bytes())
    plain.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "s3cret", "-N", "", "-f", str(plain)],
                   check=True, capture_output=True, timeout=10)
    _add(plain)
    assert locked.run("true", timeout=5, record=False).ok


def test_passphrase_from_the_environment(sshd, keys, tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("HA_SSH_PASSPHRASE", "s3cret")
    n = node(sshd.port, tmp_path, key=str(keys["locked"]), host_key=public_line(keys["host"]))
    assert n.run("true", timeout=5, record=False).ok


def test_unreachable_is_a_node_error_line(keys, tmp_path):
    n = node(1, tmp_path, key=str(keys["client"]))
    with pytest.raises(NodeError, match=r"^node1: unreachable at 127.0.0.1:1: "):
        n.run("true", timeout=5, check=True, record=False)


def test_a_session_slower_than_the_limit_is_a_timeout_not_a_lost_node(keys, tmp_path):
    # a loaded node can take longer than a short limit just to open the session (CI saw
    # 3 s): the limit ran out, and the result says so
    with LocalSSHD("slow-session", keys["host"]) as slow:
        n = node(slow.port, tmp_path, key=str(keys["client"]), host_key=public_line(keys["host"]))
        n.transport(timeout=5)
        start = time.monotonic()
        r = n.run("true", timeout=1, record=False)
        took = time.monotonic() - start
        assert r.exit_status is None and "timed out after 1s" in r.error, r.error
        assert took < 2.5
        with pytest.raises(CommandTimeout):
            n.run("true", timeout=1, check=True, record=False)
        n.disconnect()


def test_become_sudo_runs_every_command_through_sudo_n(sshd, keys, tmp_path):
    n = node(sshd.port, tmp_path, trust_new=True, key=str(keys["client"]), user="admin",
             become="sudo")
    sshd.commands.clear()
    assert n.run("cat %s", "/etc/ha.d/ha.cf", timeout=5, record=False).ok
    n.disconnect()
    # the login checked sudo once, then the command ran as root under its limit
    assert sshd.commands == [b"sudo -n -- id -u",
                             b"sudo -n -- timeout -k 2 5 sh -c 'cat /etc/ha.d/ha.cf'"]


def test_become_sudo_that_wants_a_password_is_one_line(keys, tmp_path):
    with LocalSSHD("sudo-password", keys["host"]) as server:
        n = node(server.port, tmp_path, trust_new=True, key=str(keys["client"]),
                 user="admin", become="sudo")
        with pytest.raises(NodeError) as err:
            n.run("true", timeout=5, record=False, check=True)
    message = str(err.value)
    assert "\n" not in message
    assert message == ("node1: ssh.become sudo: `sudo -n` as admin does not give root "
                       "(sudo: a password is required); allow it without a password "
                       "(NOPASSWD in sudoers)")
    # nothing but the check ran on the node
    assert server.commands == [b"sudo -n -- id -u"]


# known_hosts variants from sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT" and its EXAMPLES (the
# man page's keys are elided there: real keys stand in for them)
def test_known_hosts_read_as_the_man_page_writes_it(keys):
    from fixtures.access.node import read_known_hosts

    host, other = public_line(keys["host"]), public_line(keys["other"])
    hashed = paramiko.HostKeys.hash_host("cvs.example.net")
    text = "\n".join([
        "# Comments allowed at start of line",
        "closenet,closenet.example.net,192.0.2.53 1024 37 159...93 closenet.example.net",
        f"cvs.example.net,192.0.2.10 {host}",
        "# A hashed hostname",
        f"{hashed} {host}",
        "# A revoked key",
        f"@revoked * {other}",
        "# A CA key, accepted for any host in *.mydomain.com or *.mydomain.org",
        f"@cert-authority *.mydomain.org,*.mydomain.com {other}",
        f"[cvs.example.net]:2222 {other} a comment with spaces",
    ])
    found, skipped = read_known_hosts(text, "cvs.example.net")
    assert [(k.key_type, k.revoked) for k in found] == [
        ("ssh-ed25519", False), ("ssh-ed25519", False), ("ssh-ed25519", True)]
    assert skipped == ["line 2: unreadable host name or key"]  # SSH1's bits/exponent form
    on_port, _ = read_known_hosts(text, "[cvs.example.net]:2222")
    assert [k.revoked for k in on_port] == [True, False]
    ca_only, _ = read_known_hosts(text, "www.mydomain.org")
    assert [k.revoked for k in ca_only] == [True]  # the CA line is no host key


@pytest.mark.parametrize(("patterns", "host", "named"), [
    ("*.example.net", "cvs.example.net", True),
    ("CVS.Example.NET", "cvs.example.net", True),  # no case, as ssh compares host names
    ("192.0.2.?", "192.0.2.10", False),  # ? is one character
    ("*,!192.0.2.10", "192.0.2.10", False),  # a negated match wins
    ("[192.0.2.10]:*", "[192.0.2.10]:2222", True),  # brackets are literal
    ("192.0.2.10", "[192.0.2.10]:2222", False),  # a port is part of the name
])
def test_host_patterns(patterns, host, named, keys):
    from fixtures.access.node import read_known_hosts

    found, skipped = read_known_hosts(f"{patterns} {public_line(keys['host'])}\n", host)
    assert bool(found) is named and skipped == []
