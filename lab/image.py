"""Node image recipe, its hash, and the mmdebstrap build into the cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lab import config
from lab.errors import LabError

# Bump when the build procedure changes in a way the recipe files do not show.
BUILDER_VERSION = "4"
SUITE = "bookworm"
ROOT_FS_BYTES = 4 * 1024**3

PACKAGES: tuple[str, ...] = (
    "linux-image-amd64",  # carries the in-kernel DRBD 8.4 module
    "systemd-sysv",
    "udev",
    "dbus",
    "openssh-server",
    "drbd-utils",
    "heartbeat",
    "resource-agents",
    # Corosync + Pacemaker beside Heartbeat: the same image serves either manager, and a
    # migration from one to the other can be rehearsed in place without a network.
    "corosync",
    "pacemaker",
    "pacemaker-cli-utils",
    "crmsh",
    "sbd",  # fencing on the shared disk; it owns /dev/watchdog (no `watchdog` daemon)
    "fence-agents",  # fence_sbd
    "pcs",  # the pcs-built cluster (lab/builds/), as ClusterLabs' guides set one up
    "xfsprogs",  # the pcs-built cluster's file system
    "sudo",  # the site-access build: an admin reaches root through sudo -n
    "samba",
    "smbclient",
    "libvirt-daemon-system",
    "libvirt-daemon-driver-qemu",
    "libvirt-clients",
    "qemu-system-x86",
    "busybox-static",
    "cpio",
    "chrony",
    "iproute2",
    "ifupdown",
    "iputils-ping",
    "kmod",
    "procps",
    "psmisc",
    "e2fsprogs",
    "netcat-openbsd",
    "socat",
    "python3",  # testinfra runs some modules with it
    "less",
)

# Files under lab/files that go into the image (the customize hook copies them).
IMAGE_FILES: tuple[str, ...] = (
    "customize.sh",
    "halab-firstboot",
    "halab-firstboot.service",
    "sshd-halab.conf",
    "fstab",
    "drbd-halab.conf",
    "journald-halab.conf",
)

# Docs, man pages and translations are dead weight on a lab node.
DPKG_EXCLUDES: tuple[str, ...] = (
    "path-exclude=/usr/share/doc/*",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Image:
    """A built image in the cache: base disk, direct-boot kernel and the lab SSH key."""

    directory: Path
    recipe_hash: str

    @property
    def base(self) -> Path:
        return self.directory / "base.qcow2"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def ready_marker(self) -> Path:
        return self.directory / "READY"

    def is_ready(self) -> bool:
        """True when a previous build completed."""
        return self.ready_marker.exists()


def render_hosts() -> str:
    """The /etc/hosts of both nodes."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(config.TEMPLATES_DIR)),
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("hosts.j2").render(nodes=config.NODES)


def recipe(files_dir: Path | None = None) -> dict[str, object]:
    """Everything that determines the image content, as a JSON-able dict."""
    files_dir = files_dir or config.FILES_DIR
    return {
        "builder": BUILDER_VERSION,
        "suite": SUITE,
        "packages": sorted(PACKAGES),
        "dpkg_excludes": list(DPKG_EXCLUDES),
        "root_fs_bytes": ROOT_FS_BYTES,
        "files": {
            name: hashlib.sha256((files_dir / name).read_bytes()).hexdigest()
            for name in sorted(IMAGE_FILES)
        },
        "hosts": hashlib.sha256(render_hosts().encode()).hexdigest(),
    }


def recipe_hash(rec: dict[str, object] | None = None) -> str:
    """Short stable hash of the recipe: the cache key."""
    rec = recipe() if rec is None else rec
    blob = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def current_image() -> Image:
    """The image the current recipe maps to (built or not)."""
    h = recipe_hash()
    return Image(config.cache_root() / h, h)


def _deb822_entries(text: str) -> list[dict[str, str]]:
    """Parse deb822 stanzas into dicts (enough for Types/URIs/Suites/Components)."""
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields:
            entries.append(fields)
    return entries


def host_mirrors(apt_dir: Path = Path("/etc/apt")) -> list[str]:
    """The host's Debian bookworm sources as one-line entries for mmdebstrap.

    Reusing the host's mirror means the build goes wherever apt already goes.
    """
    lines: list[str] = []
    wanted = {SUITE, f"{SUITE}-updates", f"{SUITE}-security"}
    candidates: list[tuple[str, str]] = []  # (uri, suite)
    for path in sorted(apt_dir.glob("sources.list.d/*.sources")):
        for entry in _deb822_entries(path.read_text(errors="replace")):
            if "deb" not in entry.get("types", "").split():
                continue
            for uri in entry.get("uris", "").split():
                for suite in entry.get("suites", "").split():
                    candidates.append((uri, suite))
    list_files = [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]
    for path in list_files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if m:
                candidates.append((m.group(1), m.group(2)))
    for uri, suite in candidates:
        if suite in wanted and "debian" in uri:
            line = f"deb {uri} {suite} main"
            if line not in lines:
                lines.append(line)
    if not any(line.endswith(f" {SUITE} main") for line in lines):
        lines.insert(0, f"deb http://deb.debian.org/debian {SUITE} main")
    return lines


def mmdebstrap_command(root: Path, work: Path, mirrors: list[str]) -> list[str]:
    """Command line that bootstraps and customizes the node tree into ``root``."""
    files = config.FILES_DIR
    hook = (
        f'sh {files / "customize.sh"} "$1" {files} {work / "hosts"} {work / "id_ed25519.pub"}'
    )
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--mode=root",
        "--format=directory",
        "--aptopt=APT::Install-Recommends \"false\"",
        f"--include={','.join(PACKAGES)}",
        *[f"--dpkgopt={opt}" for opt in DPKG_EXCLUDES],
        f"--customize-hook={hook}",
        SUITE,
        str(root),
        *mirrors,
    ]
    return cmd


def _run(cmd: list[str], what: str, log: Path) -> None:
    """Run a build step, its output to the build log; fail with the log's tail."""
    with log.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
    if rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise LabError(f"{what} failed (exit {rc}, log {log}): {' | '.join(tail)}")


def _du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def build(image: Image, progress: Progress) -> Image:
    """Build ``image`` unless already built; safe against a crashed earlier build."""
    if image.is_ready():
        return image
    cache = image.directory.parent
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".build-{image.recipe_hash}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = work / "build.log"
    root = work / "root"
    try:
        t0 = time.monotonic()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ha-lab", "-f",
             str(work / "id_ed25519")],
            check=True, capture_output=True,
        )
        (work / "hosts").write_text(render_hosts())
        progress("bootstrapping Debian packages with mmdebstrap (about 1-2 min)")
        _run(mmdebstrap_command(root, work, host_mirrors()), "mmdebstrap", log)
        progress(f"bootstrap done in {time.monotonic() - t0:.0f} s; making the ext4 disk")
        kernels = sorted((root / "boot").glob("vmlinuz-*"))
        initrds = sorted((root / "boot").glob("initrd.img-*"))
        if not kernels or not initrds:
            raise LabError(f"no kernel/initrd in the built tree (log {log})")
        shutil.copy2(kernels[-1], work / "vmlinuz")
        shutil.copy2(initrds[-1], work / "initrd.img")
        size = max(ROOT_FS_BYTES, _du_bytes(root) * 2)
        raw = work / "root.raw"
        with raw.open("wb") as fh:
            fh.truncate(size)
        _run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "halab-root", "-d", str(root),
              str(raw)], "mke2fs", log)
        shutil.rmtree(root)
        _run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(work / "base.qcow2")],
             "qemu-img convert", log)
        raw.unlink()
        (work / "recipe.json").write_text(json.dumps(recipe(), indent=2, sort_keys=True))
        (work / "READY").write_text(f"built in {time.monotonic() - t0:.0f} s\n")
        if image.directory.exists():
            shutil.rmtree(image.directory)
        work.rename(image.directory)
        progress(f"image {image.recipe_hash} built in {time.monotonic() - t0:.0f} s")
    finally:
        if work.exists():
            # Keep the log of a failed build next to the cache for inspection.
            if log.exists():
                shutil.copy2(log, cache / f"build-{image.recipe_hash}.failed.log")
            shutil.rmtree(work, ignore_errors=True)
    return image
