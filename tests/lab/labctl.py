"""What the lab tests share: the lab CLI as a user runs it, and a Cluster on the
lab's inventory from inside its network namespace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import netns
from fixtures.cluster import Cluster
from fixtures.inventory import DEFAULT_PATH, load

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


def lab_cluster(*up_args: str) -> Cluster:
    """Bring the lab up and return its cluster, reached from inside the lab's namespace."""
    lab_up(*up_args)
    inventory = load(DEFAULT_PATH)
    netns.enter(inventory.netns)
    return Cluster(inventory)
