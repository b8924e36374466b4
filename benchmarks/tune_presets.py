"""Round 3's tuning sweep: the same six candidates for each of the five variants, on tuning
seeds 20–25, and the decision rule that picks each variant's preset.

The protocol (grid, seeds, speed rule, ranking) is ``benchmarks/PRESETS_PROTOCOL.md``,
committed before the first run. Finished runs are kept (the sweep resumes); runs go to
``benchmarks/results/presets/<candidate>/<variant>/seed<k>/``, the table to
``benchmarks/results/presets.md`` and the winners to ``benchmarks/results/presets.json``.

    python benchmarks/tune_presets.py                 # the whole sweep (180 runs), then the table
    python benchmarks/tune_presets.py --table-only    # the table of what has finished
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from common import ROOT, Job, load_run, median_solve, pooled_stability, run_jobs

from prdqn_lib.stats import ends_solved

VARIANTS = ("dqn", "ddqn", "per-list", "per-sumtree", "per-rank")
SEEDS = tuple(range(20, 26))  # tuning seeds, never used before round 3
STEPS = 50_000
BOUND = {"q_min": 0.0, "q_max": 100.0}  # [0, 1/(1-γ)] for CartPole's r ∈ [0, 1], γ = 0.99
CANDIDATES: dict[str, dict[str, object]] = {  # in the protocol's order (ties go to the earlier)
    "shared": {},
    "n3": {"n_step": 3},
    "ln": {"layer_norm": True},
    "bound": BOUND,
    "dueling": {"dueling": True},
    "n3+bound": {"n_step": 3, **BOUND},
}
SPEED_FLOOR = 0.9  # a candidate slower than 90% of shared's median env steps/s is out
OUT = ROOT / "benchmarks" / "results"


def jobs() -> list[Job]:
    """Seed by seed, every (variant, candidate) within a seed: candidates share conditions."""
    return [
        Job(v, s, STEPS, str(OUT / "presets" / c / v / f"seed{s}"), tuple(CANDIDATES[c].items()))
        for s in SEEDS
        for v in VARIANTS
        for c in CANDIDATES
    ]


def measures(variant: str, candidate: str) -> dict | None:
    """The ranking's measures over the finished seeds of one (variant, candidate)."""
    runs = []
    for s in SEEDS:
        folder = OUT / "presets" / candidate / variant / f"seed{s}"
        if (folder / "summary.json").exists():
            runs.append(load_run(folder))
    if not runs:
        return None
    good, counted = pooled_stability(h for _, h in runs)
    solves = [x["steps_to_solve"] for x, _ in runs]
    return {
        "seeds": len(runs),
        "ends_solved": sum(ends_solved(h.eval_returns) for _, h in runs),
        "stable": good / counted if counted else 0.0,
        "solved": sum(s is not None for s in solves),
        "median_solve": median_solve(solves),
        "steps_per_s": float(np.median([x["env_steps_per_second"] for x, _ in runs])),
    }


def choose(variant: str, table: dict[str, dict]) -> tuple[str, list[str]]:
    """The protocol's winner for ``variant`` and the candidates the speed rule removed."""
    base = table["shared"]["steps_per_s"]
    out = [c for c, m in table.items() if m["steps_per_s"] < SPEED_FLOOR * base]
    kept = [c for c in CANDIDATES if c in table and c not in out]
    order = {c: k for k, c in enumerate(CANDIDATES)}
    best = max(kept, key=lambda c: (table[c]["ends_solved"], table[c]["stable"],
                                    table[c]["solved"], -table[c]["median_solve"],
                                    -order[c]))  # fmt: skip
    return best, out


def report() -> str:
    lines = [
        "# Round 3 tuning: six candidates × five variants (benchmarks/PRESETS_PROTOCOL.md)",
        "",
        f"Tuning seeds {SEEDS[0]}–{SEEDS[-1]}, {STEPS:,} env steps, no early stop. *ends solved*:"
        " mean of the last 5 evaluations ≥ 475; *stable*: evaluations ≥ 475 from the third "
        "after the solve, pooled; *steps/s*: median env steps per second of training.",
        "",
        "| variant | candidate | seeds | ends solved | stable | solved | median steps to solve "
        "| env steps/s | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    winners = {}
    for v in VARIANTS:
        table = {c: m for c in CANDIDATES if (m := measures(v, c)) is not None}
        complete = len(table) == len(CANDIDATES) and all(
            m["seeds"] == len(SEEDS) for m in table.values()
        )
        best, out = choose(v, table) if "shared" in table else (None, [])
        if complete and best is not None:
            winners[v] = {"candidate": best, "overrides": CANDIDATES[best]}
        for c, m in table.items():
            mark = "speed rule: out" if c in out else ("**preset**" if complete and c == best
                                                       else "")  # fmt: skip
            solve = "∞" if np.isinf(m["median_solve"]) else f"{m['median_solve']:,.0f}"
            lines.append(
                f"| {v} | {c} | {m['seeds']} | {m['ends_solved']}/{m['seeds']} | "
                f"{m['stable']:.0%} | {m['solved']}/{m['seeds']} | {solve} | "
                f"{m['steps_per_s']:,.0f} | {mark} |"
            )
    if len(winners) < len(VARIANTS):
        lines += ["", "The sweep is not complete: no preset is chosen for a variant whose six "
                  "candidates have not all finished every seed."]  # fmt: skip
    (OUT / "presets.json").write_text(json.dumps(winners, indent=2) + "\n")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--table-only", action="store_true", help="only write the table")
    args = parser.parse_args(argv)
    if not args.table_only:
        try:
            run_jobs(jobs(), args.workers, desc="round-3 tuning runs")
        except KeyboardInterrupt:
            print("stopped; finished runs are kept, run again to resume", file=sys.stderr)
    text = report()
    (OUT / "presets.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
