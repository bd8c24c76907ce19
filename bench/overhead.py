"""The suite's overhead over N runs, read from their reports (it never runs the lab).

For each run, and their min, median and max: the wall, the cluster's own waits (fault →
recovered, as the scenarios' records stamped them), the suite's own time (setup, checks,
scenario work, restores, unaccounted), suite / wall, and the unaccounted part of it: the
``overhead`` a report writes into its compliance.json (fixtures/report/timing.py).

    .venv/bin/python bench/overhead.py reports/lab-20261207T141306Z reports/lab-...
    .venv/bin/python bench/overhead.py reports/      # every run under a reports dir

Exit 0; 1 when a run's split counted time twice (it is printed, with the part); 2 on bad
input: one line per bad report naming the file and the field, and no table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from fixtures.access.errors import printable  # noqa: E402
from fixtures.report.timing import SPLIT, overhead_problem, overhead_spread  # noqa: E402

COLUMNS = (*SPLIT, "unaccounted")


def reports(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The compliance.json files named by ``paths`` (a file, a run dir, or a reports dir
    holding run dirs), each once; and one line per path that names none."""
    found: dict[Path, Path] = {}
    bad = []
    for p in paths:
        if p.is_file():
            candidates = [p]
        elif (p / "compliance.json").is_file():
            candidates = [p / "compliance.json"]
        elif p.is_dir():
            candidates = sorted(p.glob("*/compliance.json"))
        else:
            candidates = []
        if not candidates:
            why = "no compliance.json in it or in its run directories" if p.is_dir() else (
                "no such file or directory")
            bad.append(f"{p}: {why}")
        for c in candidates:
            found.setdefault(c.resolve(), c)  # reports/latest is a second name of one run
    return list(found.values()), bad


def read(path: Path) -> tuple[dict | None, str]:
    """(one row: the run's name, start and split; "") or (None, the line saying why not)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, f"{path}: unreadable ({exc.strerror or type(exc).__name__})"
    except ValueError:  # UnicodeDecodeError included
        return None, f"{path}: not valid JSON"
    if not isinstance(doc, dict):
        return None, f"{path}: not a JSON object"
    if "overhead" not in doc:
        return None, (f"{path}: no field 'overhead' (a report written before the suite "
                      "recorded its overhead)")
    why = overhead_problem(doc["overhead"])
    if why:
        return None, f"{path}: field {why}"
    split = doc["overhead"]
    started = doc.get("started")
    # a report's strings and a directory's name are outside input: terminal-safe
    return {"run": printable(path.parent.name, 60),
            "started": started if isinstance(started, str) else "",
            **{k: split[k] for k in SPLIT}, "unaccounted": split["parts"]["unaccounted"],
            "problem": printable(split.get("problem", ""))}, ""


def table(rows: list[dict]) -> list[str]:
    """Per run (oldest first) and min/median/max, in seconds and percent."""
    width = max(len("median"), *(len(r["run"]) for r in rows))

    def line(name: str, values: dict) -> str:
        return (f"{name:<{width}} " + " ".join(f"{values[k]:>10.1f}" for k in SPLIT[:3])
                + f" {values['ratio'] * 100:>9.1f}% {values['unaccounted']:>13.1f}")

    head = (f"{'run':<{width}} {'wall s':>10} {'cluster s':>10} {'suite s':>10} "
            f"{'suite/wall':>10} {'unaccounted s':>13}")
    out = [f"overhead over {len(rows)} run{'s' if len(rows) != 1 else ''}: the wall = the "
           "cluster's own waits + the suite's own time", head]
    out += [line(r["run"], r) for r in rows]
    spread = overhead_spread(rows, COLUMNS)
    out += [line(stat, {k: spread[k][stat] for k in COLUMNS})
            for stat in ("min", "median", "max")]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="REPORT",
                        help="a run's report dir, its compliance.json, or a reports dir")
    args = parser.parse_args(argv)
    files, bad = reports(args.paths)
    rows = []
    for path in files:
        row, why = read(path)
        if row is None:
            bad.append(why)
        else:
            rows.append(row)
    if bad:
        for why in bad:
            print(f"overhead: {printable(why, 400)}", file=sys.stderr)
        return 2
    rows.sort(key=lambda r: (r["started"], r["run"]))
    print("\n".join(table(rows)))
    counted_twice = [r for r in rows if r["problem"]]
    for r in counted_twice:
        print(f"{r['run']}: BUG: {r['problem']}")
    return 1 if counted_twice else 0


if __name__ == "__main__":
    sys.exit(main())
