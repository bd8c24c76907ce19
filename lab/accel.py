"""Choose KVM or TCG: KVM only when a probe shows it really boots the image.

/dev/kvm can exist while a stock Debian guest kernel hangs under it (nested
virtualization without the features it needs), so the device alone proves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab import config
from lab.image import Image

PROBE_TIMEOUT_S = 30.0
# systemd prints this on the serial console once the guest reached userspace.
PROBE_MARKER = b"Welcome to Debian"


@dataclass(frozen=True)
class ProbeResult:
    """What the KVM probe saw."""

    kvm_usable: bool  # /dev/kvm present and openable
    booted: bool | None  # marker seen within the limit; None when not probed
    detail: str = ""


def decide(result: ProbeResult, override: str | None = None) -> str:
    """Return "kvm" or "tcg" from the probe result (pure).

    An explicit override (env HA_LAB_ACCEL) wins; KVM needs both a usable device
    and a probe boot that reached userspace.
    """
    if override in ("kvm", "tcg"):
        return override
    if result.kvm_usable and result.booted:
        return "kvm"
    return "tcg"


def kvm_device_usable(dev: str = "/dev/kvm") -> bool:
    """True when /dev/kvm can be opened read-write."""
    try:
        fd = os.open(dev, os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def verdict_path(image: Image) -> Path:
    """Cached verdict, keyed on the host kernel (the thing that decides KVM's fate)."""
    key = hashlib.sha256(f"{platform.release()} {platform.version()}".encode()).hexdigest()[:12]
    return config.cache_root() / f"accel-{key}-{image.recipe_hash}.json"


def run_probe(image: Image, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Boot the image under KVM (snapshot mode, no network) and wait for the marker."""
    if not kvm_device_usable():
        return ProbeResult(False, None, "/dev/kvm missing or not accessible")
    with tempfile.TemporaryDirectory(prefix="ha-lab-kvm-probe-") as tmp:
        log = Path(tmp) / "console.log"
        cmd = [
            "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "512", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-snapshot",
            "-kernel", str(image.kernel), "-initrd", str(image.initrd),
            "-append", "root=/dev/vda rw console=ttyS0,115200 net.ifnames=0",
            "-drive", f"file={image.base},if=virtio,format=qcow2",
            "-serial", f"file:{log}",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        booted = False
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if log.exists() and PROBE_MARKER in log.read_bytes():
                    booted = True
                    break
                time.sleep(0.5)
        finally:
            proc.kill()
            proc.wait()
        early_exit = proc.returncode not in (None, -9)
        if booted:
            detail = "booted"
        elif early_exit:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            detail = f"QEMU exited with {proc.returncode}: {err[-300:]}"
        else:
            detail = f"no {PROBE_MARKER.decode()!r} on the console within {timeout:.0f} s"
        return ProbeResult(True, booted, detail)


def choose(image: Image, progress: object = None) -> str:
    """Accelerator for this host, probing once per host kernel and caching the verdict."""
    override = os.environ.get("HA_LAB_ACCEL")
    if override in ("kvm", "tcg"):
        return override
    path = verdict_path(image)
    if path.exists():
        try:
            return json.loads(path.read_text())["accel"]
        except (ValueError, KeyError):
            pass
    if callable(progress):
        progress(f"probing KVM (boot under KVM, up to {PROBE_TIMEOUT_S:.0f} s)")
    result = run_probe(image)
    accel = decide(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"accel": accel, "kvm_usable": result.kvm_usable,
                                "booted": result.booted, "detail": result.detail,
                                "kernel": platform.release()}, indent=2))
    return accel
