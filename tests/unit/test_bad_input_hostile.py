"""The second round of hostile input (issue 20): every byte from outside the suite — the
inventory, known_hosts, key files, the environment, the command line, an SSH server that
stalls, past reports — ends in one line naming the source and the field, the exit code
said, and no traceback, leak or stall.

Same style as tests/unit/test_bad_input.py (whose World, base inventory and local SSH
servers on 127.0.0.1 this reuses): each case runs the real command in a subprocess
(``pytest suites/ --inventory X``, ``python -m fixtures.report compare``) in parallel
threads. The lab's argument checks and the lock file's reader run in process: the lab
itself is never started here.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from fixtures.access import lock
from fixtures.report.sample import sample_run
from lab import cli as lab_cli
from tests.unit.local_sshd import LocalSSHD, public_line
from tests.unit.test_bad_input import (
    ROOT,
    USAGE_ERROR,
    World,
    _both_ssh,
    _no_report_written,
    _set,
    _ssh,
    base_inventory,
    run_parallel,
    suite_command,
    suite_env,
)

COMPARE_USAGE = 2


@dataclass
class Hostile:
    id: str
    expect: str  # a part of the one line (PORT, HOSTFP are filled in)
    mutate: Callable[[dict, World], object] | None = None
    edit: Callable[[str], str] | None = None  # the inventory's YAML text, edited
    raw: bytes | None = None
    args: list[str] = field(default_factory=list)
    endpoint: str = "refused"
    rc: int = USAGE_ERROR
    env: dict[str, str] = field(default_factory=dict)
    known: Callable[[World, int], str] | None = None  # known_hosts content (no pin then)
    pinned: bool = True  # keep the inventory's ssh.host_key with `known`
    report: bool = False
    after: Callable[[World, Path], None] | None = None
    # a live endpoint: room for the handshake on a loaded host (the stall case needs it)
    connect_timeout: float = 15.0


def _known_line(world: World, port: int, key: Path, marker: str = "",
                host: str | None = None) -> str:
    host = host or f"[127.0.0.1]:{port}"
    return f"{marker + ' ' if marker else ''}{host} {public_line(key)}\n"


def _bad_type_line(world: World) -> str:
    """An ssh-rsa line whose key is an ed25519 key: a line lying about its type."""
    return f"[127.0.0.1]:1 ssh-rsa {public_line(world.other_host).split()[1]}\n"


def _second_ssh_block(text: str) -> str:
    """node1 gets a second `ssh:` block, without the host key pin."""
    return text.replace("- name: node2", "  ssh:\n    user: root\n- name: node2", 1)


def _aliases(n: int) -> bytes:
    body = "cluster: c\nx: &a [1]\ny: [" + ", ".join(["*a"] * n) + "]\n"
    return body.encode()


def _key_file(content: str) -> Callable[[dict, World], None]:
    def mutate(inv: dict, world: World) -> None:
        path = world.root / f"key-{abs(hash(content))}"
        path.write_text(content)
        path.chmod(0o600)
        for node in inv["nodes"]:
            node["ssh"]["key"] = str(path)
    return mutate


def _truncated_key(inv: dict, world: World) -> None:
    text = world.client.read_text()
    _key_file(text[: len(text) // 2])(inv, world)


def _pub_content_as_key(inv: dict, world: World) -> None:
    _key_file(Path(f"{world.client}.pub").read_text())(inv, world)


def _no_key(inv: dict, world: World) -> None:
    for node in inv["nodes"]:
        node["ssh"].pop("key")


def _nothing_appended(world: World, case_dir: Path) -> None:
    lines = (case_dir / "known_hosts").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("@revoked"), lines


NAN, INF = float("nan"), float("inf")

SUITE_CASES = [
    # -- numbers: finite and bounded where they are declared
    Hostile("connect-timeout-inf", "nodes.0.ssh.connect_timeout: Input should be a finite "
            "number", _both_ssh(connect_timeout=INF)),
    Hostile("connect-timeout-nan", "nodes.0.ssh.connect_timeout: Input should be a finite "
            "number", _both_ssh(connect_timeout=NAN)),
    Hostile("connect-timeout-huge", "nodes.0.ssh.connect_timeout: Input should be less than "
            "or equal to 86400", _both_ssh(connect_timeout=1e10)),
    Hostile("connect-timeout-word", "nodes.0.ssh.connect_timeout", _both_ssh(
        connect_timeout="fast")),
    Hostile("budget-inf", "budgets.failback: Input should be a finite number",
            _set("budgets.failback", INF)),
    Hostile("budget-nan", "budgets.resync: Input should be a finite number",
            _set("budgets.resync", NAN)),
    Hostile("budget-huge", "budgets.node_boot: Input should be less than or equal to 86400",
            _set("budgets.node_boot", 1e12)),
    Hostile("scale-inf", "budgets.scale: Input should be a finite number",
            _set("budgets.scale", INF)),
    Hostile("scale-huge", "budgets.scale: Input should be less than or equal to 100",
            _set("budgets.scale", 1e6)),
    Hostile("fault-timeout-inf", "nodes.0.faults.timeout: Input should be a finite number",
            _set("nodes.0.faults.timeout", INF)),
    Hostile("calibration-nan", "budgets.calibration.measured: Input should be a finite number",
            _set("budgets.calibration.measured", NAN)),
    Hostile("calibration-negative", "budgets.calibration.nodes.node1: Input should be greater "
            "than or equal to 0", _set("budgets.calibration.nodes.node1", -1)),
    Hostile("port-huge-int", "nodes.0.ssh.port", _both_ssh(port=10**30)),
    Hostile("port-fraction", "nodes.0.ssh.port", _both_ssh(port=22.5)),
    Hostile("disposable-word", "disposable", _set("disposable", "maybe")),
    # -- the YAML itself
    Hostile("duplicate-top-key", "line 2: duplicate key 'cluster'",
            raw=b"cluster: a\ncluster: b\n"),
    Hostile("duplicate-ssh-block", "duplicate key 'ssh'", edit=_second_ssh_block),
    Hostile("duplicate-ssh-block-trust-new", "duplicate key 'ssh'", edit=_second_ssh_block,
            args=["--trust-new-host-keys"]),
    Hostile("duplicate-in-flow-mapping", "duplicate key 'port'",
            edit=lambda t: t.replace("  ssh:\n", "  ssh: {port: 1, port: 2}\n  sshx:\n", 1)),
    Hostile("alias-flood", "more than 100 aliases", raw=_aliases(101)),
    Hostile("nested-too-deep", "nested too deep", raw=b"[" * 5000),
    Hostile("python-tag", "unreadable", raw=b"cluster: !!python/object:os.system x\n"),
    Hostile("nodes-mapping", "nodes", _set("nodes", {"a": 1})),
    Hostile("node-not-mapping", "nodes.0", _set("nodes", [1, 2])),
    Hostile("ssh-null", "nodes.0.ssh", _set("nodes.0.ssh", None)),
    Hostile("cluster-10k", "cluster:", _set("cluster", "c" * 10000)),
    Hostile("unknown-key-escape", "\\x1b[2Jx: unknown key", _set("\x1b[2Jx", 1)),
    Hostile("cluster-escape", "cluster: '\\x1b[31mred' is not", _set("cluster", "\x1b[31mred")),
    # -- the inventory file
    Hostile("inventory-dev-zero", "inventory /dev/zero: not a regular file",
            args=["--inventory", "/dev/zero"]),
    Hostile("inventory-huge", "larger than 1048576 bytes",
            raw=b"cluster: c\n" + b"# padding\n" * 120000),
    Hostile("inventory-tilde-nouser", "cannot expand ~nosuchuser: no such user",
            args=["--inventory", "~nosuchuser/inventory.yaml"]),
    Hostile("inventory-path-escape", "inventory /nonexistent/\\x1b[2J.yaml: no such file",
            args=["--inventory", "/nonexistent/\x1b[2J.yaml"]),
    Hostile("inventory-bom-binary", "not UTF-8 text", raw=b"\xfe\xff\x00c\x00l"),
    # -- paths in the inventory
    Hostile("key-tilde-nouser", "nodes.0.ssh.key: ~nosuchuser/id_ed25519: cannot expand "
            "~nosuchuser: no such user", _both_ssh(key="~nosuchuser/id_ed25519")),
    Hostile("known-hosts-tilde-nouser", "nodes.0.ssh.known_hosts: ~nosuchuser/known_hosts: "
            "cannot expand ~nosuchuser", _both_ssh(known_hosts="~nosuchuser/known_hosts")),
    Hostile("key-nul-byte", "is not a usable path (it holds a NUL byte)",
            _both_ssh(key="/tmp/a\0b")),
    # -- key files and the agent
    Hostile("key-empty-file", "node1: cannot read SSH key", _key_file("")),
    Hostile("key-truncated", "node1: cannot read SSH key", _truncated_key),
    Hostile("key-public-content", "is a public key; give the private key file",
            _pub_content_as_key),
    Hostile("key-binary", "node1: cannot read SSH key", _key_file("\x00\x01\x02" * 100)),
    Hostile("agent-socket-missing", "no ssh.key in the inventory and no key in ssh-agent",
            _no_key, env={"SSH_AUTH_SOCK": "/nonexistent/agent.sock"}),
    Hostile("agent-socket-regular-file", "no ssh.key in the inventory and no key in ssh-agent",
            _no_key, env={"SSH_AUTH_SOCK": "/etc/hostname"}),
    Hostile("passphrase-env-non-ascii", "is passphrase-protected and HA_SSH_PASSPHRASE does "
            "not open it", _ssh(lambda w: {"key": str(w.passphrase_key)}),
            env={"HA_SSH_PASSPHRASE": "pässwörd<&\" x"}),
    Hostile("passphrase-env-empty", "is passphrase-protected: add it to ssh-agent",
            _ssh(lambda w: {"key": str(w.passphrase_key)}), env={"HA_SSH_PASSPHRASE": ""}),
    # -- known_hosts read as OpenSSH reads it (no pin: the file decides)
    Hostile("kh-cert-authority-beside-entry", "refused: authentication failed",
            endpoint="refuse-auth", pinned=False, known=lambda w, p: (
                f"@cert-authority *.example.com {public_line(w.other_host)}\n"
                + _known_line(w, p, w.host))),
    Hostile("kh-cert-authority-only", "is unknown: presented HOSTFP", endpoint="refuse-auth",
            pinned=False, known=lambda w, p: _known_line(w, p, w.host, "@cert-authority")),
    Hostile("kh-revoked", "host key of [127.0.0.1]:PORT is REVOKED", endpoint="refuse-auth",
            pinned=False, known=lambda w, p: _known_line(w, p, w.host, "@revoked", "*")),
    Hostile("kh-revoked-beats-pin", "is REVOKED", endpoint="refuse-auth",
            known=lambda w, p: _known_line(w, p, w.host, "@revoked")),
    Hostile("kh-revoked-trust-new", "is REVOKED", endpoint="refuse-auth", pinned=False,
            args=["--trust-new-host-keys"], after=_nothing_appended,
            known=lambda w, p: _known_line(w, p, w.host, "@revoked", "*")),
    Hostile("kh-revoked-other-key", "refused: authentication failed", endpoint="refuse-auth",
            pinned=False, known=lambda w, p: (_known_line(w, p, w.other_host, "@revoked", "*")
                                              + _known_line(w, p, w.host))),
    Hostile("kh-corrupt-unrelated-line", "refused: authentication failed",
            endpoint="refuse-auth", pinned=False,
            known=lambda w, p: "otherhost ssh-ed25519 AAAA!!notbase64\n" + _known_line(
                w, p, w.host)),
    Hostile("kh-corrupt-line-named", "none in KH; verify it and pin it as ssh.host_key, or run "
            "once with --trust-new-host-keys; known_hosts KH: skipped line 1",
            endpoint="refuse-auth", pinned=False, known=lambda w, p: "broken\n"),
    Hostile("kh-wildcard", "refused: authentication failed", endpoint="refuse-auth",
            pinned=False, known=lambda w, p: _known_line(w, p, w.host, host="[127.0.0.?]:*")),
    Hostile("kh-negated", "is unknown", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: _known_line(w, p, w.host, host=f"*,![127.0.0.1]:{p}")),
    Hostile("kh-hashed-garbage", "is unknown", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: _known_line(w, p, w.host, host="|1|!!!|???")),
    Hostile("kh-type-lies", "is unknown", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: _bad_type_line(w)),
    Hostile("kh-unknown-marker", "is unknown", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: _known_line(w, p, w.host, "@trusted")),
    Hostile("kh-binary", "is unknown", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: bytes(range(256)).decode("latin-1")),
    Hostile("kh-crlf", "refused: authentication failed", endpoint="refuse-auth", pinned=False,
            known=lambda w, p: _known_line(w, p, w.host).replace("\n", "\r\n")),
    # -- a server that stalls the login: named within the connect timeout
    Hostile("login-stall", "node1: 127.0.0.1:PORT did not complete the SSH login as root "
            "within 8 s", endpoint="auth-stall", connect_timeout=8),
    # -- a refusal never writes or moves a report
    Hostile("provision-not-disposable", "cluster 'catalogue' is not marked disposable",
            args=["--provision"], report=True, after=_no_report_written),
    Hostile("inventory-provision-not-disposable", "is not marked disposable",
            _set("provision", True), report=True, after=_no_report_written),
    Hostile("no-provision-wins", "Connection refused", _set("provision", True),
            args=["--no-provision"]),
]


class HostileWorld(World):
    """The catalogue's world and a server that stalls every login."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.servers["auth-stall"] = LocalSSHD("auth-stall", self.host).__enter__()
        self.ports["auth-stall"] = self.servers["auth-stall"].port


def run_suite(case: Hostile, world: World) -> tuple[subprocess.CompletedProcess, str, Path]:
    case_dir = world.root / case.id
    case_dir.mkdir()
    port = world.ports[case.endpoint]
    env = suite_env(world, case.env)
    inv_path = case_dir / "inventory.yaml"
    kh = case_dir / "known_hosts"
    kh.write_text(case.known(world, port) if case.known else "")
    if case.raw is not None:
        inv_path.write_bytes(case.raw)
    else:
        inv = copy.deepcopy(base_inventory(world, case_dir, port))
        for node in inv["nodes"]:
            if case.endpoint != "refused":
                node["ssh"]["connect_timeout"] = case.connect_timeout
            if case.known and not case.pinned:
                node["ssh"].pop("host_key")
        if case.mutate:
            case.mutate(inv, world)
        text = yaml.safe_dump(inv, sort_keys=False)
        inv_path.write_text(case.edit(text) if case.edit else text)
    cmd = suite_command(case_dir, inv_path, case.report, case.args)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    return proc, world.fill(case.expect.replace("KH", str(kh)), port), case_dir


@pytest.fixture(scope="module")
def suite_outcomes(tmp_path_factory: pytest.TempPathFactory):
    world = HostileWorld(tmp_path_factory.mktemp("hostile"))
    try:
        yield world, run_parallel(world, SUITE_CASES, run_suite)
    finally:
        world.close()


def one_line(stderr: str, prefix: str) -> str:
    """The single line of ``stderr``: it starts with ``prefix`` and holds no control
    character (no terminal escape reaches the user)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith(prefix), lines[0]
    assert all(c.isprintable() for c in lines[0]), repr(lines[0])
    return lines[0]


@pytest.mark.parametrize("case", SUITE_CASES, ids=[c.id for c in SUITE_CASES])
def test_hostile_suite_input_is_one_line_and_an_exit_code(case: Hostile, suite_outcomes):
    world, results = suite_outcomes
    proc, expect, case_dir = results[case.id]
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both and "INTERNALERROR" not in both, both
    assert proc.returncode == case.rc, both
    line = one_line(proc.stderr, "ha-acceptance: ")
    assert expect in line, line
    assert "compliance report" not in both
    if case.after:
        case.after(world, case_dir)


def test_a_stalled_login_ends_within_the_connect_timeout(tmp_path: Path):
    """In process (a subprocess's start-up on a loaded host would hide the figure): a
    server that never answers the login costs connect_timeout, not paramiko's 30 s."""
    from fixtures.access.inventory import Inventory
    from fixtures.access.node import Node
    from tests.unit.local_sshd import make_key

    client, host = make_key(tmp_path / "client"), make_key(tmp_path / "host")
    with LocalSSHD("auth-stall", host) as sshd:
        settings = {"port": sshd.port, "connect_timeout": 6, "key": str(client),
                    "host_key": public_line(host), "known_hosts": str(tmp_path / "kh")}
        inv = Inventory.model_validate({
            "cluster": "t", "network": {"netmask": 8, "virtual_ip": "127.0.0.3"},
            "nodes": [{"name": "node1", "address": "127.0.0.1", "ssh": settings},
                      {"name": "node2", "address": "127.0.0.2", "ssh": settings}]})
        started = time.monotonic()
        result = Node(inv.nodes[0]).run("true", timeout=30, record=False)
        took = time.monotonic() - started
    assert result.exit_status is None
    assert result.error == (f"node1: 127.0.0.1:{sshd.port} did not complete the SSH login as "
                            "root within 6 s (the server stalls the authentication)")
    assert took < 16, f"took {took:.1f} s (paramiko alone waits 30 s)"


# --- compare: past reports are input too ------------------------------------------------


def _run_dir(root: Path, name: str, started: str) -> Path:
    from fixtures.report.render import write_report

    run = sample_run()
    run.info.cluster = "lab"
    d = root / name
    write_report(run, d)
    doc = json.loads((d / "compliance.json").read_text())
    doc["started"] = started
    (d / "compliance.json").write_text(json.dumps(doc))
    return d


def _edit_json(name: str, fn: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        path = run / name
        doc = json.loads(path.read_text()) if path.exists() else {}
        fn(doc)
        path.write_text(json.dumps(doc))
    return edit


def _change(doc: dict) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        (run / "change.json").write_text(json.dumps(doc, allow_nan=True))
    return edit


def _first_node(doc: dict) -> str:
    return next(iter(doc["nodes"]))


def _files_of(doc: dict) -> dict:
    return doc["nodes"][_first_node(doc)]["files"]


def _control(doc: dict) -> dict:
    return next(c for c in doc["controls"] if c.get("measurements"))


@dataclass
class Past:
    id: str
    expect: str
    edit: Callable[[Path], None]  # applied to the AFTER run


COMPARE_CASES = [
    Past("environment-values-list", "malformed 'environment' (node -> name -> version)",
         _edit_json("compliance.json", lambda d: d.update(environment={"node1": ["x"]}))),
    Past("environment-version-number", "malformed 'environment'",
         _edit_json("compliance.json", lambda d: d.update(environment={"node1": {"drbd": 9}}))),
    Past("counts-list", "malformed 'counts'",
         _edit_json("compliance.json", lambda d: d.update(counts=[1, 2]))),
    Past("figures-list", "malformed 'figures'",
         _edit_json("compliance.json", lambda d: d.update(figures=[1]))),
    Past("figure-unit-number", "unit is not a string",
         _edit_json("compliance.json", lambda d: _control(d)["measurements"][0].update(unit=5))),
    Past("control-title-list", "malformed 'title'",
         _edit_json("compliance.json", lambda d: d["controls"][0].update(title=["x"]))),
    Past("cluster-manager-number", "malformed 'cluster_manager'",
         _edit_json("compliance.json", lambda d: d.update(cluster_manager=3))),
    Past("calibration-string", "malformed 'calibration'",
         _edit_json("compliance.json", lambda d: d.update(calibration="fast"))),
    Past("overhead-ratio-word", "overhead.ratio is not a number: '64%'",
         _edit_json("compliance.json", lambda d: d["overhead"].update(ratio="64%"))),
    Past("config-nodes-list", "config.json: 'nodes' is not a JSON object",
         _edit_json("config.json", lambda d: d.update(nodes=[]))),
    Past("config-files-list", "files is not a JSON object",
         _edit_json("config.json", lambda d: d["nodes"][_first_node(d)].update(files=[]))),
    Past("config-file-text-number", "text is not a string",
         _edit_json("config.json", lambda d: next(iter(_files_of(d).values())).update(
             text=42))),
    Past("config-packages-numbers", "packages is not a JSON object of versions",
         _edit_json("config.json", lambda d: d["nodes"][_first_node(d)].update(
             packages={"drbd": 9}))),
    Past("config-not-json", "config.json: not valid JSON",
         lambda run: (run / "config.json").write_text("{nope")),
    Past("change-outages-word", "'downtime.outages' must be a count",
         _change({"title": "t", "downtime": {"seconds": 3, "outages": "x"}})),
    Past("change-downtime-nan", "'downtime' needs its 'seconds'",
         lambda run: (run / "change.json").write_text(
             '{"title": "t", "downtime": {"seconds": NaN}}')),
    Past("change-downtime-infinity", "'downtime' needs its 'seconds'",
         lambda run: (run / "change.json").write_text(
             '{"title": "t", "downtime": {"seconds": Infinity}}')),
    Past("change-step-nan", "step 1 needs a 'title' and its 'seconds'",
         lambda run: (run / "change.json").write_text(
             '{"title": "t", "steps": [{"title": "a", "seconds": NaN}]}')),
    Past("change-dataset-bool", "'dataset' needs the counts",
         _change({"title": "t", "dataset": {"files": True, "intact": 1, "missing": 0,
                                             "corrupt": 0}})),
    Past("change-dataset-bytes-word", "'dataset.unreadable' and 'dataset.bytes' must be counts",
         _change({"title": "t", "dataset": {"files": 1, "intact": 1, "missing": 0,
                                             "corrupt": 0, "bytes": "lots"}})),
]


@pytest.fixture(scope="module")
def compare_outcomes(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile-compare")
    before = _run_dir(root, "before", "2026-01-01T00:00:00")
    template = _run_dir(root, "template", "2026-01-02T00:00:00")

    def run(case: Past) -> subprocess.CompletedProcess:
        after = root / case.id
        subprocess.run(["cp", "-a", str(template), str(after)], check=True)
        case.edit(after)
        return subprocess.run(
            [sys.executable, "-m", "fixtures.report", "compare", str(before), str(after),
             "--reports-dir", str(root / "none"), "--out", str(root / f"out-{case.id}")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {c.id: pool.submit(run, c) for c in COMPARE_CASES}
        yield root, {cid: f.result() for cid, f in futures.items()}


@pytest.mark.parametrize("case", COMPARE_CASES, ids=[c.id for c in COMPARE_CASES])
def test_a_past_report_of_the_wrong_shape_is_one_line_exit_2(case: Past, compare_outcomes):
    root, results = compare_outcomes
    proc = results[case.id]
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert proc.returncode == COMPARE_USAGE, both
    line = one_line(proc.stderr, "compare: ")
    assert case.expect in line and "could not write" not in line, line
    assert not (root / f"out-{case.id}").exists(), "a refused compare writes nothing"


def test_an_unreadable_run_directory_is_a_read_error(tmp_path: Path, capsys, monkeypatch):
    """As root no mode makes a directory unreadable: the stat's refusal is simulated."""
    from fixtures.report import __main__ as report_cli

    real = Path.is_file

    def denied(self: Path) -> bool:
        if "locked" in self.parts:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_file", denied)
    rc = report_cli.main(["compare", str(tmp_path / "locked"), str(tmp_path / "other")])
    err = capsys.readouterr().err
    assert rc == COMPARE_USAGE
    line = one_line(err, "compare: ")
    assert "cannot read" in line and "Permission denied" in line and "could not write" not in line


def test_escape_sequences_in_a_past_report_do_not_reach_the_terminal(tmp_path: Path):
    before = _run_dir(tmp_path, "before", "2026-01-01T00:00:00")
    after = _run_dir(tmp_path, "after", "2026-01-02T00:00:00")
    (after / "change.json").write_text(json.dumps({"title": "evil \x1b]0;owned\x07\x1b[2J"}))
    proc = subprocess.run([sys.executable, "-m", "fixtures.report", "compare", str(before),
                           str(after), "--reports-dir", str(tmp_path / "none")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "change: evil \\x1b]0;owned\\x07\\x1b[2J" in proc.stdout


# --- the lab's waits: every --timeout finite and bounded ----------------------------------

LAB_CASES = [
    (["up", "--timeout", "nan"], "argument --timeout: 'nan' is not a number of seconds"),
    (["up", "--timeout", "inf"], "argument --timeout: 'inf' is not a number of seconds"),
    (["up", "--timeout=-inf"], "argument --timeout: '-inf' is not a number of seconds"),
    (["up", "--timeout", "1e10"], "argument --timeout: '1e10' is not a number of seconds"),
    (["up", "--timeout", "soon"], "argument --timeout: 'soon' is not a number of seconds"),
    (["up", "--timeout", "0"], "argument --timeout: '0' is not a number of seconds"),
    (["power", "node1", "on", "--wait", "--timeout", "nan"], "argument --timeout: 'nan'"),
    (["power", "node2", "on", "--timeout", "Infinity"], "argument --timeout: 'Infinity'"),
]


@pytest.mark.parametrize(("argv", "expect"), LAB_CASES, ids=[" ".join(a) for a, _ in LAB_CASES])
def test_a_lab_wait_of_no_finite_length_is_refused(argv, expect, capsys, monkeypatch):
    def never(args: object) -> int:
        raise AssertionError("the command must not start")

    monkeypatch.setattr(lab_cli, "COMMANDS", dict.fromkeys(lab_cli.COMMANDS, never))
    with pytest.raises(SystemExit) as exc:
        lab_cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert expect in one_line(err, "lab: error: ")


def test_ssh_that_hangs_is_an_answer_not_a_traceback(monkeypatch):
    """`ssh true` to a booting node on a busy host ran past its limit (issue 20's first
    traceback): the try ends within its limit and says so."""
    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(lab_cli.subprocess, "run", hang)
    node = lab_cli.config.NODES[0]
    assert lab_cli.ssh_try(node, Path("/k"), 15) == (
        False, "`ssh true` had no answer within 15 s")
    assert lab_cli.ssh_answers(node, Path("/k")) is False


def test_wait_ssh_ends_in_one_line_naming_the_node_and_what_was_seen(monkeypatch, tmp_path):
    console = tmp_path / "console.log"
    console.write_text("Booting\nStarting \x1b[1mOpenSSH\x1b[0m...\n\n")
    monkeypatch.setattr(lab_cli.qemu, "running_pid", lambda node: 4242)
    monkeypatch.setattr(lab_cli.qemu, "paths", lambda node: type("P", (), {
        "console": console})())
    monkeypatch.setattr(lab_cli, "ssh_try", lambda node, key, t, cmd=("true",): (
        False, f"`ssh true` had no answer within {t:.0f} s"))
    started = time.monotonic()
    with pytest.raises(lab_cli.LabError) as exc:
        lab_cli.wait_ssh(lab_cli.config.NODES, Path("/k"), 1.5, lambda msg: None)
    message = str(exc.value)
    assert time.monotonic() - started < 5
    assert "\n" not in message and all(c.isprintable() for c in message)
    assert message.startswith(f"{lab_cli.config.NODES[0].name} did not answer SSH within 2 s;"
                              " last seen: `ssh true` had no answer within")
    assert message.endswith("ends: Starting \\x1b[1mOpenSSH\\x1b[0m...")


# --- the cluster lock's file on node 1 ----------------------------------------------------

NOW = 1_800_000_000.0
GOOD = "owner=ops@ctl\nhost=ctl\npid=7\nstarted={started}\ncluster=lab\ntoken=t\n"
LOCK_CASES = [
    ("started-nan", GOOD.format(started="nan"), "garbled lock: started=nan is not a time"),
    ("started-huge", GOOD.format(started="1e20"), "garbled lock: started=1e20 is not a time"),
    ("started-inf", GOOD.format(started="inf"), "started=inf is not a time"),
    ("started-negative", GOOD.format(started="-5"), "started=-5 is not a time"),
    ("started-word", GOOD.format(started="yesterday"), "started=yesterday is not a time"),
    ("pid-huge", GOOD.format(started="100").replace("pid=7", "pid=99999999999"),
     "pid=99999999999 is not a pid"),
    ("pid-negative", GOOD.format(started="100").replace("pid=7", "pid=-1"),
     "pid=-1 is not a pid"),
    ("owner-escapes", GOOD.format(started="100").replace("ops@ctl", "\x1b]0;pwned\x07ops"),
     "\\x1b]0;pwned\\x07ops pid 7"),
    ("binary", "\x00\x01=\x02\n\xff", "unknown pid 0"),
]


@pytest.mark.parametrize(("text", "expect"), [c[1:] for c in LOCK_CASES],
                         ids=[c[0] for c in LOCK_CASES])
def test_a_garbled_lock_is_named_in_one_line_and_judged_by_its_file_age(text, expect):
    holder = lock.parse(text, mtime=NOW - 5 * 3600, now=NOW)
    said = holder.describe()
    assert "\n" not in said and all(c.isprintable() for c in said), repr(said)
    assert expect in said, said
    assert math.isfinite(holder.started) and 0 <= holder.started <= NOW
    # a garbled start time is the file's: 5 h old is older than any run, so stale
    if "started" in expect:
        assert lock.stale_reason(holder, "elsewhere", NOW).startswith("it is 5.0 h old")


def test_the_catalogue_of_this_round_is_large_enough():
    cases = [c.id for c in SUITE_CASES] + [c.id for c in COMPARE_CASES]
    cases += [" ".join(a) for a, _ in LAB_CASES] + [c[0] for c in LOCK_CASES]
    assert len(cases) >= 60 and len(set(cases)) == len(cases)
