"""The Vagrant nodes' null-modem cable: the lab's relay (lab/cable.py) on the sockets the
Vagrantfile gives each node's ttyS1 (libvirt provider).

    python -m vagrant.cable up|down [--dir /var/lib/libvirt/qemu]

Start it before ``vagrant up`` (``make vagrant-up`` does); the nodes reconnect to it by
themselves after a power cycle. Errors are one line: ``vagrant.cable: error: ...``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from lab import cable

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = Path(os.environ.get("HA_VAGRANT_CABLE_DIR", "/var/lib/libvirt/qemu"))


def sockets(directory: Path, nodes_file: Path = HERE / "nodes.yaml") -> tuple[Path, Path]:
    """The two ends, named as the Vagrantfile names them: ``ha-cable-<node>.sock``."""
    names = [n["name"] for n in yaml.safe_load(nodes_file.read_text())["nodes"]]
    first, second = (directory / f"ha-cable-{name}.sock" for name in names)
    return first, second


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="vagrant.cable", description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("up", "down"))
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = ap.parse_args(argv)
    ends, pid_path = sockets(args.dir), args.dir / "ha-cable.pid"
    try:
        if args.action == "up":
            args.dir.mkdir(parents=True, exist_ok=True)
            print(f"serial cable relay: pid {cable.start(ends, pid_path)} on "
                  f"{ends[0]} <-> {ends[1]}")
        else:
            print("serial cable relay: " + ("stopped" if cable.stop(ends, pid_path)
                                            else "was not running"))
    except OSError as exc:
        print(f"vagrant.cable: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
