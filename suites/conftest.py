"""What every suite needs first: a provisioned cluster at its baseline, the
run facts for the report, and the nodes' artefacts gathered at the end."""

from __future__ import annotations

import hashlib
import shlex

import pytest

from fixtures import evidence, pacemaker, settings
from fixtures.cluster import Cluster
from fixtures.errors import CLUSTER_ERRORS
from fixtures.evidence import RUN_KEY, RunInfo
from fixtures.hypervisor import Hypervisor
from fixtures.plugin import wants_provision
from fixtures.provision import ProvisionRefused, provision
from fixtures.scenarios.engine import Run

VERSIONS = {
    "debian": "cat /etc/debian_version",
    "kernel": "uname -r",
    "drbd module": "sed -n 's/^version: //p' /proc/drbd",
    "drbd-utils": "dpkg-query -W -f '${Version}' drbd-utils",
    "heartbeat": "dpkg-query -W -f '${Version}' heartbeat",
    "corosync": "dpkg-query -W -f '${Version}' corosync",
    "pacemaker": "dpkg-query -W -f '${Version}' pacemaker",
    "sbd": "dpkg-query -W -f '${Version}' sbd",
    "resource-agents": "dpkg-query -W -f '${Version}' resource-agents",
    "samba": "dpkg-query -W -f '${Version}' samba",
}

ARTEFACTS = {
    "proc-drbd.txt": "cat /proc/drbd",
    "drbdadm-status.txt": "drbdadm status 2>&1",
    "smbd-log.txt": "tail -n 200 /var/log/samba/log.smbd 2>&1",
    "dmesg-tail.txt": "dmesg | tail -n 200",
    "guest-console.txt": "tail -n 100 /var/log/libvirt/qemu/*.log 2>&1",
}
MANAGER_ARTEFACTS = {
    "heartbeat": {
        "ha-log.txt": "tail -n 400 /var/log/ha-log",
        "haresources.txt": "cat /etc/ha.d/haresources",
        "ha.cf.txt": "cat /etc/ha.d/ha.cf",
    },
    "pacemaker": {
        "pacemaker-log.txt": "tail -n 600 /var/log/pacemaker/pacemaker.log 2>&1",
        "crm_mon.txt": "crm_mon --one-shot --inactive --show-detail 2>&1",
        "fence-history.txt": "stonith_admin --history '*' --verbose 2>&1",
        "sbd-list.txt": f"{pacemaker.SBD_LIST} 2>&1",
        "corosync.conf.txt": "cat /etc/corosync/corosync.conf",
        "cib.crm.txt": "crm configure show 2>&1",
    },
}

# The configuration files a comparison of two runs shows (path -> secret). A secret
# file is fingerprinted only: its text is never read.
CONFIG_FILES = {
    "/etc/ha.d/ha.cf": False,
    "/etc/ha.d/haresources": False,
    "/etc/ha.d/authkeys": True,
    "/etc/corosync/corosync.conf": False,
    "/etc/corosync/authkey": True,
    "/etc/samba/smb.conf": False,
    "/etc/drbd.d/global_common.conf": False,
}
CIB = "cib (cibadmin --query --scope configuration)"
MISSING = "__missing__"


def config_files(inv) -> dict[str, bool]:
    """The files of this cluster: the fixed ones, its DRBD resource, its VMs' definitions
    where the lab's vmstart keeps them (a missing one is shown as missing)."""
    return {**CONFIG_FILES, f"/etc/drbd.d/{inv.drbd.resource}.res": False,
            **{f"{inv.drbd.mount_point}/{vm}/{vm}.xml": False for vm in inv.hypervisor.vms}}


def read_config(node, path: str, secret: bool, timeout: float = 15) -> dict:
    """{sha256, secret, text, missing, error} of one file (read-only, time-limited)."""
    rec = {"sha256": "", "secret": secret, "text": None, "missing": False, "error": ""}
    q = shlex.quote(path)
    r = node.run(f"test -e {q} || {{ echo {MISSING}; exit 0; }}; sha256sum < {q}",
                 timeout=timeout, record=False)
    if r.exit_status != 0:
        rec["error"] = (r.stderr.strip() or r.error or f"exit {r.exit_status}")[:200]
        return rec
    if r.stdout.strip() == MISSING:
        rec["missing"] = True
        return rec
    rec["sha256"] = r.stdout.split()[0] if r.stdout.split() else ""
    if not secret:
        text = node.run(f"cat {q}", timeout=timeout, record=False)
        if text.exit_status == 0:
            rec["text"] = text.stdout
    return rec


def read_cib(node, timeout: float = 15) -> dict:
    """The Pacemaker CIB's configuration (not its status, which changes every second)."""
    rec = {"sha256": "", "secret": False, "text": None, "missing": False, "error": ""}
    # a Heartbeat node may carry pacemaker's packages (the lab's image does): no CIB then
    r = node.run(f"systemctl is-active --quiet pacemaker || {{ echo {MISSING}; exit 0; }}; "
                 "cibadmin --query --scope configuration --local", timeout=timeout, record=False)
    if r.exit_status != 0:
        rec["error"] = (r.stderr.strip() or r.error or f"exit {r.exit_status}")[:200]
    elif r.stdout.strip() == MISSING:
        rec["missing"] = True
    else:
        rec["text"] = r.stdout
        rec["sha256"] = hashlib.sha256(r.stdout.encode()).hexdigest()
    return rec


def gather_configs(cluster: Cluster) -> dict[str, dict[str, dict]]:
    """node -> path -> record, for config.json (what `fixtures.report compare` reads)."""
    files = config_files(cluster.inventory)
    out = {}
    for node in cluster:
        out[node.name] = {path: read_config(node, path, secret) for path, secret in files.items()}
        out[node.name][CIB] = read_cib(node)
    return out


@pytest.fixture(scope="session", autouse=True)
def cluster_ready(request: pytest.FixtureRequest, cluster: Cluster, hypervisor: Hypervisor,
                  scenario_run: Run):
    """Provision when asked, record the environment, gather artefacts at the end."""
    config = request.config
    inv = cluster.inventory
    info: RunInfo = config.stash[RUN_KEY]
    if wants_provision(config, inv):
        try:
            # its own step in the report's time breakdown; no control's duration holds it
            with evidence.phase(info, "provisioning", "provisioning"):
                result = provision(cluster, log=scenario_run.log)
        except ProvisionRefused as exc:
            pytest.exit(f"ha-acceptance: {exc}", returncode=4)
        except CLUSTER_ERRORS as exc:
            pytest.exit(f"ha-acceptance: provisioning failed: {exc}", returncode=3)
        info.figures["provisioning (s)"] = round(result.seconds, 1)
        info.figures["provisioning changes"] = len(result.changes)
        info.figures.update(result.figures)
        scenario_run.log(result.summary())
    with evidence.phase(info, "versions and configuration read", "setup"):
        _read_environment(cluster, hypervisor, info)
    yield cluster
    with evidence.phase(info, "node artefacts gathered", "checks"):
        info.artefacts.update(_gather_artefacts(cluster))


def _read_environment(cluster: Cluster, hypervisor: Hypervisor, info: RunInfo) -> None:
    for node in cluster:
        info.environment[node.name] = {
            name: (node.run(cmd, timeout=15).stdout.strip() or "unknown")
            for name, cmd in VERSIONS.items()
        }
        info.environment[node.name]["hypervisor"] = hypervisor.version(node)
    info.configs = gather_configs(cluster)
    read = settings.read(cluster)
    info.settings = [s.as_dict() for s in read]
    info.beyond_article = [s.describe() for s in read if s.beyond_article]


def _gather_artefacts(cluster: Cluster) -> dict[str, dict[str, str]]:
    gathered: dict[str, dict[str, str]] = {}
    wanted = {**ARTEFACTS, **MANAGER_ARTEFACTS[cluster.inventory.cluster_manager]}
    for node in cluster:
        if not node.reachable(5):
            gathered[node.name] = {"unreachable.txt": f"{node.name} did not answer"}
            continue
        gathered[node.name] = {
            name: node.run(cmd, timeout=20, record=False).stdout for name, cmd in wanted.items()
        }
    return gathered
