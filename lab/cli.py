"""Command line: up | down | status | ssh | power | exec, and one command per fault QEMU
toggles on a running node (lab.qemu.TOGGLES: link, disk)."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from fixtures.access.errors import SuiteError, printable
from fixtures.access.fault_hooks import POWER
from lab import accel as accel_mod
from lab import (
    builds,
    cable,
    calibrate,
    config,
    image,
    inventory,
    netns,
    preflight,
    qemu,
    snapshot,
    timeserver,
)
from lab.config import LabNode
from lab.errors import LabError

SSH_OPTIONS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
]


class Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments on one line, like every other lab error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"lab: error: {message} (see: python -m lab --help)\n")
        raise SystemExit(2)


class Clock:
    """Prints progress lines with the seconds elapsed since the command began."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def __call__(self, message: str) -> None:
        print(f"[{self.elapsed():5.0f}s] {message}", file=sys.stderr, flush=True)


MAX_WAIT_S = 86400.0  # a day: longer is a typo, and `inf` or `nan` would never end


def seconds(text: str) -> float:
    """argparse type of a wait: a finite number of seconds, above 0 and at most a day.

    >>> seconds("90")
    90.0
    >>> seconds("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 'nan' is not a number of seconds in (0, 86400]
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= MAX_WAIT_S:
        raise argparse.ArgumentTypeError(
            f"{printable(text, 40)!r} is not a number of seconds in (0, {MAX_WAIT_S:g}]")
    return value


def build_parser() -> Parser:
    """The CLI's argument parser."""
    p = Parser(prog="lab", description="Two-VM Debian HA lab (QEMU in netns "
               f"{config.NETNS}).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    names = [n.name for n in config.NODES]

    up = sub.add_parser("up", help="build if needed, start both nodes, wait for SSH")
    up.add_argument("--fresh", action="store_true", help="discard overlays and data disks")
    up.add_argument("--profile", choices=inventory.PROFILES, default="hardened")
    up.add_argument("--manager", choices=inventory.MANAGERS, default=None,
                    help="cluster manager the nodes are for (default: the lab's current one, "
                         "heartbeat at first); a switch starts from that manager's snapshot "
                         "or from blank disks")
    up.add_argument("--build", choices=list(builds.BUILDS), default=None,
                    help="what the nodes are built into: the suite's provisioning for a "
                         "manager (heartbeat, pacemaker: same as --manager) or a cluster "
                         "built the way other people build one (lab/builds/)")
    up.add_argument("--timeout", type=seconds, default=config.SSH_TIMEOUT_S,
                    help="seconds to wait for SSH on both nodes (one deadline)")
    up.add_argument("--no-snapshot", action="store_true",
                    help="ignore the provisioned-baseline snapshot (the suite provisions)")

    snap = sub.add_parser("snapshot", help="the provisioned-baseline snapshot")
    snap.add_argument("action", choices=["save", "status", "drop"])
    snap.add_argument("--if-provisioning", action="store_true",
                      help="save: only when the inventory asks for provisioning (provisions "
                           "first), else nothing to do")

    down = sub.add_parser("down", help="stop nodes, remove the lab network")
    down.add_argument("--purge", action="store_true", help="also delete overlays and disks")

    sub.add_parser("status", help="per node: running, pid, accel, SSH")

    ssh = sub.add_parser("ssh", help="ssh to a node inside the namespace")
    ssh.add_argument("node", choices=names)
    ssh.add_argument("cmd", nargs=argparse.REMAINDER)

    power = sub.add_parser("power", help="power a node on or off (SIGKILL)")
    power.add_argument("node", choices=names)
    power.add_argument("state", choices=[POWER.undo, POWER.inject])
    power.add_argument("--wait", action="store_true", help="on: wait until SSH answers")
    power.add_argument("--timeout", type=seconds, default=config.SSH_TIMEOUT_S)

    for pair, toggle in qemu.TOGGLES.items():
        fault = sub.add_parser(pair.verb, help=toggle.help)
        fault.add_argument("node", choices=names)
        fault.add_argument("state", choices=[pair.undo, pair.inject])

    ex = sub.add_parser("exec", help="run a host command inside the namespace")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    return p


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and validate; ``exec`` needs a command after ``--``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "exec":
        cmd = list(args.cmd)
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        if not cmd:
            parser.error("exec needs a command: python -m lab exec -- CMD [ARGS...]")
        args.cmd = cmd
    if args.command == "ssh" and args.cmd and args.cmd[0] == "--":
        args.cmd = args.cmd[1:]
    return args


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """Serialize commands that change the lab (two `up`s must not race)."""
    config.state_root().mkdir(parents=True, exist_ok=True)
    with open(config.state_root() / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _image_record() -> Path:
    return config.state_root() / "image"


def active_image() -> image.Image:
    """The image the nodes were started from (falls back to the current recipe)."""
    try:
        h = _image_record().read_text().strip()
    except OSError:
        return image.current_image()
    return image.Image(config.cache_root() / h, h)


def ssh_command(node: LabNode, key: Path, cmd: Sequence[str] = (), timeout: int = 5) -> list[str]:
    """ssh to ``node`` inside the namespace with the lab key."""
    opts = [o if not o.startswith("ConnectTimeout=") else f"ConnectTimeout={timeout}"
            for o in SSH_OPTIONS]
    return netns.wrap(["ssh", "-i", str(key), *opts, f"root@{node.address}", *cmd])


SSH_TRY_S = 30.0  # one `ssh true`: a booting TCG node on a busy host took over 15 s


def ssh_try(node: LabNode, key: Path, timeout: float, cmd: Sequence[str] = ("true",)
            ) -> tuple[bool, str]:
    """Run ``cmd`` on ``node`` over SSH, all of it within ``timeout`` s: (it exited 0, what
    was seen, in one line). Never raises: a slow or silent node is an answer too."""
    limit = max(1.0, timeout)
    try:
        proc = subprocess.run(ssh_command(node, key, cmd, max(1, min(10, int(limit)))),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        return False, f"`ssh {' '.join(cmd)}` had no answer within {limit:.0f} s"
    except OSError as exc:
        return False, f"cannot run ssh: {exc.strerror or exc}"
    if proc.returncode == 0:
        return True, "answered"
    said = (proc.stderr.strip().splitlines() or [""])[-1]
    return False, f"`ssh {' '.join(cmd)}` exited {proc.returncode}" + (
        f": {printable(said, 160)}" if said else "")


def ssh_answers(node: LabNode, key: Path, timeout: int = 5) -> bool:
    """True when the node runs a command over SSH within ``timeout`` s."""
    return ssh_try(node, key, timeout)[0]


def console_last(node: LabNode) -> str:
    """The node's serial console log and its last line, in one line."""
    path = qemu.paths(node).console
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"no console log at {path}"
    return f"console {path} ends: {printable(lines[-1].strip(), 160) if lines else '(empty)'}"


def wait_ssh(nodes: Sequence[LabNode], key: Path, timeout: float, clock: Clock) -> dict[str, float]:
    """Wait until every node answers SSH, all within ``timeout`` s (one deadline for boot
    and SSH, each try bounded by what is left); return seconds to SSH per node. LabError
    in one line naming the node and what was last seen."""
    start = time.monotonic()
    deadline = start + timeout
    pending = list(nodes)
    reached: dict[str, float] = {}
    seen = {n.name: "not tried yet" for n in nodes}
    while pending:
        for node in list(pending):
            if qemu.running_pid(node) is None:
                raise LabError(f"{node.name}: QEMU exited while booting; {console_last(node)}")
            left = deadline - time.monotonic()
            if left <= 0:
                break
            answered, seen[node.name] = ssh_try(node, key, min(SSH_TRY_S, left))
            if answered:
                reached[node.name] = time.monotonic() - start
                clock(f"{node.name} answers SSH ({reached[node.name]:.0f} s after start)")
                pending.remove(node)
        if pending and time.monotonic() >= deadline:
            node = pending[0]
            raise LabError(f"{node.name} did not answer SSH within {timeout:.0f} s; last "
                           f"seen: {seen[node.name]}; {console_last(node)}")
        if pending:
            time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))
    return reached


HOST_KEY_WAIT_S = 120.0  # ssh-keyscan right after SSH answered, retried on a busy host


def scan_host_keys(nodes: Sequence[LabNode], timeout: float = HOST_KEY_WAIT_S) -> dict[str, str]:
    """Each node's host key line by ssh-keyscan, retried until one deadline; LabError in one
    line naming the node and its last failure."""
    deadline = time.monotonic() + timeout
    keys: dict[str, str] = {}
    for node in nodes:
        while node.name not in keys:
            left = deadline - time.monotonic()
            try:
                keys[node.name] = inventory.scan_host_key(
                    node.address, timeout=max(1, min(10, int(left))))
            except LabError as exc:
                if time.monotonic() + 2 >= deadline:
                    raise LabError(f"{node.name}: no host key within {timeout:.0f} s; last "
                                   f"seen: {printable(str(exc), 200)}") from None
                time.sleep(2.0)
    return keys


def _timeserver_pidfile() -> Path:
    return config.state_root() / "timeserver.pid"


def _snapshot_key(img: image.Image, accel: str, profile: str,
                  build: builds.Build) -> tuple[str, dict]:
    inputs = snapshot.key_inputs(img.recipe_hash, _inventory(
        img, accel, profile, build, budgets={"scale": 1.0}))
    if build.has_steps:  # its steps are part of its recipe
        inputs["build"] = build.steps_hash()
    return snapshot.key_of(inputs), inputs


def _inventory(img: image.Image, accel: str, profile: str, build: builds.Build,
               **kwargs) -> dict[str, object]:
    return inventory.build(img.key, accel, profile, manager=build.manager, build=build.name,
                           **kwargs)


def _blank_disks() -> None:
    """Stop both nodes and delete their disks and the shared SBD disk: blank nodes."""
    for node in config.NODES:
        qemu.kill(node)
        qemu.remove_disks(node)
    qemu.remove_shared_disks()


def _start_nodes(img: image.Image, accel: str, timeout: float, clock: Clock) -> None:
    to_start = [n for n in config.NODES if qemu.running_pid(n) is None]
    if to_start:
        preflight.check_memory()
        preflight.check_disk(config.state_root())
    for node in to_start:
        pid = qemu.start(node, img, accel)
        clock(f"{node.name}: QEMU started (pid {pid}, {accel})")
    clock("waiting for SSH on both nodes")
    wait_ssh(config.NODES, img.key, timeout, clock)


def _budgets(img: image.Image, accel: str, clock: Clock) -> dict[str, object]:
    """budgets.scale from the lab's measured speed (lab/calibrate.py)."""
    def runner(node: LabNode) -> calibrate.Runner:
        def run(cmd: str, timeout: float) -> str:
            return subprocess.run(ssh_command(node, img.key, [cmd], 10), capture_output=True,
                                  text=True, timeout=timeout, check=True,
                                  stdin=subprocess.DEVNULL).stdout
        return run
    try:
        budgets = calibrate.calibrate({n.name: runner(n) for n in config.NODES}, accel)
    except calibrate.CalibrationError as exc:
        raise LabError(f"calibration: {exc}") from None
    cal = budgets["calibration"]
    clock(f"budgets.scale {budgets['scale']} ({accel}; workload {cal['nodes'] or '-'} s, "
          f"reference {cal['reference']} s)")
    return budgets


def _shutdown(nodes: Sequence[LabNode], key: Path, timeout: float, clock: Clock,
              manager: str = "heartbeat") -> None:
    """Clean power-off (DRBD metadata and file systems consistent), wait for QEMU to end.

    The cluster manager stops first, standby before active: stopped together, the standby
    would start taking over what the active releases while both go down (and Pacemaker
    would fence the node that left without saying so)."""
    service = {"heartbeat": "heartbeat", "pacemaker": "pacemaker"}[manager]
    deadline = time.monotonic() + timeout
    for node in sorted(nodes, key=lambda n: n.preferred_primary):
        stopped, seen = ssh_try(node, key, max(1.0, deadline - time.monotonic()),
                                ["systemctl", "stop", service])
        if not stopped:
            raise LabError(f"{node.name}: {service} did not stop: {seen}")
        clock(f"{node.name}: {service} stopped")
    for node in nodes:
        # the connection drops as the node goes down: the exit status means nothing
        ssh_try(node, key, 30.0, ["systemctl", "poweroff"])
    for node in nodes:
        while qemu.running_pid(node) is not None:
            if time.monotonic() > deadline:
                raise LabError(f"{node.name} did not power off within {timeout:.0f} s; "
                               f"{console_last(node)}")
            time.sleep(0.5)
        clock(f"{node.name}: powered off")


BASELINE_WAIT_S = 300.0  # boot, DRBD connect, heartbeat acquiring the group under TCG


def cmd_up(args: argparse.Namespace) -> int:
    clock = Clock()
    preflight.check_root()
    preflight.check_tools()
    snapshot.start_phases()
    with state_lock():
        with snapshot.phase("lab up: image, accelerator, network", "setup"):
            img = image.current_image()
            if not img.is_ready():
                preflight.check_disk(config.cache_root(), config.state_root())
                clock(f"building node image {img.recipe_hash} into {img.directory}")
                image.build(img, clock)
            old = active_image()
            stale = old.recipe_hash != img.recipe_hash
            accel = accel_mod.choose(img, clock)
            for node in config.NODES:
                if (args.fresh or (stale and qemu.running_pid(node))) and qemu.kill(node):
                    clock(f"{node.name}: stopped" + (" (image changed)" if stale else ""))
                if args.fresh:
                    qemu.remove_disks(node)
            if args.fresh:
                qemu.remove_shared_disks()
            _image_record().parent.mkdir(parents=True, exist_ok=True)
            _image_record().write_text(img.recipe_hash + "\n")
            netns.ensure()
            timeserver.start(config.NETNS, _timeserver_pidfile())
            previous = snapshot.lab_build()
            build = builds.get(args.build or args.manager or previous)
            key, _ = _snapshot_key(img, accel, args.profile, build)
            if args.fresh or snapshot.running_from() != key:
                snapshot.set_running_from(None)
            use = (not args.fresh and not args.no_snapshot and snapshot.present(key))
            have_disks = any(qemu.paths(n).overlay.exists() for n in config.NODES)
            switch = snapshot.build_switch(previous, build.name, have_disks, use)
            if switch == "keep" and have_disks and builds.stale(build):
                switch = "blank"
                clock(f"build {build.name}: its steps changed since the nodes were built")
            if switch == "blank":
                _blank_disks()
                clock(f"build {previous} -> {build.name}: no {build.name} snapshot, the "
                      "nodes start from blank disks (" + (
                          "its steps build them" if build.foreign else "the suite provisions")
                      + ")")
            elif switch == "restore":
                clock(f"build {previous} -> {build.name}: the nodes start from the "
                      f"{build.name} snapshot {key}")
            if args.fresh or switch == "blank":
                builds.set_built(None)
            snapshot.set_lab_build(build.name)
            running = all(qemu.running_pid(n) for n in config.NODES)
            reuse = use and running and snapshot.running_from() == key
        if use and not reuse:
            with snapshot.phase("snapshot restore", "snapshot"):
                for node in config.NODES:
                    qemu.kill(node)
                seconds = snapshot.restore(key, snapshot.node_dirs(config.NODES),
                                           [config.sbd_disk_path()])
                snapshot.set_running_from(key)
                builds.set_built(build if build.has_steps else None)
                clock(f"snapshot {key}: disks restored ({seconds:.1f} s)")
        with snapshot.phase("boot to SSH", "setup"):
            _start_nodes(img, accel, args.timeout, clock)
            # pinned in the inventory: the suite verifies every connection against them
            host_keys = scan_host_keys(config.NODES)
        with snapshot.phase("calibration", "setup"):
            budgets = _budgets(img, accel, clock)
        # a foreign build is never provisioned by the suite: its own steps build it
        path = inventory.write(_inventory(img, accel, args.profile, build, budgets=budgets,
                                          provision=not (use or build.foreign),
                                          host_keys=host_keys))
    if use:
        # the suite verifies the baseline instead of provisioning: it must be there
        with snapshot.phase("baseline from snapshot", "snapshot"):
            try:
                took = snapshot.wait_baseline(path, BASELINE_WAIT_S)
                clock(f"baseline from snapshot {key} ({'kept running' if reuse else 'restored'}"
                      f", at baseline after {took:.0f} s): the suite will not provision")
            except LabError as exc:
                snapshot.set_running_from(None)
                builds.set_built(None)
                inventory.write(_inventory(img, accel, args.profile, build, budgets=budgets,
                                           provision=not build.foreign, host_keys=host_keys))
                clock(f"snapshot {key}: {exc}; " + (
                    "its steps build the nodes again" if build.foreign
                    else "the suite provisions"))
    elif build.has_steps and not builds.is_built(build):
        clock(f"no snapshot for key {key}: `lab snapshot save` runs the build's steps" + (
            "" if build.foreign else ", then the suite provisions"))
    elif not build.foreign:
        clock(f"no snapshot for key {key}: the suite provisions")
    clock(f"lab up; inventory {path}")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    preflight.check_root()
    clock = Clock()
    path = config.inventory_path()
    if args.action == "drop":
        with state_lock():
            dropped = snapshot.drop()
        print(f"snapshots dropped: {', '.join(dropped) or 'none'}")
        return 0
    img = _require_lab()
    try:
        data = inventory.load_raw(path)
    except (OSError, ValueError) as exc:
        raise LabError(f"inventory {path}: {exc}") from None
    accel = qemu.node_accel(config.NODES[0], "tcg")
    build = builds.get(snapshot.lab_build())
    key, inputs = _snapshot_key(img, accel, str(data.get("profile", "hardened")), build)
    # what the nodes still lack: the build's steps, the suite's provisioning, or both
    steps_pending = build.has_steps and not builds.is_built(build)
    pending = steps_pending or bool(data.get("provision", True))
    if args.action == "status":
        state = "present" if snapshot.present(key) else "absent"
        print(f"snapshot {key}: {state}; running nodes from it: "
              f"{'yes' if snapshot.running_from() == key else 'no'}")
        return 0
    if args.if_provisioning and not pending:
        print(f"snapshot {key}: the lab already runs from it, nothing to save")
        return 0
    if steps_pending:
        with snapshot.phase(f"build {build.name}", "provisioning"):
            builds.run(build, lambda node: ssh_command(node, img.key, ["sh"], 10), clock)
    if data.get("provision", True):
        with snapshot.phase("provisioning", "provisioning"):
            snapshot.provision(path, clock)
    with snapshot.phase("baseline before save", "snapshot"):
        snapshot.wait_baseline(path, BASELINE_WAIT_S)
    with state_lock():
        with snapshot.phase("snapshot save", "snapshot"):
            _shutdown(config.NODES, img.key, 180.0, clock, build.manager)
            seconds = snapshot.save(key, inputs, snapshot.node_dirs(config.NODES),
                                    [config.sbd_disk_path()])
            snapshot.set_running_from(key)
            clock(f"snapshot {key} saved ({seconds:.1f} s copy)")
        with snapshot.phase("boot to SSH", "setup"):
            _start_nodes(img, accel, config.SSH_TIMEOUT_S, clock)
    with snapshot.phase("baseline from snapshot", "snapshot"):
        took = snapshot.wait_baseline(path, BASELINE_WAIT_S)
    inventory.write({**data, "provision": False}, path)
    clock(f"baseline from snapshot {key} after {took:.0f} s; inventory says provision: false")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    preflight.check_root()
    with state_lock():
        for node in config.NODES:
            if qemu.kill(node):
                print(f"{node.name}: stopped")
            if args.purge:
                qemu.remove_disks(node)
                snapshot.set_running_from(None)
        if args.purge:
            qemu.remove_shared_disks()
        if cable.stop():
            print("serial cable relay: stopped")
        if timeserver.stop(_timeserver_pidfile()):
            print("time server: stopped")
        netns.remove()
    left = netns.leftovers()
    if cable.running_pid():
        left.append("serial cable relay")
    if timeserver.running_pid(_timeserver_pidfile()):
        left.append("time server")
    if left:
        raise LabError(f"still present after down: {', '.join(left)}")
    print("lab down" + (" (overlays and disks purged)" if args.purge else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    preflight.check_root()
    img = active_image()
    print(f"image {img.recipe_hash} ({'ready' if img.is_ready() else 'not built'}) "
          f"in {img.directory}; netns {config.NETNS} "
          f"{'present' if netns.exists() else 'absent'}; build {snapshot.lab_build()}")
    for node in config.NODES:
        pid = qemu.running_pid(node)
        if pid is None:
            print(f"{node.name}: off")
            continue
        answers = netns.exists() and img.is_ready() and ssh_answers(node, img.key, 3)
        print(f"{node.name}: running pid {pid} accel {qemu.node_accel(node, '?')} "
              f"rss {qemu.rss_mib(pid):.0f} MiB ssh {'yes' if answers else 'no'}")
    return 0


def _require_lab() -> image.Image:
    img = active_image()
    if not img.is_ready() or not netns.exists():
        raise LabError("the lab is not up: run python -m lab up")
    return img


def cmd_ssh(args: argparse.Namespace) -> int:
    preflight.check_root()
    img = _require_lab()
    cmd = ssh_command(config.node_by_name(args.node), img.key, args.cmd)
    os.execvp(cmd[0], cmd)
    return 0  # not reached


def cmd_power(args: argparse.Namespace) -> int:
    preflight.check_root()
    node = config.node_by_name(args.node)
    clock = Clock()
    with state_lock():
        if args.state == POWER.inject:
            was = qemu.kill(node)
            print(f"{node.name}: power off" + ("" if was else " (was already off)"))
            return 0
        img = _require_lab()
        if qemu.running_pid(node) is None:
            preflight.check_memory(config.NODE_MEMORY_MIB * 1024**2 + 512 * 1024**2)
        accel = qemu.node_accel(node, "") or accel_mod.choose(img, clock)
        pid = qemu.start(node, img, accel)
        print(f"{node.name}: power on (pid {pid}, {accel})", flush=True)
    if args.wait:
        wait_ssh([node], img.key, args.timeout, clock)
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    """``lab <verb> NODE <state>`` for a fault of lab.qemu.TOGGLES."""
    preflight.check_root()
    node = config.node_by_name(args.node)
    pair = next(p for p in qemu.TOGGLES if p.verb == args.command)
    qemu.TOGGLES[pair].set(node, args.state == pair.inject)
    print(f"{node.name}: {pair.verb} {args.state}")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    preflight.check_root()
    if not netns.exists():
        raise LabError(f"namespace {config.NETNS} does not exist: run python -m lab up")
    cmd = netns.wrap(args.cmd)
    try:
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        raise LabError(f"cannot run {args.cmd[0]}: {exc}") from None
    return 0  # not reached


COMMANDS = {
    "up": cmd_up, "down": cmd_down, "status": cmd_status, "ssh": cmd_ssh,
    "power": cmd_power, "exec": cmd_exec, "snapshot": cmd_snapshot,
    **{pair.verb: cmd_toggle for pair in qemu.TOGGLES},
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a command, turning lab errors into one-line messages."""
    args = parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (LabError, SuiteError) as exc:  # SuiteError: the suite's code the lab calls
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        err = (exc.stderr or b"").decode(errors="replace").strip() if isinstance(
            exc.stderr, bytes) else (exc.stderr or "").strip()
        print(f"lab: error: {' '.join(map(str, exc.cmd))} failed (exit {exc.returncode})"
              + (f": {err.splitlines()[-1]}" if err else ""), file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:  # a wait not yet made a retry loop: one line
        print(f"lab: error: {' '.join(map(str, exc.cmd))} timed out after {exc.timeout:g} s",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: error: interrupted", file=sys.stderr)
        return 130
