"""The rehearsed migration Heartbeat → Corosync + Pacemaker on the lab (issue 12).

``python -m lab.rehearse [--out DIR] [--files N] [--seed N] [--read-only] [--keep-lab]`` (root;
``make rehearse-migration``), end to end, every step printed with its duration:

1. ``lab up --manager heartbeat`` and the provisioned-baseline snapshot (as ``make
   acceptance``), the suite on the Heartbeat cluster, then a data set written through
   the VIP (files of known sha256, and the VM disk's checksum read on the active node);
   its manifest is kept in the rehearsal directory;
2. the same nodes migrated in place, in one maintenance window, by the runbook of
   ``fixtures/migration/migrate.py``, while a client in the lab's namespace writes through the
   VIP every 0.5 s: the downtime is what it saw;
3. the suite on the migrated cluster (an inventory beside the lab's,
   ``inventory-migrated.yaml``: the same nodes, ``cluster_manager: pacemaker``, SBD),
   then every file of the data set read back through the VIP (counted intact, missing,
   corrupt, unreadable), the VM disk compared and its console banner read on VIP:902;
4. the comparison of the two runs, with the change record (``change.json`` in the second
   run's directory: steps and durations, downtime, data set counts) at its top.

At the end the lab is put back: ``lab down --purge`` (the migrated disks are not the
Heartbeat baseline and must never pass for it; the snapshots stay, so the next ``lab up``
restores the Heartbeat one, or provisions Pacemaker from blank disks).
Errors are one line, ``rehearse: error: ...``, exit 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import yaml

from lab import config, qemu
from lab import inventory as lab_inventory

MIGRATED_NAME = "inventory-migrated.yaml"
SUITE_TIMEOUT_S = 3 * 3600.0
LAB_TIMEOUT_S = 1800.0
BASELINE_S = 600.0
BACK_S = 180.0  # the client must be served again this long after the window at most
TITLE = "Heartbeat 3.0.6 to Corosync + Pacemaker + SBD, in place, one maintenance window"


class RehearsalError(Exception):
    """A step of the rehearsal failed (one line)."""


# -- pure parts ----------------------------------------------------------------------------


def migrated_inventory(raw: dict, fencing: dict) -> dict:
    """The lab's inventory moved to Pacemaker: the same nodes, ``cluster_manager:
    pacemaker``, the lab's ``fencing`` for Pacemaker (lab.inventory.pacemaker_fencing: the
    same a Pacemaker lab gets, or the fence race is lost on TCG) over any the inventory had,
    nothing to provision (pure)."""
    out = {k: v for k, v in raw.items() if k not in ("cluster_manager", "fencing", "provision")}
    out["cluster_manager"] = "pacemaker"
    out["fencing"] = {**(raw.get("fencing") or {}), **fencing}
    out["provision"] = False
    return out


def regressions(before: dict, after: dict) -> list[str]:
    """Controls that passed before the change and failed after it (compliance.json docs)."""
    was = {c["id"]: c.get("status") for c in before.get("controls", [])}
    return [c["id"] for c in after.get("controls", [])
            if c.get("status") == "failed" and was.get(c["id"]) == "passed"]


def change_record(started: float, ended: float, steps: list[dict], down: dict | None,
                  check: dict | None, vm_note: str, vm_ok: bool, checks: list[dict],
                  total_bytes: int, interval: float) -> dict:
    """The change record the comparison shows (fixtures.report.changes.normalise_change)."""
    rec: dict = {
        "kind": "migration", "title": TITLE,
        "description": "The same two lab nodes moved from Heartbeat v1 to Corosync + Pacemaker "
                       "+ SBD by fixtures/migration/migrate.py's runbook: Heartbeat stopped on "
                       "node 2 then node 1 and disabled, DRBD kept (adjusted, never re-created), "
                       "corosync/sbd/pacemaker configured, enabled and started, the CIB "
                       "loaded, the group back on node 1.",
        "started": started, "ended": ended, "steps": steps, "checks": checks,
    }
    if down is not None:
        rec["downtime"] = {"seconds": down["seconds"], "longest": down["longest"],
                           "outages": down["outages"],
                           "method": f"an SMB client in the lab's namespace wrote a file through "
                                     f"the VIP every {interval:g} s ({down['writes']} "
                                     f"acknowledged, {down['failures']} failed); an outage runs "
                                     "from the last acknowledged write before a failure to the "
                                     "first one after it"}
    if check is not None:
        rec["dataset"] = {**check, "bytes": total_bytes, "vm_disk": vm_note, "vm_ok": vm_ok}
    return rec


# -- running -------------------------------------------------------------------------------


class Rehearsal:
    def __init__(self, out: Path, files: int, seed: int, keep_lab: bool,
                 print_: Callable[[str], None] | None = None, read_only: bool = False):
        self.out, self.files, self.seed, self.keep_lab = out, files, seed, keep_lab
        self.read_only = read_only
        self.t0 = time.monotonic()
        self.steps: list[dict] = []
        self._print = print_ or (lambda s: print(s, flush=True))
        self.runs = out / "runs"
        self.state: dict = {"out": str(out), "read_only": read_only, "files": files,
                            "seed": seed, "steps": self.steps}

    def say(self, message: str) -> None:
        self._print(f"[rehearse {time.monotonic() - self.t0:6.0f}s] {message}")

    @contextmanager
    def step(self, title: str) -> Iterator[dict]:
        rec: dict = {"title": title, "started": time.time(), "seconds": 0.0, "ok": False,
                     "note": ""}
        self.steps.append(rec)
        self.say(f"{title} ...")
        t = time.monotonic()
        try:
            yield rec
            rec["ok"] = True
        except Exception as exc:
            rec["note"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise
        finally:
            rec["seconds"] = round(time.monotonic() - t, 1)
            self.say(f"{title}: {'done' if rec['ok'] else 'FAILED'} in {rec['seconds']:.1f} s"
                     + (f" ({rec['note']})" if rec["note"] else ""))
            self.save_state()

    def save_state(self) -> None:
        from fixtures.report import output

        output.write_json(self.out / "rehearsal.json", self.state)

    # -- host commands --------------------------------------------------------------
    def sh(self, args: list[str], log: str, timeout: float, ok=(0,),
           env: dict | None = None) -> int:
        """Run a host command (output to ``log`` in the rehearsal dir); RehearsalError with
        its last error line unless its exit status is in ``ok``."""
        path = self.out / log
        with path.open("ab") as fh:
            fh.write(f"$ {' '.join(args)}\n".encode())
            fh.flush()
            try:
                proc = subprocess.run(args, cwd=config.REPO_ROOT, stdout=fh,
                                      stderr=subprocess.STDOUT, timeout=timeout,
                                      env={**os.environ, **(env or {})},
                                      stdin=subprocess.DEVNULL, check=False)
            except subprocess.TimeoutExpired:
                raise RehearsalError(f"{' '.join(args[:4])}: no end after {timeout:.0f} s "
                                     f"(log {path})") from None
        if proc.returncode not in ok:
            tail = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
            raise RehearsalError(f"{' '.join(args[2:5])} exited {proc.returncode}: "
                                 f"{tail[-1] if tail else 'no output'} (log {path})")
        return proc.returncode

    def lab(self, *args: str, log: str = "lab.log", timeout: float = LAB_TIMEOUT_S) -> None:
        self.sh([sys.executable, "-m", "lab", *args], log, timeout)

    def suite(self, inventory: Path, label: str, env: dict | None = None) -> Path:
        """One run of the suite into ``runs/``; returns its run directory."""
        latest = self.runs / "latest"
        before = latest.resolve() if latest.exists() else None
        status = self.sh([sys.executable, "-m", "pytest", "suites/", "--inventory",
                          str(inventory), "--reports-dir", str(self.runs),
                          "-p", "no:cacheprovider", "-q",
                          *(["-m", "not disruptive"] if self.read_only else [])],
                         f"suite-{label}.log",
                         SUITE_TIMEOUT_S, ok=(0, 1), env=env)
        if not latest.exists() or latest.resolve() == before:
            raise RehearsalError(f"the suite ({label}) wrote no report (exit {status}; log "
                                 f"{self.out / f'suite-{label}.log'})")
        return latest.resolve()

    # -- inside the lab's namespace -----------------------------------------------------
    @staticmethod
    def in_netns(fn: Callable[[], object]) -> object:
        """Run ``fn`` in a thread that joined the lab's namespace (setns is per thread: the
        host commands of this process stay in the root namespace); threads it starts
        inherit the namespace."""
        from fixtures.access import netns

        def call():
            netns.enter(config.NETNS)
            return fn()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(call).result()


def _verdict(run_dir: Path) -> dict:
    doc = json.loads((run_dir / "compliance.json").read_text())
    return {"run": str(run_dir), "verdict": doc.get("verdict", ""),
            "counts": doc.get("counts", {}), "doc": doc}


def rehearse(r: Rehearsal) -> int:
    from fixtures.access.inventory import load
    from fixtures.faults import baseline
    from fixtures.migration import dataset, migrate
    from fixtures.report import output
    from fixtures.resources.cluster import Cluster
    from fixtures.resources.hypervisor import read_console
    from fixtures.resources.samba import SmbShare

    hb_path = config.inventory_path()
    pm_path = config.state_root() / MIGRATED_NAME

    # (1) the Heartbeat cluster, its run, the data set
    with r.step("lab up --manager heartbeat"):
        r.lab("up", "--manager", "heartbeat")
    with r.step("provisioned-baseline snapshot (as make acceptance)"):
        r.lab("snapshot", "save", "--if-provisioning")
    with r.step("suite on Heartbeat"):
        run1 = r.suite(hb_path, "heartbeat",
                       env={"HA_SETUP_PHASES": str(config.state_root() / "setup-phases.json")})
        v1 = _verdict(run1)
        r.state["before"] = {k: v for k, v in v1.items() if k != "doc"}
        r.say(f"suite on Heartbeat: {v1['verdict']} {v1['counts']} ({run1})")
    hb = load(hb_path)
    with r.step("inventory of the migrated cluster") as st:
        raw = yaml.safe_load(hb_path.read_text())
        accel = qemu.node_accel(config.NODES[0], "tcg")
        pm_raw = migrated_inventory(raw, lab_inventory.pacemaker_fencing(accel))
        text = yaml.safe_dump(pm_raw, sort_keys=False)
        # written as is: the report writer's redaction takes `key: <path>` for a secret
        for path in (pm_path, r.out / MIGRATED_NAME):
            path.write_text(text)
            path.chmod(0o600)
        pm = load(pm_path)
        st["note"] = str(pm_path)
    vip, share_name = hb.network.virtual_ip, hb.samba.share
    vm_path = f"{hb.drbd.mount_point}/{hb.hypervisor.vm_name}/disk.img"
    manifest = dataset.make(r.files, r.seed)

    def write_dataset() -> None:
        cluster = Cluster(hb)
        try:
            baseline.wait(cluster, BASELINE_S)
            with SmbShare(vip, share_name, timeout=30) as share:
                seconds = dataset.write(share, manifest)
            manifest.vm_disk = dataset.read_vm_disk(cluster.node1, vm_path)
        finally:
            cluster.close()
        r.say(f"data set: {len(manifest.files)} files, {manifest.total_bytes / 2**20:.1f} MiB "
              f"written through {vip} in {seconds:.0f} s; VM disk sha256 "
              f"{manifest.vm_disk.sha256[:12]}… boot count {manifest.vm_disk.boot_count}")

    with r.step("data set written through the VIP") as st:
        r.in_netns(write_dataset)
        output.write_text(r.out / "dataset-manifest.json", manifest.to_json())
        st["note"] = f"{len(manifest.files)} files, {manifest.total_bytes} bytes"

    # (2) the migration, in one window, with a client measuring the downtime
    output.write_text(r.out / "runbook.md", migrate.runbook(hb, pm))
    interval = 0.5
    mig_steps: list[dict] = []
    outcome: dict = {}

    def migrate() -> None:
        client = dataset.VipClient(vip, share_name, "rehearsal-poll", interval=interval)
        m = migrate.Migration(hb, pm, log=lambda s: r.say("  " + s))
        client.start()
        try:
            time.sleep(3)  # served before the window: the client's first writes succeed
            outcome["started"] = time.time()  # the change: first step to served again
            try:
                m.run(on_step=lambda res: (mig_steps.append(res.as_record()), r.say(
                    f"  step '{res.title}': {'ok' if res.ok else 'FAILED'} in "
                    f"{res.seconds:.1f} s ({res.note[:160]})")))
            finally:
                outcome["identity_before"] = m.identity_before
                outcome["identity_after"] = m.identity_after
            end = time.time()
            deadline = time.monotonic() + BACK_S
            while client.acknowledged_since(end) == 0 and time.monotonic() < deadline:
                time.sleep(1)
            outcome["ended"] = time.time()
        finally:
            outcome["downtime"] = client.stop()
            m.close()
        # every write the server acknowledged during the window must be there
        with SmbShare(vip, share_name, timeout=30) as share:
            lost = [n for n, data in client.acknowledged.items()
                    if _read_or_none(share, n) != data]
        outcome["poll_files"] = {"acknowledged": len(client.acknowledged), "lost": len(lost)}

    with r.step("migration (fixtures/migration/migrate.py)") as st:
        try:
            r.in_netns(migrate)
        finally:
            r.state["migration"] = {"steps": mig_steps, **outcome}
            d = outcome.get("downtime")
            if d:
                r.say(f"downtime seen by the client: {d['seconds']:.1f} s in {d['outages']} "
                      f"outage(s), longest {d['longest']:.1f} s ({d['writes']} writes "
                      f"acknowledged, {d['failures']} failed)")
        st["note"] = (f"downtime {outcome['downtime']['seconds']:.1f} s; "
                      f"{outcome['poll_files']['acknowledged']} client writes, "
                      f"{outcome['poll_files']['lost']} lost")

    # (3) the Pacemaker cluster's run, then the data set read back
    with r.step("suite on Pacemaker (migrated)"):
        run2 = r.suite(pm_path, "pacemaker")
        v2 = _verdict(run2)
        r.state["after"] = {k: v for k, v in v2.items() if k != "doc"}
        r.say(f"suite on Pacemaker: {v2['verdict']} {v2['counts']} ({run2})")

    verify: dict = {}

    def check_dataset() -> None:
        cluster = Cluster(pm)
        try:
            try:
                baseline.wait(cluster, BASELINE_S)
            except baseline.BaselineError:
                baseline.restore(cluster, log=lambda s: r.say("  " + s))
            with SmbShare(vip, share_name, timeout=30) as share:
                chk = dataset.check(manifest, dataset.smb_reader(share))
            disk = dataset.read_vm_disk(cluster.active, vm_path)
            banner = read_console(vip, pm.hypervisor.console_port,
                                  pm.hypervisor.console_banner, timeout=15)
        finally:
            cluster.close()
        problems = dataset.judge_disk(manifest.vm_disk, disk)
        before_boot = manifest.vm_disk.boot_count
        if banner is None:
            problems.append(f"no console banner on {vip}:{pm.hypervisor.console_port}")
        elif disk.boot_count is not None and banner.boot != disk.boot_count:
            problems.append(f"console says boot={banner.boot}, the disk's counter is "
                            f"{disk.boot_count}: the VM does not run from this disk")
        if before_boot is not None and (disk.boot_count or 0) <= before_boot:
            problems.append(f"boot counter {disk.boot_count} not above {before_boot}: the VM "
                            "did not boot again from its disk")
        verify.update(check=chk, disk=disk, banner=banner, problems=problems)

    with r.step("data set and VM read back through the VIP") as st:
        r.in_netns(check_dataset)
        chk = verify["check"]
        disk, banner = verify["disk"], verify["banner"]
        vm_note = (f"sha256 without the boot counter {disk.sha256_without_counter[:12]}… "
                   f"{'same as' if not dataset.judge_disk(manifest.vm_disk, disk) else 'NOT'} "
                   f"before; boot counter {manifest.vm_disk.boot_count} -> {disk.boot_count}; "
                   f"console on VIP:{pm.hypervisor.console_port}: "
                   f"{banner.line if banner else 'silent'}")
        r.state["dataset"] = {**chk.counts(), "missing_files": chk.missing,
                              "corrupt_files": chk.corrupt, "unreadable_files": chk.unreadable,
                              "vm_disk": vm_note, "vm_problems": verify["problems"]}
        st["note"] = f"{chk.summary()}; {vm_note}"
        r.say(f"data set: {chk.summary()} ({chk.bytes_read} bytes in {chk.seconds:.0f} s)")
        r.say(f"VM: {vm_note}")

    # (4) the change record and the comparison
    ident_b, ident_a = outcome.get("identity_before", {}), outcome.get("identity_after", {})
    down = outcome["downtime"]
    checks = [
        {"name": "file system UUID kept", "ok": bool(ident_b.get("fs_uuid"))
         and ident_b.get("fs_uuid") == ident_a.get("fs_uuid"),
         "detail": f"{ident_b.get('fs_uuid')} -> {ident_a.get('fs_uuid')}"},
        {"name": "DRBD metadata kept (generation identifiers descend)",
         "ok": bool(ident_a) and not migrate.judge_identity(ident_b, ident_a),
         "detail": "; ".join(f"{n}: {':'.join(g)} -> {':'.join(ident_a.get('gi', {}).get(n, ()))}"
                             for n, g in sorted(ident_b.get("gi", {}).items()))},
        {"name": "client writes acknowledged during the window all read back",
         "ok": outcome["poll_files"]["lost"] == 0,
         "detail": f"{outcome['poll_files']['acknowledged']} acknowledged, "
                   f"{outcome['poll_files']['lost']} lost"},
        {"name": "the share answers again after the window", "ok": not down["open_at_end"],
         "detail": f"{down['outages']} outage(s), {down['seconds']:.1f} s"},
        {"name": "the VM boots from its disk (banner on VIP:902, counter up, same content)",
         "ok": not verify["problems"], "detail": "; ".join(verify["problems"]) or vm_note},
        {"name": "no control passed before and failed after",
         "ok": not regressions(v1["doc"], v2["doc"]),
         "detail": ", ".join(regressions(v1["doc"], v2["doc"])) or "none"},
    ]
    steps = [{"title": s["title"], "seconds": s["seconds"], "ok": s["ok"], "note": s["note"],
              "in_window": s["in_window"]} for s in mig_steps]
    record = change_record(outcome["started"], outcome["ended"], steps, down,
                           verify["check"].counts(), vm_note, not verify["problems"], checks,
                           manifest.total_bytes, interval)
    with r.step("comparison of the two runs"):
        output.write_json(run2 / "change.json", record)
        output.write_json(r.out / "change.json", record)
        r.sh([sys.executable, "-m", "fixtures.report", "compare", str(run1), str(run2),
              "--reports-dir", str(r.runs), "--out", str(r.out / "compare")],
             "compare.log", 300)
        r.state["compare"] = str(r.out / "compare" / "compare.html")
    r.say(f"comparison: {r.out / 'compare' / 'compare.html'}")
    failed = [c["name"] for c in checks if not c["ok"]]
    if not verify["check"].ok:
        failed.insert(0, f"data set {verify['check'].summary()}")
    r.state["failed_checks"] = failed
    r.save_state()
    if failed:
        raise RehearsalError("rehearsal done, but: " + "; ".join(failed))
    return 0


def _read_or_none(share, name: str) -> bytes | None:
    from fixtures.resources.samba import SmbError

    try:
        return share.read(name)
    except SmbError:
        return None


def put_back(r: Rehearsal) -> None:
    """The migrated disks must never pass for the Heartbeat baseline: purge them (the
    snapshots stay) and drop the migrated inventory (a copy is in the rehearsal dir)."""
    with r.step("lab down --purge (the next lab up starts clean for either manager)"):
        r.lab("down", "--purge")
        (config.state_root() / MIGRATED_NAME).unlink(missing_ok=True)


def summary(r: Rehearsal) -> None:
    r.say("steps:")
    for s in r.steps:
        r.say(f"  {'ok    ' if s['ok'] else 'FAILED'} {s['seconds']:8.1f} s  {s['title']}")
    for s in r.state.get("migration", {}).get("steps", []):
        r.say(f"    migration {'ok    ' if s['ok'] else 'FAILED'} {s['seconds']:7.1f} s  "
              f"{s['title']}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        print(f"rehearse: error: {message}", file=sys.stderr)
        sys.exit(2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _Parser(prog="python -m lab.rehearse", description="The rehearsed migration "
                "Heartbeat -> Corosync + Pacemaker on the lab, end to end.")
    p.add_argument("--out", type=Path, help="the rehearsal directory (default "
                   "reports/rehearsal-<UTC>)")
    p.add_argument("--files", type=int, default=200, help="files in the data set (200)")
    p.add_argument("--seed", type=int, default=None, help="the data set's seed (default: now)")
    p.add_argument("--read-only", action="store_true",
                   help="both suite runs without the disruptive controls (as on production; "
                        "minutes instead of ~20 min each under TCG)")
    p.add_argument("--keep-lab", action="store_true",
                   help="leave the migrated lab running (it is not the Heartbeat baseline)")
    args = p.parse_args(argv)
    if args.files < 1:
        p.error("--files must be at least 1")
    if args.out is not None and args.out.exists() and any(args.out.iterdir()):
        p.error(f"--out {args.out}: exists and is not empty")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("rehearse: error: the lab needs root", file=sys.stderr)
        return 1
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = (args.out or config.REPO_ROOT / "reports" / f"rehearsal-{stamp}").resolve()
    from fixtures.report import output

    output.private_dir(out)
    seed = args.seed if args.seed is not None else int(time.time())
    r = Rehearsal(out, args.files, seed, args.keep_lab, read_only=args.read_only)
    r.say(f"rehearsal directory {out} (data set: {args.files} files, seed {seed})")
    status = 0
    try:
        status = rehearse(r)
    except Exception as exc:  # every failure ends as one line; the details are in the logs
        status = 1
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        r.state["error"] = msg
        print(f"rehearse: error: {msg}", file=sys.stderr)
    finally:
        if not args.keep_lab:
            try:
                put_back(r)
            except Exception as exc:
                status = 1
                print(f"rehearse: error: putting the lab back: {exc}", file=sys.stderr)
        summary(r)
        r.save_state()
    return status


if __name__ == "__main__":
    sys.exit(main())
