"""The inventory the suites read (fixtures/inventory.py schema; no extra keys)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import yaml

from lab import config
from lab.config import Node

PROFILES = ("article", "hardened")


def fault_command(python: str, repo: Path, *args: str) -> str:
    """A self-contained shell command running the lab CLI from ``repo``."""
    cli = " ".join(shlex.quote(a) for a in (python, "-m", "lab", *args))
    return f"cd {shlex.quote(str(repo))} && {cli}"


def node_entry(node: Node, key: Path, python: str, repo: Path) -> dict[str, object]:
    """Inventory entry of one node."""
    return {
        "name": node.name,
        "address": node.address,
        "interface": "eth0",
        "preferred_primary": node.preferred_primary,
        "disk": "/dev/vdb",
        "serial": "/dev/ttyS1",
        "ssh": {"user": "root", "port": 22, "key": str(key)},
        "faults": {
            "power_off": fault_command(python, repo, "power", node.name, "off"),
            "power_on": fault_command(python, repo, "power", node.name, "on"),
            "link_down": fault_command(python, repo, "link", node.name, "down"),
            "link_up": fault_command(python, repo, "link", node.name, "up"),
        },
    }


def build(key: Path, accel: str, profile: str = "hardened", python: str | None = None,
          repo: Path | None = None) -> dict[str, object]:
    """The inventory as a dict (pure)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    python = python or config.python_executable()
    repo = repo or config.REPO_ROOT
    return {
        "cluster": "lab",
        "profile": profile,
        "disposable": True,
        "provision": True,
        "netns": config.NETNS,
        "nodes": [node_entry(n, key, python, repo) for n in config.NODES],
        "network": {
            "netmask": config.NETMASK,
            "virtual_ip": config.VIRTUAL_IP,
            "ping_node": config.HOST_ADDRESS,
            "time_server": config.HOST_ADDRESS,  # lab/timeserver.py
        },
        "budgets": {"scale": config.TCG_BUDGET_SCALE if accel == "tcg" else 1.0},
    }


def dump(inventory: dict[str, object]) -> str:
    """YAML text in the order the suites' docs show it."""
    return yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)


def write(inventory: dict[str, object], path: Path | None = None) -> Path:
    """Write atomically so a reader never sees half a file."""
    path = path or config.inventory_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dump(inventory))
    os.replace(tmp, path)
    return path
