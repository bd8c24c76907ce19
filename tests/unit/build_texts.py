"""The files a lab build's steps write (lab/builds/<name>/), read from the steps
themselves so that a test judges exactly what the build puts on its nodes."""

from __future__ import annotations

import re

from lab.builds import STEPS_ROOT


def heredoc(build: str, step: str, marker: str) -> str:
    """The text a step writes with ``cat > FILE <<'MARKER'``."""
    text = (STEPS_ROOT / build / step).read_text()
    found = re.search(rf"<<'{marker}'\n(.*?)\n{marker}\n", text, re.S)
    assert found, f"{build}/{step} writes no <<'{marker}' document"
    return found[1] + "\n"
