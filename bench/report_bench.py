"""How long the compliance report adds to a run: render + write a synthetic 20-control run.

The run (fixtures.report.sample) has every catalogue control, ~330 commands with
outputs of 1 to 150 lines, timelines of 200 events on each failover control,
node artefacts, and earlier runs in the reports dir so the trend section is
built too. The budget is 2 s.

    .venv/bin/python bench/report_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from fixtures.report import trend  # noqa: E402
from fixtures.report.render import write_report  # noqa: E402
from fixtures.report.sample import sample_run  # noqa: E402

BUDGET = 2.0


def bench(repeat: int) -> list[float]:
    """Seconds per render+write (the trend read of earlier runs included)."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp)
        for day in range(5):  # earlier runs of the same cluster, as a real reports dir has
            write_report(
                sample_run(12.0 + day, seed=day, started=1.79e9 + day * 86400),
                reports / f"lab-earlier-{day}",
            )
        for i in range(repeat):
            run = sample_run(seed=100 + i)
            start = time.perf_counter()
            past = trend.load_runs([reports], cluster="lab")
            write_report(run, reports / f"lab-bench-{i}", past=past)
            times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run = sample_run()
    commands = sum(len(t.evidence.commands) for t in run.tests)
    events = sum(len(tl.events) for t in run.tests for tl in t.evidence.timelines)
    times = bench(args.repeat)
    worst = max(times)
    print(
        f"report bench: {len(run.controls)} controls, {len(run.tests)} tests, {commands} commands, "
        f"{events} timeline events"
    )
    print(
        f"report bench: render+write best {min(times):.3f} s, worst {worst:.3f} s "
        f"(budget {BUDGET:.1f} s)"
    )
    return 0 if worst < BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
