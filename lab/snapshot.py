"""The provisioned-baseline snapshot, and the record of the lab's setup phases.

Once provisioning has reached the baseline, both nodes are shut down cleanly (DRBD writes
its metadata, ext3 is unmounted) and their disks are copied, sparse, to
``<state>/snapshots/<key>/``. The key hashes everything that shaped those disks: the
image recipe, the provisioning code and templates (``fixtures/provision/``, each cluster
manager's ``provision.py`` and ``templates/`` under ``fixtures/managers/``), the profile,
the cluster manager and the lab's inventory minus its volatile parts (budgets, the
provision flag). The next ``lab up`` with the same key starts the nodes from those disks
(or keeps nodes that already run from them) and writes the inventory with
``provision: false``; any key change provisions again. One snapshot is kept.

Setup phases (lab up, snapshot restore, calibration, provisioning, snapshot save) go to
``<state>/setup-phases.json`` as ``[{name, kind, started, ended}]`` (epoch seconds), which
``make acceptance`` hands to pytest as ``HA_SETUP_PHASES`` for the report's "where the
time went".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from lab import config
from lab.config import LabNode
from lab.errors import LabError

FIXTURES_DIR = config.REPO_ROOT / "fixtures"
# what provisioning runs, under FIXTURES_DIR: its own package, each manager's steps and templates
PROVISIONING = ("provision", "managers/*/provision.py", "managers/*/templates")
DISK_NAMES = ("root.qcow2", "data.raw")  # per node
SHARED_DIR = "shared"  # in a snapshot: the disks both nodes attach (the SBD disk)
# inventory keys that change between runs without changing what provisioning builds
VOLATILE = ("budgets", "provision")


def snapshots_root() -> Path:
    return config.state_root() / "snapshots"


def current_record() -> Path:
    """Names the snapshot the running nodes' disks came from (absent: provisioned by hand,
    blank, or changed since)."""
    return config.state_root() / "baseline-from"


def build_record() -> Path:
    """The build (lab/builds.py: a cluster manager, or a foreign build) the lab was last
    brought up for: its disks are set up for it."""
    return config.state_root() / "manager"


def lab_build() -> str:
    """The lab's current build; a lab from before the record ran Heartbeat."""
    return config.read_record(build_record()) or "heartbeat"


def set_lab_build(build: str) -> None:
    config.write_record(build_record(), build)


def build_switch(previous: str, requested: str, have_disks: bool,
                 snapshot_usable: bool) -> str:
    """What ``lab up`` does with the nodes' disks (pure): ``keep`` them (same build, or
    nothing to keep), ``restore`` the requested build's snapshot, or start from ``blank``
    disks, so that one build never starts from nodes set up for another.

    >>> build_switch("heartbeat", "pacemaker", True, False)
    'blank'
    """
    if previous == requested or not have_disks:
        return "keep"
    return "restore" if snapshot_usable else "blank"


def phases_path() -> Path:
    return config.state_root() / "setup-phases.json"


def tree_hash(root: Path, parts: Sequence[str] = ()) -> str:
    """sha256 over the relative paths and contents of every file under ``root``, or only
    under ``parts`` of it (glob patterns relative to ``root``: files or folders)."""
    digest = hashlib.sha256()
    tops = [p for pattern in parts for p in root.glob(pattern)] if parts else [root]
    files = {f for top in tops for f in (top.rglob("*") if top.is_dir() else [top])}
    for path in sorted(p for p in files if p.is_file()):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def key_inputs(image_hash: str, inventory: Mapping[str, object],
               provision_hash: str | None = None) -> dict[str, object]:
    """What shaped the provisioned disks (pure apart from hashing the provisioning code)."""
    stable = {k: v for k, v in inventory.items() if k not in VOLATILE}
    return {
        "image": image_hash,
        "provisioning": provision_hash or tree_hash(FIXTURES_DIR, PROVISIONING),
        "profile": inventory.get("profile", "hardened"),
        "manager": inventory.get("cluster_manager", "heartbeat"),
        "inventory": stable,
    }


def key_of(inputs: Mapping[str, object]) -> str:
    """Short stable hash of the key inputs.

    >>> key_of({"a": 1, "b": [2]}) == key_of({"b": [2], "a": 1})
    True
    """
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def directory(key: str) -> Path:
    return snapshots_root() / key


def present(key: str) -> bool:
    """True when a complete snapshot for ``key`` exists."""
    return (directory(key) / "saved.json").is_file()


def running_from() -> str | None:
    """The key the running nodes' disks came from, if recorded."""
    return config.read_record(current_record())


def set_running_from(key: str | None) -> None:
    config.write_record(current_record(), key)


def _copy(src: Path, dst: Path) -> None:
    # sparse: the data disk is 1 GiB of mostly zeros after DRBD's initial sync
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(src), str(dst)],
                   check=True, capture_output=True, timeout=600)


def save(key: str, inputs: Mapping[str, object], node_dirs: Mapping[str, Path],
         shared: Sequence[Path] = ()) -> float:
    """Copy the (stopped) nodes' disks, and the ``shared`` ones both attach (the SBD disk:
    its slots and header belong to the provisioned cluster), into the snapshot for ``key``;
    keep only this one. Return the seconds the copy took."""
    start = time.monotonic()
    target = directory(key)
    tmp = target.with_name(key + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, src in node_dirs.items():
        (tmp / name).mkdir(parents=True)
        for disk in DISK_NAMES:
            _copy(src / disk, tmp / name / disk)
    (tmp / SHARED_DIR).mkdir(parents=True)
    for disk_path in shared:
        _copy(disk_path, tmp / SHARED_DIR / disk_path.name)
    seconds = round(time.monotonic() - start, 1)
    (tmp / "key.json").write_text(json.dumps(inputs, indent=1, sort_keys=True) + "\n")
    (tmp / "saved.json").write_text(json.dumps({"key": key, "saved": time.time(),
                                                "copy_seconds": seconds}) + "\n")
    for old in snapshots_root().iterdir():
        if old != tmp:
            shutil.rmtree(old, ignore_errors=True)
    tmp.rename(target)
    return seconds


def restore(key: str, node_dirs: Mapping[str, Path], shared: Sequence[Path] = ()) -> float:
    """Copy the snapshot's disks over the (stopped) nodes' disks and the ``shared`` ones;
    return seconds."""
    if not present(key):
        raise LabError(f"no snapshot {key} under {snapshots_root()}")
    missing = [p.name for p in shared if not (directory(key) / SHARED_DIR / p.name).is_file()]
    if missing:
        raise LabError(f"snapshot {key} lacks {', '.join(missing)}: drop it "
                       "(python -m lab snapshot drop)")
    start = time.monotonic()
    for disk_path in shared:
        disk_path.unlink(missing_ok=True)
        _copy(directory(key) / SHARED_DIR / disk_path.name, disk_path)
    for name, dst in node_dirs.items():
        dst.mkdir(parents=True, exist_ok=True)
        for disk in DISK_NAMES:
            (dst / disk).unlink(missing_ok=True)
            _copy(directory(key) / name / disk, dst / disk)
    return round(time.monotonic() - start, 1)


def drop() -> list[str]:
    """Delete every snapshot; return the keys removed."""
    if not snapshots_root().is_dir():
        return []
    keys = [p.name for p in snapshots_root().iterdir()]
    shutil.rmtree(snapshots_root())
    set_running_from(None)
    return keys


def node_dirs(nodes: tuple[LabNode, ...]) -> dict[str, Path]:
    return {n.name: config.node_state_dir(n) for n in nodes}


# -- setup phases ---------------------------------------------------------------------

def start_phases() -> None:
    """A new run of setup commands: forget the phases of the previous one."""
    phases_path().parent.mkdir(parents=True, exist_ok=True)
    phases_path().write_text("[]\n")


def read_phases(path: Path | None = None) -> list[dict[str, object]]:
    try:
        data = json.loads((path or phases_path()).read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


@contextlib.contextmanager
def phase(name: str, kind: str) -> Iterator[None]:
    """Append ``{name, kind, started, ended}`` to the phases file once the stretch ends
    (ended stays null when it raised)."""
    entry: dict[str, object] = {"name": name, "kind": kind, "started": round(time.time(), 2),
                                "ended": None}
    try:
        yield
        entry["ended"] = round(time.time(), 2)
    finally:
        phases = read_phases()
        phases.append(entry)
        phases_path().parent.mkdir(parents=True, exist_ok=True)
        tmp = phases_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(phases, indent=1) + "\n")
        tmp.replace(phases_path())


# -- the cluster, reached from a thread inside the lab's namespace ---------------------

def _in_netns(fn):
    """Run ``fn()`` in a thread that joined the lab's namespace (setns is per thread, so
    the CLI itself stays in the root namespace) and return its result."""
    from concurrent.futures import ThreadPoolExecutor

    from fixtures.access import netns as fx_netns

    def call():
        fx_netns.enter(config.NETNS)
        return fn()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def _cluster(inventory_path: Path):
    from fixtures.access.inventory import load
    from fixtures.resources.cluster import Cluster

    return Cluster(load(inventory_path))


def wait_baseline(inventory_path: Path, timeout: float) -> float:
    """Wait until the lab cluster is at its baseline (fixtures/faults/baseline.py); return the
    seconds it took. Raises LabError naming what differs."""
    from fixtures.faults import baseline

    def run() -> float:
        cluster = _cluster(inventory_path)
        try:
            return baseline.wait(cluster, timeout=timeout)
        except baseline.BaselineError as exc:
            raise LabError(str(exc)) from None
        finally:
            cluster.close()
    return _in_netns(run)


def provision(inventory_path: Path, log) -> float:
    """Provision the lab cluster up to its baseline (fixtures/provision); return seconds."""
    from fixtures.access.node import NodeError
    from fixtures.faults import baseline
    from fixtures.provision.run import ProvisionRefused
    from fixtures.provision.run import provision as run_provision

    def run() -> float:
        cluster = _cluster(inventory_path)
        try:
            result = run_provision(cluster, log=log)
        except (ProvisionRefused, NodeError, baseline.BaselineError, TimeoutError) as exc:
            raise LabError(f"provisioning failed: {exc}") from None
        finally:
            cluster.close()
        log(result.summary())
        return result.seconds
    return _in_netns(run)
