"""What every suite needs first: a provisioned cluster at its baseline, the
run facts for the report, and the nodes' artefacts gathered at the end."""

from __future__ import annotations

import pytest

from fixtures import baseline
from fixtures.cluster import Cluster
from fixtures.evidence import RUN_KEY, RunInfo
from fixtures.hypervisor import Hypervisor
from fixtures.node import NodeError
from fixtures.provision import ProvisionRefused, beyond_article, provision
from fixtures.scenarios import Run

VERSIONS = {
    "debian": "cat /etc/debian_version",
    "kernel": "uname -r",
    "drbd module": "sed -n 's/^version: //p' /proc/drbd",
    "drbd-utils": "dpkg-query -W -f '${Version}' drbd-utils",
    "heartbeat": "dpkg-query -W -f '${Version}' heartbeat",
    "resource-agents": "dpkg-query -W -f '${Version}' resource-agents",
    "samba": "dpkg-query -W -f '${Version}' samba",
}

ARTEFACTS = {
    "ha-log.txt": "tail -n 400 /var/log/ha-log",
    "proc-drbd.txt": "cat /proc/drbd",
    "drbdadm-status.txt": "drbdadm status 2>&1",
    "smbd-log.txt": "tail -n 200 /var/log/samba/log.smbd 2>&1",
    "dmesg-tail.txt": "dmesg | tail -n 200",
    "guest-console.txt": "tail -n 100 /var/log/libvirt/qemu/*.log 2>&1",
    "haresources.txt": "cat /etc/ha.d/haresources",
    "ha.cf.txt": "cat /etc/ha.d/ha.cf",
}


@pytest.fixture(scope="session", autouse=True)
def cluster_ready(request: pytest.FixtureRequest, cluster: Cluster, hypervisor: Hypervisor,
                  scenarios: Run):
    """Provision when asked, record the environment, gather artefacts at the end."""
    config = request.config
    inv = cluster.inventory
    info: RunInfo = config.stash[RUN_KEY]
    info.beyond_article = beyond_article(inv)
    wanted = (inv.provision or config.getoption("provision")) and not config.getoption(
        "no_provision")
    if wanted:
        try:
            result = provision(cluster, log=scenarios.log)
        except ProvisionRefused as exc:
            pytest.exit(f"ha-acceptance: {exc}", returncode=4)
        except (NodeError, baseline.BaselineError, TimeoutError) as exc:
            pytest.exit(f"ha-acceptance: provisioning failed: {exc}", returncode=3)
        info.figures["provisioning (s)"] = round(result.seconds, 1)
        info.figures["provisioning changes"] = len(result.changes)
        info.figures.update(result.figures)
        scenarios.log(result.summary())
    for node in cluster:
        info.environment[node.name] = {
            name: (node.run(cmd, timeout=15).stdout.strip() or "unknown")
            for name, cmd in VERSIONS.items()
        }
        info.environment[node.name]["hypervisor"] = hypervisor.version(node)
    yield cluster
    for node in cluster:
        if not node.reachable(5):
            info.artefacts[node.name] = {"unreachable.txt": f"{node.name} did not answer"}
            continue
        info.artefacts[node.name] = {
            name: node.run(cmd, timeout=20, record=False).stdout for name, cmd in ARTEFACTS.items()
        }
