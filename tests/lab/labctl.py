"""What the lab tests share: the lab CLI as a user runs it, and a Cluster on the
lab's inventory from inside its network namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.access import netns
from fixtures.access.inventory import DEFAULT_PATH, load
from fixtures.resources.cluster import Cluster

REPO = Path(__file__).resolve().parents[2]

# every lab test: slow (boots VMs), and only as root (namespaces, taps)
LAB_MARKS = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root"),
]


def lab_up(*args: str, timeout: float = 900) -> None:
    """``python -m lab up [args]``; fails the test with the CLI's one-line error."""
    proc = subprocess.run([sys.executable, "-m", "lab", "up", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"lab up {' '.join(args)}: {proc.stderr.strip()}"


def lab_cluster(*up_args: str, manager: str = "heartbeat") -> Cluster:
    """Bring the lab up for ``manager`` (the lab keeps its last one otherwise) and return
    its cluster, reached from inside the lab's namespace."""
    lab_up(*up_args, "--manager", manager)
    inventory = load(DEFAULT_PATH)
    assert inventory.cluster_manager == manager, (
        f"lab up --manager {manager} wrote an inventory for {inventory.cluster_manager}")
    netns.enter(inventory.netns)
    return Cluster(inventory)


def run_control(select: str, tmp_path: Path, read_only: bool = False) -> dict[str, dict]:
    """Run the suites' tests matching ``select`` (-k) on the lab as it is, without
    provisioning, as a user would; return the report's controls by id."""
    reports = tmp_path / "reports"
    only = ["-m", "not disruptive"] if read_only else []
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-k", select, *only, "--no-provision",
         "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    data = json.loads((reports / "latest" / "compliance.json").read_text())
    controls = {c["id"]: c for c in data["controls"]}
    controls["_output"] = {"stdout": proc.stdout[-3000:]}
    return controls
