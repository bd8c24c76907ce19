"""The bad-input catalogue: every way an admin can hand the suite a wrong inventory, key, SSH
endpoint or argument ends in one line naming the problem and a non-zero exit, never a
traceback, and before anything else the run prints of its own.

Each case runs the real command as a subprocess (``pytest suites/ --inventory X --no-report``
or ``python -m vagrant.inventory ...``). SSH endpoints are throw-away servers on 127.0.0.1
(tests/unit/local_sshd.py: paramiko's server API, no mock of the client). The cases run in
parallel threads to keep the file fast.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest
import yaml

from tests.unit.local_sshd import LocalSSHD, make_key, public_line

ROOT = Path(__file__).resolve().parents[2]
USAGE_ERROR = 4


@dataclass
class Case:
    id: str
    expect: str  # a part of the one line
    # turns the base inventory dict into the case's; gets the World for keys and ports
    mutate: Callable[[dict, World], object] | None = None
    args: list[str] = field(default_factory=list)  # extra CLI arguments
    raw: bytes | None = None  # inventory file content as is
    endpoint: str = "refused"  # which local endpoint node1 is
    rc: int = USAGE_ERROR
    command: str = "suite"  # or "vagrant"
    env: dict[str, str] = field(default_factory=dict)
    after: Callable[[World, Path], None] | None = None  # more checks on the case's files
    report: bool = False  # run without --no-report: still no report, no banner


class World:
    """Keys, known_hosts contents and the local SSH endpoints every case can use."""

    def __init__(self, root: Path):
        self.root = root
        keys = root / "keys"
        keys.mkdir()
        self.client = make_key(keys / "client")
        self.host = make_key(keys / "host")
        self.other_host = make_key(keys / "other_host")
        self.passphrase_key = make_key(keys / "locked", passphrase="s3cret")
        self.not_a_key = keys / "not_a_key"
        self.not_a_key.write_text("this is not a key\n")
        self.servers = {mode: LocalSSHD(mode, self.host).__enter__() for mode in
                        ("refuse-auth", "silent", "banner-hang", "garbage", "close")}
        self.ports = {mode: s.port for mode, s in self.servers.items()}
        with socket.create_server(("127.0.0.1", 0)) as s:  # nothing listens there afterwards
            self.ports["refused"] = s.getsockname()[1]

    def close(self) -> None:
        for server in self.servers.values():
            server.close()

    def host_line(self, path: Path) -> str:
        return public_line(path)

    def fingerprint(self, path: Path) -> str:
        return paramiko.PKey.from_path(str(path)).fingerprint

    def fill(self, expect: str, port: int) -> str:
        """A case's expected words with PORT, HOSTFP and OTHERFP filled in."""
        return (expect.replace("PORT", str(port)).replace("HOSTFP", self.fingerprint(self.host))
                .replace("OTHERFP", self.fingerprint(self.other_host)))

    def known_hosts(self, port: int, key: Path, hashed: bool = False) -> str:
        host = f"[127.0.0.1]:{port}"
        if hashed:
            host = paramiko.HostKeys.hash_host(host)
        return f"{host} {public_line(key)}\n"


def base_inventory(world: World, case_dir: Path, port: int) -> dict:
    ssh = {"key": str(world.client), "port": port, "connect_timeout": 1,
           "known_hosts": str(case_dir / "known_hosts"),
           "host_key": world.host_line(world.host)}
    return {
        "cluster": "catalogue",
        "nodes": [
            {"name": "node1", "address": "127.0.0.1", "ssh": dict(ssh)},
            {"name": "node2", "address": "127.0.0.2", "ssh": dict(ssh)},
        ],
        "network": {"netmask": 8, "virtual_ip": "127.0.0.3"},
    }


def _set(path: str, value: object) -> Callable[[dict, World], None]:
    """A mutation setting dotted ``path`` (``nodes.0.ssh.port``) to ``value``."""
    def mutate(inv: dict, world: World) -> None:
        *parents, last = path.split(".")
        here = inv
        for p in parents:
            here = here[int(p)] if p.isdigit() else here.setdefault(p, {})
        here[last] = value
    return mutate


def _both_ssh(**values: object) -> Callable[[dict, World], None]:
    def mutate(inv: dict, world: World) -> None:
        for node in inv["nodes"]:
            node["ssh"].update(values)
    return mutate


def _ssh(fn: Callable[[World], dict]) -> Callable[[dict, World], None]:
    def mutate(inv: dict, world: World) -> None:
        for node in inv["nodes"]:
            node["ssh"].update(fn(world))
    return mutate


def _unpinned(known: Callable[[World, int], str] | None = None
              ) -> Callable[[dict, World], None]:
    """No pin: the host key is checked against the case's known_hosts (``known`` writes it)."""
    def mutate(inv: dict, world: World) -> None:
        for node in inv["nodes"]:
            node["ssh"].pop("host_key")
        if known is not None:
            port = inv["nodes"][0]["ssh"]["port"]
            Path(inv["nodes"][0]["ssh"]["known_hosts"]).write_text(known(world, port))
    return mutate


def _unpinned_known_hosts_dir(inv: dict, world: World) -> None:
    for node in inv["nodes"]:
        node["ssh"].pop("host_key")
        node["ssh"]["known_hosts"] = str(world.root)  # a directory


def _no_report_written(world: World, case_dir: Path) -> None:
    reports = case_dir / "reports"
    assert not reports.exists() or not any(reports.iterdir()), list(reports.iterdir())


def _gained_entry(world: World, case_dir: Path) -> None:
    text = (case_dir / "known_hosts").read_text()
    assert public_line(world.host) in text, "a trusted first contact is written to known_hosts"


def _unchanged_known_hosts(world: World, case_dir: Path) -> None:
    assert public_line(world.host) not in (case_dir / "known_hosts").read_text()


INJECTION = "RaidOverIP; touch /tmp/ha-injected"

CASES = [
    # -- the inventory file itself
    Case("missing-file", "no such file", args=["--inventory", "/nonexistent/inv.yaml"]),
    Case("directory", "is a directory", args=["--inventory", "/tmp"]),
    Case("not-utf8", "not UTF-8 text (byte 0xff", raw=b"cluster: caf\xff\n"),
    Case("yaml-syntax", "unreadable", raw=b"cluster: [unclosed\n"),
    Case("top-level-list", "expected a mapping", raw=b"- just\n- a list\n"),
    Case("empty", "expected a mapping", raw=b""),
    Case("unknown-key", "colour: unknown key", _set("colour", "blue")),
    Case("missing-cluster", "cluster: missing key", lambda inv, w: inv.pop("cluster")),
    Case("one-node", "nodes", lambda inv, w: inv["nodes"].pop()),
    Case("bad-address", "nodes.0.address", _set("nodes.0.address", "not-an-ip")),
    Case("same-names", "both nodes are named 'node1'", _set("nodes.1.name", "node1")),
    Case("same-address", "both nodes have address 127.0.0.1",
         _set("nodes.1.address", "127.0.0.1")),
    Case("profile", "profile", _set("profile", "cowboy")),
    # -- numbers out of range
    Case("connect-timeout-negative", "nodes.0.ssh.connect_timeout: Input should be greater "
         "than 0", _both_ssh(connect_timeout=-1)),
    Case("connect-timeout-zero", "nodes.0.ssh.connect_timeout", _both_ssh(connect_timeout=0)),
    Case("ssh-port-zero", "nodes.0.ssh.port", _both_ssh(port=0)),
    Case("ssh-port-high", "nodes.0.ssh.port", _both_ssh(port=70000)),
    Case("drbd-port", "drbd.port", _set("drbd.port", 0)),
    Case("udpport", "heartbeat.udpport", _set("heartbeat.udpport", 65536)),
    Case("console-port", "hypervisor.console_port", _set("hypervisor.console_port", -1)),
    Case("budget-negative", "budgets.takeover_after_stop: Input should be greater than 0",
         _set("budgets.takeover_after_stop", -5)),
    Case("budget-zero", "budgets.command", _set("budgets.command", 0)),
    Case("budget-scale", "budgets.scale", _set("budgets.scale", 0.5)),
    Case("fault-timeout", "nodes.0.faults.timeout", _set("nodes.0.faults.timeout", 0)),
    # -- heartbeat's own timing rules
    Case("deadtime-negative", "heartbeat.deadtime", _set("heartbeat.deadtime", -1)),
    Case("deadtime-huge", "heartbeat.deadtime: Input should be less than or equal to 86400",
         _set("heartbeat.deadtime", 10**30)),
    Case("token-huge", "corosync.token", _set("corosync.token", 10**12)),
    Case("keepalive-zero", "heartbeat.keepalive", _set("heartbeat.keepalive", 0)),
    # -- addresses
    Case("vip-is-a-node", "network.virtual_ip: 127.0.0.2 is node2's own address",
         _set("network.virtual_ip", "127.0.0.2")),
    Case("vip-broadcast", "network.virtual_ip: 127.255.255.255 is the network or broadcast",
         _set("network.virtual_ip", "127.255.255.255")),
    Case("replication-address", "nodes.0.addresses.replication",
         _set("nodes.0.addresses.replication", "10.0.0.300")),
    Case("heartbeat-address", "nodes.1.addresses.heartbeat.0",
         _set("nodes.1.addresses.heartbeat", ["eth1"])),
    Case("vip-is-a-replication-address", "network.virtual_ip: 127.0.0.3 is node1's own address",
         _set("nodes.0.addresses.replication", "127.0.0.3")),
    Case("name-label-dash", "nodes.0.name: '-ha1.example.com' is not a valid host name",
         _set("nodes.0.name", "-ha1.example.com")),
    Case("name-empty-label", "nodes.0.name: 'ha1..example.com' is not a valid host name",
         _set("nodes.0.name", "ha1..example.com")),
    Case("become-su", "nodes.0.ssh.become", _set("nodes.0.ssh.become", "su")),
    # -- values that reach a shell or a config file
    Case("share-injection", "samba.shares.1: 'RaidOverIP; touch /tmp/ha-injected' is not",
         _set("samba.shares", ["RaidOverIP", INJECTION])),
    Case("disk-injection", "nodes.0.disk: '/dev/sdb; rm -rf /' is not a /dev path",
         _set("nodes.0.disk", "/dev/sdb; rm -rf /")),
    Case("interface-injection", "nodes.1.interface", _set("nodes.1.interface", "eth0&&reboot")),
    Case("serial-injection", "nodes.0.serial", _set("nodes.0.serial", "/dev/ttyS1`id`")),
    Case("resource-injection", "drbd.resource", _set("drbd.resource", "r0$(id)")),
    Case("device-space", "drbd.device", _set("drbd.device", "/dev/drbd0 --force")),
    Case("mount-injection", "drbd.mount_point", _set("drbd.mount_point", "/var/lib/vm;reboot")),
    Case("mount-relative", "drbd.mount_point", _set("drbd.mount_point", "var/lib/vmware")),
    Case("mount-dotdot", "drbd.mount_point", _set("drbd.mount_point", "/var/../etc")),
    Case("fstype-option", "drbd.fstype", _set("drbd.fstype", "ext4 -O ^has_journal")),
    Case("resync-rate", "drbd.resync_rate", _set("drbd.resync_rate", "200M; x")),
    Case("vm-name-pipe", "hypervisor.vms.0", _set("hypervisor.vms", ["hademo|id"])),
    Case("console-banner-regex", "hypervisor.console_banner: not a regular expression",
         _set("hypervisor.console_banner", "boot=(\\d+")),
    Case("ssh-user-option", "nodes.0.ssh.user", _both_ssh(user="root -oProxyCommand=id")),
    Case("cluster-name", "cluster: '../prod' is not", _set("cluster", "../prod")),
    Case("netns-injection", "netns", _set("netns", "halab; id")),
    Case("netns-absent", "network namespace 'ha-no-such-ns' does not exist",
         _set("netns", "ha-no-such-ns")),
    Case("host-key-garbage", "nodes.0.ssh.host_key: expected an OpenSSH public key line",
         _both_ssh(host_key="not-a-key")),
    Case("host-key-short-fingerprint", "nodes.0.ssh.host_key",
         _both_ssh(host_key="SHA256:tooshort")),
    # -- keys
    Case("key-missing", "nodes.node1.ssh.key: no such file /nonexistent/id_ed25519",
         _both_ssh(key="/nonexistent/id_ed25519")),
    Case("key-is-pub", "is a public key; give the private key file (without .pub)",
         _ssh(lambda w: {"key": f"{w.client}.pub"})),
    Case("key-is-directory", "is a directory", _ssh(lambda w: {"key": str(w.root)})),
    Case("key-not-a-key", "node1: cannot read SSH key", _ssh(lambda w: {"key": str(w.not_a_key)})),
    Case("key-passphrase", "is passphrase-protected: add it to ssh-agent (ssh-add ",
         _ssh(lambda w: {"key": str(w.passphrase_key)})),
    Case("key-passphrase-wrong-env", "is passphrase-protected and HA_SSH_PASSPHRASE does not "
         "open it", _ssh(lambda w: {"key": str(w.passphrase_key)}),
         env={"HA_SSH_PASSPHRASE": "wrong"}),
    Case("no-key-no-agent", "no ssh.key in the inventory and no key in ssh-agent "
         "(SSH_AUTH_SOCK is not set)", lambda inv, w: [n["ssh"].pop("key") for n in inv["nodes"]]),
    # `~` expands: the key is found under HOME (the error is then the refused port)
    Case("key-tilde", "node1: unreachable at 127.0.0.1:", _both_ssh(key="~/keys/client")),
    Case("inventory-tilde", "node1: unreachable at 127.0.0.1:", args=["--inventory",
                                                                      "~/inventory.yaml"]),
    # -- SSH endpoints
    Case("port-refused", "Connection refused"),
    # controls that are all left out (disruptive on a cluster not disposable, another
    # manager's) still reach the cluster first: the run says it cannot
    Case("port-refused-disruptive-only", "Connection refused", args=["-m", "disruptive"]),
    Case("port-refused-not-applicable-only", "Connection refused", args=["--control", "HB-09"]),
    Case("port-refused-with-report", "Connection refused", report=True,
         after=_no_report_written),
    Case("bad-inventory-with-report", "samba.shares", _set("samba.shares", [INJECTION]),
         report=True, after=_no_report_written),
    Case("silent-port", "node1: 127.0.0.1:PORT accepted the connection but did not speak SSH "
         "within 1 s", endpoint="silent"),
    Case("http-port", "accepted the connection but did not speak SSH within 1 s",
         endpoint="garbage"),
    Case("banner-then-hang", "node1: 127.0.0.1:PORT did not complete the SSH handshake within "
         "1 s", endpoint="banner-hang"),
    Case("closes-at-once", "node1: 127.0.0.1:PORT closed the connection without speaking SSH",
         endpoint="close"),
    Case("auth-refused", "node1: SSH login as root at 127.0.0.1:PORT refused: authentication "
         "failed with", endpoint="refuse-auth"),
    Case("pin-mismatch", "node1: host key of [127.0.0.1]:PORT does not match the inventory's "
         "ssh.host_key: presented HOSTFP, pinned OTHERFP", endpoint="refuse-auth",
         mutate=_ssh(lambda w: {"host_key": w.host_line(w.other_host)})),
    Case("pin-fingerprint-mismatch", "presented HOSTFP, pinned OTHERFP", endpoint="refuse-auth",
         mutate=_ssh(lambda w: {"host_key": w.fingerprint(w.other_host)})),
    Case("pin-fingerprint-matches", "refused: authentication failed", endpoint="refuse-auth",
         mutate=_ssh(lambda w: {"host_key": w.fingerprint(w.host)})),
    Case("unknown-host-key", "node1: host key of [127.0.0.1]:PORT is unknown: presented HOSTFP, "
         "known: none in", endpoint="refuse-auth", mutate=_unpinned()),
    Case("changed-host-key", "node1: host key of [127.0.0.1]:PORT CHANGED: presented HOSTFP, "
         "known_hosts", endpoint="refuse-auth",
         mutate=_unpinned(lambda w, port: w.known_hosts(port, w.other_host))),
    Case("changed-host-key-hashed-entry", "CHANGED: presented HOSTFP", endpoint="refuse-auth",
         mutate=_unpinned(lambda w, port: w.known_hosts(port, w.other_host, hashed=True))),
    Case("changed-host-key-trust-new", "CHANGED: presented HOSTFP", endpoint="refuse-auth",
         mutate=_unpinned(lambda w, port: w.known_hosts(port, w.other_host)),
         args=["--trust-new-host-keys"], after=_unchanged_known_hosts),
    Case("known-hashed-entry-matches", "refused: authentication failed", endpoint="refuse-auth",
         mutate=_unpinned(lambda w, port: w.known_hosts(port, w.host, hashed=True))),
    Case("trust-new-first-contact", "refused: authentication failed", endpoint="refuse-auth",
         mutate=_unpinned(), args=["--trust-new-host-keys"], after=_gained_entry),
    Case("known-hosts-unreadable", "known_hosts", endpoint="refuse-auth",
         mutate=_unpinned_known_hosts_dir),
    # -- arguments
    Case("unknown-control", "--control XX-99: no such control", args=["--control", "XX-99"]),
    # nothing selected: nothing loaded, nothing connected (the inventory does not exist)
    Case("k-selects-nothing", "", args=["--inventory", "/nonexistent.yaml", "-k", "NOSUCHTEST"],
         rc=5),
    Case("control-deselected-by-m", "", args=["--inventory", "/nonexistent.yaml", "--control",
                                              "HB-03", "-m", "not disruptive"], rc=5),
    # -- the Vagrant inventory writer
    Case("vagrant-binary-ssh-config", "vagrant.inventory: error: ssh-config", command="vagrant",
         args=["--ssh-config", "BINARY"], rc=1),
    Case("vagrant-out-under-a-file", "vagrant.inventory: error: --out", command="vagrant",
         args=["--ssh-config", "SSHCONFIG", "--out", "FILE/inventory.yaml", "--no-host-keys",
               "--no-calibration"],
         rc=1),
    Case("vagrant-garbage-ssh-config", "before any 'Host' line", command="vagrant",
         args=["--ssh-config", "GARBAGE"], rc=1),
    Case("vagrant-missing-ssh-config", "vagrant.inventory: error:", command="vagrant",
         args=["--ssh-config", "/nonexistent/ssh-config"], rc=1),
    Case("vagrant-bad-host-key-arg", "--host-key", command="vagrant",
         args=["--ssh-config", "SSHCONFIG", "--host-key", "node9=x"], rc=1),
    Case("vagrant-bad-provider", "argument --provider: invalid choice", command="vagrant",
         args=["--provider", "vmware"], rc=2),
]


def _vagrant_args(case: Case, world: World, case_dir: Path) -> list[str]:
    (case_dir / "binary").write_bytes(bytes(range(256)) * 4)
    (case_dir / "garbage").write_text("IdentityFile /x\n")
    (case_dir / "FILE").write_text("a regular file\n")
    (case_dir / "ssh-config").write_text(
        "".join(f"Host {n}\n  IdentityFile {world.client}\n" for n in ("node1", "node2")))
    names = {"BINARY": "binary", "GARBAGE": "garbage", "SSHCONFIG": "ssh-config"}
    args = [str(case_dir / names[a]) if a in names else a for a in case.args]
    args = [str(case_dir / a) if a.startswith("FILE/") else a for a in args]
    if "--out" not in args:
        args += ["--out", str(case_dir / "out.yaml")]
    if "--provider" not in args:
        args += ["--provider", "libvirt"]
    return [sys.executable, "-m", "vagrant.inventory", *args]


def suite_env(world: World, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a case: no agent, inventory or passphrase of the caller's."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSH_AUTH_SOCK", "HA_INVENTORY", "HA_SSH_PASSPHRASE")}
    env.update(HOME=str(world.root), **extra)
    return env


def suite_command(case_dir: Path, inventory: Path, report: bool, args: list[str]) -> list[str]:
    """`pytest suites/` as a user runs it, on ``inventory`` unless ``args`` name one."""
    cmd = [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider"]
    cmd += ["--reports-dir", str(case_dir / "reports")] if report else ["--no-report"]
    return cmd + ([] if "--inventory" in args else ["--inventory", str(inventory)]) + args


def run_parallel(world: World, cases: list, run: Callable) -> dict:
    """case id -> ``run(case, world)``, the cases in parallel threads."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {c.id: pool.submit(run, c, world) for c in cases}
        return {cid: f.result() for cid, f in futures.items()}


def run_case(case: Case, world: World) -> tuple[subprocess.CompletedProcess, str, Path]:
    case_dir = world.root / case.id
    case_dir.mkdir()
    port = world.ports[case.endpoint]
    env = suite_env(world, case.env)
    if case.command == "vagrant":
        cmd = _vagrant_args(case, world, case_dir)
    else:
        inv_path = case_dir / "inventory.yaml"
        if case.raw is not None:
            inv_path.write_bytes(case.raw)
        else:
            inv = copy.deepcopy(base_inventory(world, case_dir, port))
            (case_dir / "known_hosts").write_text("")
            if case.mutate:
                case.mutate(inv, world)
            inv_path.write_text(yaml.safe_dump(inv, sort_keys=False))
        if "~/inventory.yaml" in case.args:
            (world.root / "inventory.yaml").write_text(inv_path.read_text())
        cmd = suite_command(case_dir, inv_path, case.report, case.args)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return proc, world.fill(case.expect, port), case_dir


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory):
    world = World(tmp_path_factory.mktemp("bad-input"))
    try:
        yield world, run_parallel(world, CASES, run_case)
    finally:
        world.close()


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 50 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_a_non_zero_exit(case: Case, outcomes):
    world, results = outcomes
    proc, expect, case_dir = results[case.id]
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both and "INTERNALERROR" not in both, both
    assert proc.returncode == case.rc, both
    lines = proc.stderr.splitlines()
    if case.rc == 5:  # nothing selected: nothing to say, nothing connected
        assert lines == [], both
        assert "deselected" in proc.stdout
        return
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    prefix = "ha-acceptance: " if case.command == "suite" else "vagrant.inventory: error: "
    assert lines[0].startswith(prefix) and expect in lines[0], lines[0]
    assert "compliance report" not in both, "a run that never reached the cluster has no report"
    if case.after:
        case.after(world, case_dir)
