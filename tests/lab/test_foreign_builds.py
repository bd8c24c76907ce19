"""The suite on lab clusters it did not build (lab/builds/, SPEC §7): one built by
following the article's own text, one set up with pcs as Clusters from Scratch does, one
reached the way a site allows it (a sudo user, another SSH port, FQDN names). Read-only,
each must come out green: every control passed or not applicable, none failed, none left
not run. Slow (each build from blank nodes):
marked ``lab`` and ``builds`` (`make test-builds`); needs root."""

from __future__ import annotations

import subprocess
import sys

import pytest
from labctl import LAB_MARKS, REPO, lab_up, run_control

from fixtures.access.inventory import DEFAULT_PATH, load

pytestmark = [*LAB_MARKS, pytest.mark.builds]

# heartbeat's own evidence on these builds; Pacemaker's controls are not applicable there
GREEN = {"passed", "not applicable"}


def _built(build: str) -> None:
    """The lab up for ``build``, its steps (and the suite's provisioning, where the build
    has it) done: what `make acceptance BUILD=...` does before the suite."""
    lab_up("--build", build, timeout=1800)
    proc = subprocess.run([sys.executable, "-m", "lab", "snapshot", "save", "--if-provisioning"],
                          cwd=REPO, capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, f"lab snapshot save ({build}): {proc.stderr.strip()}"


@pytest.mark.timeout(4200)
@pytest.mark.parametrize("build", ["article-text", "pcs", "site-access"])
def test_the_read_only_suite_is_green_on_a_cluster_it_did_not_build(build, tmp_path):
    _built(build)
    controls = run_control("", tmp_path, read_only=True)
    output = controls.pop("_output")["stdout"]
    red = {cid: (c["status"], c["message"]) for cid, c in controls.items()
           if c["status"] not in GREEN and not c.get("disruptive")}
    assert not red, f"{build}: {red}\n{output}"


@pytest.mark.timeout(4200)
def test_a_draft_discovered_from_the_article_text_build_runs_green(tmp_path):
    """`python -m fixtures.discover` on two host addresses writes an inventory that the
    read-only suite runs green with, unchanged but for the budgets' scale (a TCG lab)."""
    _built("article-text")
    lab = load(DEFAULT_PATH)
    draft = tmp_path / "draft.yaml"
    node = lab.nodes[0]
    proc = subprocess.run(
        [sys.executable, "-m", "fixtures.discover", *(n.address for n in lab.nodes),
         "--netns", str(lab.netns), "--key", str(node.ssh.key), "--trust-new-host-keys",
         "--known-hosts", str(tmp_path / "known_hosts"), "--cluster", "discovered",
         "-o", str(draft)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    text = draft.read_text()
    assert "resource: user  #" in text and "shares: [raidoverip]" in text.lower()
    with draft.open("a") as fh:
        fh.write(f"budgets:\n  scale: {lab.budgets.scale}\n")
    reports = tmp_path / "reports"
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "--inventory", str(draft), "-m",
         "not disruptive", "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert suite.returncode == 0, suite.stdout[-3000:]
