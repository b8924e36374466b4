"""README's Ape-X table: apex (2 actors) beside per-sumtree, in env steps and in seconds.

Reads the runs of

    python benchmarks/bench_learning.py --variants per-sumtree apex --seeds 100-109 \
        --workers 1 --speed-steps 0 --out benchmarks/results/apex

(one run at a time, so each had the machine's 2 cores) and writes
``benchmarks/results/apex.md``: per variant, seeds solved within the budget (two consecutive
evaluations >= 475), median env steps to solve, median wall-clock seconds to solve (from before
Ray's start-up, evaluations included), median training seconds to solve (start-up and
evaluations excluded), median env steps/s (start-up excluded), Ray start-up, and every seed.

    python benchmarks/apex_table.py [--runs benchmarks/results/apex/learning]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prdqn_lib.train import History  # noqa: E402


def seed_rows(folder: Path) -> list[dict]:
    rows = []
    for run in sorted(folder.glob("seed*"), key=lambda p: int(p.name[4:])):
        if not (run / "summary.json").exists():
            continue
        summary = json.loads((run / "summary.json").read_text())
        h = History.load(run)
        solve = h.steps_to_solve()
        wall = train = None
        if solve is not None:  # the solve is certain at the second of the two evaluations
            k = [int(e["env_steps"]) for e in h.evals].index(solve) + 1
            wall = summary.get("startup_seconds", 0.0) + h.evals[k]["wall_time"]
            train = h.evals[k]["train_seconds"]
        rows.append({"seed": summary["seed"], "solve": solve, "wall": wall, "train": train,
                     "sps": summary["env_steps_per_second"],
                     "startup": summary.get("startup_seconds", 0.0),
                     "final": summary["final_eval_return"]})  # fmt: skip
    return rows


def median(values) -> float:
    """Median with an unsolved seed (None) counted as infinitely late."""
    return statistics.median([float("inf") if v is None else v for v in values])


def fmt(x: float, digits: int = 0) -> str:
    return "∞" if x == float("inf") else f"{x:,.{digits}f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "benchmarks/results/apex/learning")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/apex.md")
    args = parser.parse_args(argv)
    lines = [
        "| variant | solved within 50k | env steps to solve: median | wall-clock s to solve: "
        "median (Ray start-up included) | training s to solve: median | env steps/s: median "
        "(start-up excluded) | Ray start-up s: median | final eval ≥ 475 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    per_seed = []
    for variant in ("per-sumtree", "apex"):
        rows = seed_rows(args.runs / variant)
        if not rows:
            continue
        n = len(rows)
        solved = sum(r["solve"] is not None for r in rows)
        lines.append(
            f"| {variant}{' (2 actors)' if variant == 'apex' else ''} | {solved}/{n} | "
            f"{fmt(median(r['solve'] for r in rows))} | "
            f"{fmt(median(r['wall'] for r in rows), 1)} | "
            f"{fmt(median(r['train'] for r in rows), 1)} | "
            f"{fmt(median(r['sps'] for r in rows))} | "
            f"{fmt(median(r['startup'] for r in rows), 1)} | "
            f"{sum(r['final'] >= 475 for r in rows)}/{n} |"
        )
        cells = [
            f"{r['seed']}: "
            + ("—" if r["solve"] is None else f"{r['solve']:,} steps, {r['wall']:.1f} s")
            for r in rows
        ]
        per_seed.append(f"- {variant}: " + "; ".join(cells))
    text = (
        "# Ape-X (2 actors) beside per-sumtree, report seeds\n\n"
        "`python benchmarks/apex_table.py` from the runs in "
        f"`{args.runs.relative_to(ROOT) if args.runs.is_relative_to(ROOT) else args.runs}` "
        "(one run at a time on this 2-core machine). Solved = the first of two consecutive "
        "evaluations (10 greedy episodes every 1,000 env steps) with mean ≥ 475; an unsolved "
        "seed counts as ∞ in the medians. Seconds to solve are taken at the second of those "
        "two evaluations (when the solve is known).\n\n"
        + "\n".join(lines)
        + "\n\nPer seed (env steps to solve, wall-clock seconds to solve; — = not within the "
        "budget):\n\n" + "\n".join(per_seed) + "\n"
    )  # fmt: skip
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
