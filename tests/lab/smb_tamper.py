"""A pytest plugin for the SMB-02 lab test only (``-p smb_tamper``): between the write
of node 2's tenure file through the VIP and its read-back after failback, the file is
altered on the node that serves it, one byte changed, its length kept. Nothing else of
the run changes."""

from __future__ import annotations

import shlex

from fixtures.scenarios.engine import Run
from fixtures.scenarios.records import Record, SmbRoundTrip

TARGET = "smb-during-stop.txt"  # written during node 2's tenure in the heartbeat-stop scenario


def _alter(self: Run, sc: Record, trip: SmbRoundTrip) -> None:
    if trip.name != TARGET:
        return
    owner = self.cluster.owners()[0]
    path = shlex.quote(f"{self.inv.drbd.mount_point}/{trip.name}")
    owner.run(f"sed -i 's/tenure/tenurX/' {path} && sync", timeout=20, check=True)
    sc.timeline.add("test hook", f"{trip.name} altered on {owner.name} (tenure -> tenurX)",
                    owner.name)


def pytest_configure(config) -> None:
    Run.before_read_back = _alter
