"""The lab's helper processes (the cable relay, the time server): started detached
from the CLI that asked for them, found again later through a pid file.

A pid counts only while ``/proc/<pid>/cmdline`` still names the helper's module, so a
stale pid file (after a crash or a kill -9 of the CLI) never points at another process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def running_pid(pid_path: Path, module: str) -> int | None:
    """The pid in ``pid_path`` if that process is ``python -m module``, else None."""
    try:
        pid = int(pid_path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if module.encode() in cmdline else None


def start(module: str, args: Sequence[str], pid_path: Path, prefix: Sequence[str] = ()) -> int:
    """Run ``[*prefix] python -m module *args`` detached unless it already runs; its pid.

    ``prefix`` must exec its command (``ip netns exec NS``) so that the pid written is
    the helper's own.
    """
    pid = running_pid(pid_path, module)
    if pid:
        return pid
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", module, *args], cwd=REPO, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    pid_path.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(pid_path: Path, module: str) -> bool:
    """SIGTERM the helper and forget its pid file; True when one was running."""
    pid = running_pid(pid_path, module)
    if pid:
        os.kill(pid, signal.SIGTERM)
    pid_path.unlink(missing_ok=True)
    return pid is not None
