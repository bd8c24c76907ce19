"""Write the suite's inventory for the Vagrant nodes from ``vagrant ssh-config``.

    python -m vagrant.inventory --out vagrant/inventory.yaml [--provider libvirt|virtualbox]
        [--ssh-config FILE] [--netns NAME] [--budget-scale X | --no-calibration]
        [--host-key NODE='ssh-ed25519 AAAA...' ...] [--no-host-keys]

The suite connects to each node's private-network ``address`` on port 22 as root, with the
key Vagrant uses (the ``IdentityFile`` of ssh-config): the management address or the
forwarded port of ssh-config are Vagrant's own path and are not used. Fault hooks use the
machine ids Vagrant records under ``vagrant/.vagrant/machines/<node>/<provider>/id``:
``virsh destroy|start`` and ``virsh domif-setlink <id> <mac> down|up`` (libvirt),
``VBoxManage controlvm <id> poweroff``, ``startvm --type headless`` and ``setlinkstate2``
(VirtualBox; NIC 2 is the private network).
Each node's SSH host key is pinned (``ssh.host_key``): given with ``--host-key``, else read with
``ssh-keyscan`` from its private address (inside ``--netns``) as the nodes come up, so the
suite's runs stay hands-off; ``--no-host-keys`` leaves the suite to the user's known_hosts.
Errors are one line: ``vagrant.inventory: error: ...``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from fixtures.access.fault_hooks import LINK, PAIRS, POWER
from fixtures.resources.hypervisor import DEMO_GUEST_BANNER
from lab import calibrate
from lab import inventory as lab_inventory
from lab.errors import LabError

HERE = Path(__file__).resolve().parent
NODES_FILE = HERE / "nodes.yaml"
DEFAULT_OUT = HERE / "inventory.yaml"
PROVIDERS = ("libvirt", "virtualbox")
LIBVIRT_URI = "qemu:///system"


class VagrantInventoryError(Exception):
    """The inventory cannot be written; the message is one line."""


def parse_ssh_config(text: str) -> dict[str, dict[str, str]]:
    """``vagrant ssh-config`` output → {host: {option (lower case): value}}."""
    hosts: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        value = value.strip().strip('"')
        if not value:
            raise VagrantInventoryError(f"ssh-config line {lineno}: no value in {line!r}")
        if key.lower() == "host":
            current = hosts.setdefault(value, {})
        elif current is None:
            raise VagrantInventoryError(
                f"ssh-config line {lineno}: {key!r} before any 'Host' line"
                " (is this `vagrant ssh-config` output?)"
            )
        else:
            current.setdefault(key.lower(), value)  # first value wins, like ssh
    if not hosts:
        raise VagrantInventoryError("ssh-config: no 'Host' entry (are the nodes up?)")
    return hosts


def load_nodes(path: Path = NODES_FILE) -> dict:
    return yaml.safe_load(path.read_text())


def machine_id(vagrant_dir: Path, node: str, provider: str) -> str | None:
    """The provider's id of ``node`` (libvirt domain UUID, VirtualBox VM UUID), if created."""
    path = vagrant_dir / ".vagrant" / "machines" / node / provider / "id"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def detect_provider(vagrant_dir: Path, names: list[str]) -> str:
    """The provider the nodes were created with (from .vagrant/), else VAGRANT_DEFAULT_PROVIDER."""
    found = [p for p in PROVIDERS if any(machine_id(vagrant_dir, n, p) for n in names)]
    if len(found) == 1:
        return found[0]
    env = os.environ.get("VAGRANT_DEFAULT_PROVIDER", "")
    if env in PROVIDERS:
        return env
    if not found:
        raise VagrantInventoryError("no node created yet under .vagrant/; give --provider")
    raise VagrantInventoryError(f"nodes exist for {', '.join(found)}; give --provider")


def fault_hooks(provider: str, vm: str, mac: str) -> dict[str, str | None]:
    """Controller-side commands for one node: each hook pair of the fault vocabulary
    (fixtures/access/fault_hooks.py) as the provider's two commands, inject first; None
    where the provider has no way to cause the fault (its controls are then not run)."""
    vm_q = shlex.quote(vm)
    if provider == "libvirt":
        virsh = f"virsh -c {LIBVIRT_URI}"
        commands = {
            POWER: (f"{virsh} destroy {vm_q}", f"{virsh} start {vm_q}"),
            LINK: (f"{virsh} domif-setlink {vm_q} {mac} down",
                   f"{virsh} domif-setlink {vm_q} {mac} up"),
        }
    elif provider == "virtualbox":
        commands = {
            POWER: (f"VBoxManage controlvm {vm_q} poweroff",
                    f"VBoxManage startvm {vm_q} --type headless"),
            LINK: (f"VBoxManage controlvm {vm_q} setlinkstate2 off",
                   f"VBoxManage controlvm {vm_q} setlinkstate2 on"),
        }
    else:
        raise VagrantInventoryError(
            f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
    # a pair neither provider can cause (the disk failure: no command of theirs makes a
    # running guest's disk return I/O errors) has no command: its controls are not run
    return {hook: command for pair in PAIRS
            for hook, command in zip(pair.hooks, commands.get(pair, (None, None)),
                                     strict=True)}


def scan_host_key(address: str, netns: str | None = None) -> str:
    """``ssh-ed25519 AAAA...`` of the node at ``address``, read with ssh-keyscan (inside
    ``netns`` when the private network lives there)."""
    try:
        return lab_inventory.scan_host_key(address, netns)
    except LabError as exc:
        raise VagrantInventoryError(f"{exc}; give --host-key or --no-host-keys") from None


def parse_host_keys(values: list[str], names: list[str]) -> dict[str, str]:
    """``NODE=KEY LINE`` arguments → {node: key line}."""
    keys: dict[str, str] = {}
    for value in values:
        name, sep, line = value.partition("=")
        if not sep or name not in names or len(line.split()) < 2:
            raise VagrantInventoryError(
                f"--host-key {value[:40]!r}: expected NODE='ssh-ed25519 AAAA...' with NODE one "
                f"of {', '.join(names)}")
        keys[name] = " ".join(line.split()[:2])
    return keys


def build_inventory(
    ssh_config: str,
    provider: str,
    *,
    spec: dict | None = None,
    vagrant_dir: Path = HERE,
    netns: str | None = None,
    budget_scale: float = 1.0,
    host_keys: dict[str, str] | None = None,
) -> dict:
    """The inventory dict (fixtures/access/inventory.py schema) for the two Vagrant nodes;
    ``host_keys`` (node -> public key line) are pinned as each node's ssh.host_key."""
    spec = spec or load_nodes()
    if provider not in PROVIDERS:
        raise VagrantInventoryError(
            f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})"
        )
    hosts = parse_ssh_config(ssh_config)
    net = spec["network"]
    nodes = []
    for index, node in enumerate(spec["nodes"]):
        name = node["name"]
        entry = hosts.get(name)
        if entry is None:
            raise VagrantInventoryError(
                f"ssh-config: no 'Host {name}' entry (hosts: {', '.join(hosts)}); is {name} up?"
            )
        key = entry.get("identityfile")
        if not key:
            raise VagrantInventoryError(f"ssh-config: Host {name} has no IdentityFile")
        key = os.path.expanduser(key)
        vm = machine_id(vagrant_dir, name, provider) or f"ha-vagrant-{name}"
        ssh = {"user": "root", "port": 22, "key": key}
        if host_keys and host_keys.get(name):
            ssh["host_key"] = host_keys[name]
        nodes.append({
            "name": name,
            "address": node["ip"],
            # NIC 1 is Vagrant's management (libvirt) or NAT (VirtualBox) network
            "interface": "eth1",
            "preferred_primary": index == 0,
            "disk": "/dev/vdb" if provider == "libvirt" else "/dev/sdb",
            "serial": "/dev/ttyS1",
            "ssh": ssh,
            "faults": fault_hooks(provider, vm, node["mac"]),
        })
    inv: dict = {
        "cluster": "vagrant",
        "profile": "hardened",
        "disposable": True,
        "provision": True,
    }
    if netns:
        inv["netns"] = netns
    inv["nodes"] = nodes
    inv["network"] = {
        "netmask": net["netmask"],
        "virtual_ip": net["virtual_ip"],
        "ping_node": net["host_ip"],
    }
    if netns:  # vagrant.libvirt_netns serves the host's clock there (lab/timeserver.py)
        inv["network"]["time_server"] = net["host_ip"]
    # the provisioning runs the demo guest here too: its console must say its own banner
    inv["hypervisor"] = {"console_banner": DEMO_GUEST_BANNER}
    if budget_scale != 1.0:
        inv["budgets"] = {"scale": budget_scale}
    return inv


def ssh_runner(node: dict, netns: str | None) -> calibrate.Runner:
    """Runs a command on a written node over OpenSSH, checking the pinned host key."""
    def run(command: str, timeout: float) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".known_hosts") as known:
            pin = node["ssh"].get("host_key")
            if pin:
                known.write(f"{node['address']} {pin}\n")
                known.flush()
            prefix = ["ip", "netns", "exec", netns] if netns else []
            proc = subprocess.run(
                [*prefix, "ssh", "-i", node["ssh"]["key"], "-o", "BatchMode=yes",
                 "-o", f"UserKnownHostsFile={known.name}",
                 "-o", f"StrictHostKeyChecking={'yes' if pin else 'accept-new'}",
                 "-o", "ConnectTimeout=10", f"root@{node['address']}", command],
                capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise VagrantInventoryError(
                f"{node['name']}: ssh exited {proc.returncode}: {proc.stderr.strip()[-200:]}")
        return proc.stdout
    return run


def measured_budgets(inv: dict, tcg: bool, netns: str | None) -> dict:
    """budgets.scale from the nodes' measured speed (lab/calibrate.py), like the lab's."""
    runners = {n["name"]: ssh_runner(n, netns) for n in inv["nodes"]}
    try:
        return calibrate.calibrate(runners, "tcg" if tcg else "kvm")
    except calibrate.CalibrationError as exc:
        raise VagrantInventoryError(f"calibration: {exc}") from None


def read_ssh_config(vagrant_dir: Path) -> str:
    """Run ``vagrant ssh-config`` in ``vagrant_dir``."""
    try:
        res = subprocess.run(["vagrant", "ssh-config"], cwd=vagrant_dir, capture_output=True,
                             text=True, timeout=300, check=False)
    except FileNotFoundError:
        raise VagrantInventoryError("vagrant: command not found") from None
    if res.returncode != 0:
        lines = (res.stderr or res.stdout).strip().splitlines()
        raise VagrantInventoryError(
            f"vagrant ssh-config failed (exit {res.returncode}): {lines[-1] if lines else ''}"
        )
    return res.stdout


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, like every other error here."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"vagrant.inventory: error: {message} (see --help)\n")
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m vagrant.inventory",
                 description="Write the suite's inventory for the Vagrant nodes.")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--provider", choices=PROVIDERS, help="default: detected from .vagrant/")
    ap.add_argument("--ssh-config", type=Path, help="recorded `vagrant ssh-config` output")
    ap.add_argument("--netns", help="network namespace holding the private network")
    ap.add_argument("--budget-scale", type=float,
                    help="widen the time budgets by hand (default: measured on the nodes, "
                         "lab/calibrate.py; 1 under KVM)")
    ap.add_argument("--host-key", action="append", default=[], metavar="NODE=KEY",
                    help="pin NODE's SSH host key ('ssh-ed25519 AAAA...'); default: ssh-keyscan")
    ap.add_argument("--no-calibration", action="store_true",
                    help="write the inventory's budgets unscaled, without measuring the nodes")
    ap.add_argument("--no-host-keys", action="store_true",
                    help="pin no host key (the suite checks the user's known_hosts)")
    args = ap.parse_args(argv)
    try:
        spec = load_nodes()
        names = [n["name"] for n in spec["nodes"]]
        host_keys = parse_host_keys(args.host_key, names)
        provider = args.provider or detect_provider(HERE, names)
        if args.ssh_config:
            try:
                text = args.ssh_config.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise VagrantInventoryError(
                    f"ssh-config {args.ssh_config}: not UTF-8 text (is this `vagrant "
                    "ssh-config` output?)") from None
        else:
            text = read_ssh_config(HERE)
        scale = args.budget_scale
        budgets = None
        if scale is not None:  # the user's own factor, said so in the report
            budgets = {"scale": scale, "calibration": {
                "method": f"--budget-scale {scale:g} given by hand"}}
        else:
            scale = 1.0
        tcg = provider == "libvirt" and os.environ.get("HA_VAGRANT_DRIVER") == "qemu"
        tcg = tcg or (provider == "libvirt" and not os.access("/dev/kvm", os.R_OK | os.W_OK))
        inv = build_inventory(text, provider, spec=spec, netns=args.netns, budget_scale=scale)
        out = args.out.expanduser()
        try:  # a bad --out is said before any node is scanned or measured
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VagrantInventoryError(
                f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
        if not args.no_host_keys:
            # scanned only here (never in build_inventory), from the nodes written for
            for node in inv["nodes"]:
                if node["name"] not in host_keys:
                    host_keys[node["name"]] = scan_host_key(node["address"], args.netns)
            inv = build_inventory(text, provider, spec=spec, netns=args.netns,
                                  budget_scale=scale, host_keys=host_keys)
        if budgets is None and not args.no_calibration:
            budgets = measured_budgets(inv, tcg, args.netns)
        if budgets is not None:
            inv["budgets"] = budgets
        try:
            out.write_text(
                "# Written by `python -m vagrant.inventory` from `vagrant ssh-config`.\n"
                + yaml.safe_dump(inv, sort_keys=False)
            )
        except OSError as exc:
            raise VagrantInventoryError(
                f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    except (VagrantInventoryError, OSError, yaml.YAMLError) as exc:
        print(f"vagrant.inventory: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"vagrant.inventory: wrote {args.out} ({provider}: "
          + ", ".join(f"{n['name']} {n['address']}" for n in inv["nodes"]) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
