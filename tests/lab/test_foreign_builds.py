"""The suite on lab clusters it did not build (lab/builds/, SPEC §7): one built by
following the article's own text, one reached the way a site allows it (a sudo user,
another SSH port, FQDN names). Read-only, each must come out green: every control passed
or not applicable, none failed, none left not run. Slow (each build from blank nodes):
marked ``lab`` and ``builds`` (`make test-builds`); needs root."""

from __future__ import annotations

import subprocess
import sys

import pytest
from labctl import LAB_MARKS, REPO, lab_up, run_control

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
@pytest.mark.parametrize("build", ["article-text", "site-access"])
def test_the_read_only_suite_is_green_on_a_cluster_it_did_not_build(build, tmp_path):
    _built(build)
    controls = run_control("", tmp_path, read_only=True)
    output = controls.pop("_output")["stdout"]
    red = {cid: (c["status"], c["message"]) for cid, c in controls.items()
           if c["status"] not in GREEN and not c.get("disruptive")}
    assert not red, f"{build}: {red}\n{output}"
