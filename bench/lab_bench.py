"""Lab timings: cold image build, warm `up` to SSH, `down`, QEMU RSS per node.

Usage (root): python bench/lab_bench.py [--cold] [--keep-up]
Takes /tmp/ha-vm.lock itself (only one set of lab VMs may run on the host).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lab import config, image, qemu  # noqa: E402

VM_LOCK = "/tmp/ha-vm.lock"


def lab(*args: str) -> tuple[float, str]:
    """Run the lab CLI; return (seconds, stderr)."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True,
                          text=True, check=False)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"lab {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed, proc.stderr


def cold_build() -> float:
    """Build the image from scratch into a throw-away cache dir."""
    tmp = Path(tempfile.mkdtemp(prefix="ha-lab-bench-", dir="/var/tmp"))
    old = os.environ.get("HA_LAB_CACHE")
    os.environ["HA_LAB_CACHE"] = str(tmp)
    try:
        t0 = time.monotonic()
        image.build(image.current_image(), lambda m: print(f"  build: {m}", file=sys.stderr))
        return time.monotonic() - t0
    finally:
        if old is None:
            os.environ.pop("HA_LAB_CACHE", None)
        else:
            os.environ["HA_LAB_CACHE"] = old
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="also time a cold image build")
    parser.add_argument("--keep-up", action="store_true", help="leave the lab up at the end")
    args = parser.parse_args()
    with open(VM_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if args.cold:
            print(f"cold image build: {cold_build():.0f} s", flush=True)
        lab("up")  # make sure the image, overlays and disks exist (warm state)
        lab("down")
        up_s, log = lab("up")
        print(f"warm up (both nodes answer SSH): {up_s:.1f} s")
        for name, secs in re.findall(r"(node\d) answers SSH \((\d+) s after start\)", log):
            print(f"  {name}: SSH {secs} s after QEMU start")
        time.sleep(5)
        for node in config.NODES:
            pid = qemu.running_pid(node)
            if pid:
                print(f"  {node.name}: QEMU pid {pid} RSS {qemu.rss_mib(pid):.0f} MiB")
        down_s, _ = lab("down")
        print(f"down: {down_s:.1f} s")
        if args.keep_up:
            lab("up")
            print("lab left up")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
