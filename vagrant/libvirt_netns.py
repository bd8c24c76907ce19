"""libvirtd inside a network namespace of its own, for hosts where the Vagrant nodes'
networks must not touch the host's (vagrant/README.md, "What was proven").

    python -m vagrant.libvirt_netns up|down|status [--netns havagrant]

``up`` makes the namespace (loopback only, no route out), starts virtlogd and libvirtd in
it, an SNTP server for the nodes (lab/timeserver.py), and defines the ``default`` storage
pool that vagrant-libvirt uploads boxes to. Every
bridge and dnsmasq that libvirt later creates for the Vagrant networks then lives in the
namespace, while libvirtd's unix sockets (not namespaced) serve ``virsh`` and Vagrant from
anywhere. SSH to the nodes goes through the namespace: run Vagrant with
``ip netns exec NETNS`` and give the inventory ``--netns NETNS``. ``down`` stops both
daemons and deletes the namespace; the domains must be destroyed first (``vagrant destroy``).
Errors are one line: ``vagrant.libvirt_netns: error: ...``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab import timeserver

DEFAULT_NETNS = "havagrant"
RUN_DIR = Path("/run/ha-vagrant")
POOL_DIR = "/var/lib/libvirt/images"
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
# QEMU must read the box's kernel under root's home and the serial cable's socket
QEMU_CONF_NEEDS = {"user": '"root"', "group": '"root"', "security_driver": '"none"'}
DAEMONS = ("virtlogd", "libvirtd")


class HostError(Exception):
    """One line for the user."""


def _run(*cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise HostError(f"{cmd[0]} not found (Debian packages: libvirt-daemon-system "
                        "libvirt-clients iproute2)") from exc
    except subprocess.TimeoutExpired as exc:
        raise HostError(f"{' '.join(cmd)}: no answer within {timeout:.0f}s") from exc
    if check and proc.returncode != 0:
        why = (proc.stderr or proc.stdout).strip().splitlines()
        raise HostError(f"{' '.join(cmd)}: {why[-1] if why else f'exit {proc.returncode}'}")
    return proc


def _pid(daemon: str) -> int | None:
    try:
        pid = int((RUN_DIR / f"{daemon}.pid").read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def qemu_conf_problems(text: str) -> list[str]:
    """The settings of ``QEMU_CONF_NEEDS`` that qemu.conf lacks.

    >>> qemu_conf_problems('user = "root"\\ngroup = "root"\\n#security_driver = "none"')
    ['security_driver = "none"']
    """
    found = {}
    for line in text.splitlines():
        key, sep, value = line.split("#", 1)[0].partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return [f"{k} = {v}" for k, v in QEMU_CONF_NEEDS.items() if found.get(k) != v]


def netns_exists(netns: str) -> bool:
    return netns in _run("ip", "netns", "list").stdout.split()


def up(netns: str) -> None:
    if os.geteuid() != 0:
        raise HostError("needs root (network namespace, libvirtd)")
    for tool in DAEMONS + ("virsh",):
        if shutil.which(tool) is None:
            raise HostError(f"{tool} not found (Debian packages: libvirt-daemon-system "
                            "libvirt-clients)")
    missing = qemu_conf_problems(QEMU_CONF.read_text()) if QEMU_CONF.exists() else ["qemu.conf"]
    if missing:
        raise HostError(f"{QEMU_CONF} needs: {'; '.join(missing)}")
    outside = _run("pgrep", "-x", "libvirtd", check=False).stdout.split()
    if outside and not _pid("libvirtd"):
        raise HostError(f"libvirtd already runs (pid {outside[0]}) outside {netns}: "
                        "stop it first (systemctl stop libvirtd)")
    if not netns_exists(netns):
        _run("ip", "netns", "add", netns)
    _run("ip", "-n", netns, "link", "set", "lo", "up")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    for daemon in DAEMONS:
        if _pid(daemon) is None:
            _run("ip", "netns", "exec", netns, daemon, "--daemon",
                 "--pid-file", str(RUN_DIR / f"{daemon}.pid"))
    deadline = time.monotonic() + 30
    while _run("virsh", "-c", "qemu:///system", "version", check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise HostError("libvirtd does not answer on qemu:///system after 30s")
        time.sleep(1)
    pools = _run("virsh", "-c", "qemu:///system", "pool-list", "--all", "--name").stdout.split()
    if "default" not in pools:
        _run("virsh", "-c", "qemu:///system", "pool-define-as", "default", "dir",
             "--target", POOL_DIR)
        _run("virsh", "-c", "qemu:///system", "pool-build", "default")
    _run("virsh", "-c", "qemu:///system", "pool-start", "default", check=False)
    _run("virsh", "-c", "qemu:///system", "pool-autostart", "default", check=False)
    # the nodes' NTP server on the host end of their network (inventory time_server)
    timeserver.start(netns, RUN_DIR / "timeserver.pid")
    print(f"libvirtd runs in network namespace {netns}: run Vagrant with "
          f"`ip netns exec {netns} vagrant ...`, the inventory with --netns {netns}")


def down(netns: str) -> None:
    running = _run("virsh", "-c", "qemu:///system", "list", "--name",
                   check=False).stdout.split() if _pid("libvirtd") else []
    if running:
        raise HostError(f"domains still run: {', '.join(running)} (vagrant destroy -f first)")
    timeserver.stop(RUN_DIR / "timeserver.pid")
    for daemon in reversed(DAEMONS):
        pid = _pid(daemon)
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if _pid(daemon) is None:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        (RUN_DIR / f"{daemon}.pid").unlink(missing_ok=True)
    if netns_exists(netns):
        _run("ip", "netns", "delete", netns)
    print(f"libvirtd stopped, namespace {netns} removed")


def status(netns: str) -> None:
    print(f"namespace {netns}: {'present' if netns_exists(netns) else 'absent'}")
    for daemon in DAEMONS:
        pid = _pid(daemon)
        print(f"{daemon}: {'pid ' + str(pid) if pid else 'not running'}")
    pid = timeserver.running_pid(RUN_DIR / "timeserver.pid")
    print(f"time server: {'pid ' + str(pid) if pid else 'not running'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="vagrant.libvirt_netns",
                                 description="libvirtd in a network namespace of its own")
    ap.add_argument("action", choices=("up", "down", "status"))
    ap.add_argument("--netns", default=DEFAULT_NETNS)
    args = ap.parse_args(argv)
    try:
        {"up": up, "down": down, "status": status}[args.action](args.netns)
    except HostError as exc:
        print(f"vagrant.libvirt_netns: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
