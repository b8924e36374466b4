"""What in PER changes its speed on CartPole: a bounded ablation of per-sumtree's preset, on the
report seeds (100–119), one change at a time. Exploratory: no setting is chosen from it
(benchmarks/REPORT_PROTOCOL.md).

Arms, each per-sumtree's preset (``Config.preset("per-sumtree")``: α 0.6, IS weights off,
write-back of the batch's |δ| only, new transitions at the running max priority) with one
change:

* ``alpha0``: α = 0: the SumTree samples uniformly (PER's machinery, none of its effect);
* ``alpha1``: α = 1: priorities proportional to |δ| + ε;
* ``is-on``: IS weights on with the paper's β 0.4 → 1;
* ``full-refresh``: every stored |δ| recomputed after each episode (the list memory's rule of
  03, here on the SumTree), on top of the write-back;
* ``new-own-td``: a new transition enters at its own |δ| under the current networks (one
  forward pass per env step, as Ape-X's actors do) instead of at the running max.

The preset itself is the run of ``bench_learning.py`` (``results/learning/per-sumtree``).
The last two arms are variants registered here, outside the package, through the registry,
like any plug-in. Writes ``results/ablation/<arm>/seed<k>/`` and ``results/ablation.md``.

    python benchmarks/ablation.py                 # 5 arms x 20 seeds x 50k steps (~25 min)
    python benchmarks/ablation.py --table-only    # the table from the finished runs
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from common import (
    ROOT,
    Job,
    changes_from_shared,
    load_run,
    median_solve,
    pooled_stability,
    run_jobs,
)

from prdqn_lib.config import Config
from prdqn_lib.recorder import History
from prdqn_lib.stats import (
    end_return,
    ends_solved,
    holm,
    mcnemar_exact,
    paired_difference,
    proportion_ci,
)
from prdqn_lib.variants import Variant, get_variant, proportional_memory, register, variant_names

SEEDS = tuple(range(100, 120))
STEPS = 50_000
OUT = ROOT / "benchmarks" / "results"
BASE = "per-sumtree"

for _name, _desc, _opts in (
    ("per-sumtree-refresh", "SumTree PER, every |δ| refreshed after each episode",
     {"refresh_after_episode": True}),
    ("per-sumtree-own-td", "SumTree PER, new transitions at their own |δ|",
     {"new_priority": "td"}),
):  # fmt: skip
    if _name not in variant_names():
        base = get_variant(BASE)
        register(Variant(_name, _desc, proportional_memory, base.memory_label, preset=base.preset,
                         style=base.style, **_opts))  # fmt: skip

ARMS: dict[str, tuple[str, dict[str, object]]] = {  # arm: (variant, changes to the preset)
    "alpha0": (BASE, {"alpha": 0.0}),
    "alpha1": (BASE, {"alpha": 1.0}),
    "is-on": (BASE, {"beta": 0.4, "beta_final": 1.0}),
    "full-refresh": ("per-sumtree-refresh", {}),
    "new-own-td": ("per-sumtree-own-td", {}),
}


def config_of(arm: str, seed: int = 0) -> Config:
    variant, changes = ARMS[arm]
    return Config.preset(variant, BASE, seed=seed, total_steps=STEPS, **changes)


def jobs() -> list[Job]:
    out = []
    for s in SEEDS:  # seed by seed: the arms of a seed share the machine's conditions
        for arm in ARMS:
            cfg = config_of(arm, s)
            out.append(Job(cfg.variant, s, STEPS, str(OUT / "ablation" / arm / f"seed{s}"),
                           changes_from_shared(cfg)))  # fmt: skip
    return out


def arm_runs(arm: str) -> list[tuple[dict, History]]:
    root = OUT / "learning" / BASE if arm == "preset" else OUT / "ablation" / arm
    return [load_run(root / f"seed{s}") for s in SEEDS]


def measures(runs) -> dict:
    good, counted = pooled_stability(h for _, h in runs)
    solves = [x["steps_to_solve"] for x, _ in runs]
    return {
        "solved": sum(s is not None for s in solves),
        "median_solve": median_solve(solves),
        "solves": [STEPS if s is None else s for s in solves],  # censored at the budget
        "ends": [bool(ends_solved(h.eval_returns)) for _, h in runs],
        "end_return": [end_return(h.eval_returns) for _, h in runs],
        "stable": good / counted if counted else float("nan"),
        "sps": float(np.median([x["env_steps_per_second"] for x, _ in runs])),
    }


def report() -> str:
    base = measures(arm_runs("preset"))
    n = len(SEEDS)
    rows, pvals = [], []
    for arm in ARMS:
        m = measures(arm_runs(arm))
        solve = paired_difference(m["solves"], base["solves"], test="wilcoxon")
        ends = mcnemar_exact(m["ends"], base["ends"])
        rows.append((arm, m, solve, ends))
        pvals += [solve.p_value, ends.p_value]
    adjusted = holm(pvals)

    def line(arm, m, extra):
        e = sum(m["ends"])
        ci = proportion_ci(e, n)
        med = "∞" if np.isinf(m["median_solve"]) else f"{m['median_solve']:,.0f}"
        return (f"| {arm} | {m['solved']}/{n} | {med} | {e}/{n} [{ci.low:.2f}, {ci.high:.2f}] "
                f"| {m['stable']:.0%} | {m['sps']:,.0f} | {extra} |")  # fmt: skip

    lines = [
        "# Ablation of per-sumtree's preset (exploratory)",
        "",
        f"`python benchmarks/ablation.py`: report seeds {SEEDS[0]}–{SEEDS[-1]} (never used in "
        f"tuning), {STEPS:,} env steps, no early stop; per-sumtree's preset with one change "
        "per arm (see the script's docstring). Paired by seed against the preset: steps to "
        "solve by Wilcoxon's signed-rank test (unsolved = the budget), Hodges–Lehmann "
        "estimate of arm − preset; ends solved by McNemar's exact test. Holm-adjusted over "
        f"the {len(pvals)} tests of this table; all **exploratory** (no choice is made from "
        "them). Wilson 95% intervals for the shares of seeds.",
        "",
        "| arm | solved | median steps to solve | ends solved [95% CI] | stable | env steps/s "
        "| vs the preset: steps to solve (HL estimate, p, p Holm); ends solved (b/c, p, p Holm) |",
        "|---|---|---|---|---|---|---|",
        line("preset (α 0.6, IS off, write-back, new at max)", base, "—"),
    ]
    for k, (arm, m, solve, ends) in enumerate(rows):
        hl = solve.estimate
        extra = (f"{hl.point:+,.0f} steps, p {solve.p_value:.3f}, Holm {adjusted[2 * k]:.3f}; "
                 f"{ends.only_x}/{ends.only_y}, p {ends.p_value:.3f}, Holm "
                 f"{adjusted[2 * k + 1]:.3f}")  # fmt: skip
        lines.append(line(arm, m, extra))
    lines += ["", "Per seed, steps to solve (budget = not solved) / ends solved:", ""]
    for arm, m in [("preset", base)] + [(a, m) for a, m, _, _ in rows]:
        cells = [f"{s:,}/{'y' if e else 'n'}" for s, e in zip(m["solves"], m["ends"], strict=True)]
        lines.append(f"- {arm}: " + "; ".join(cells))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--table-only", action="store_true", help="only write the table")
    args = parser.parse_args(argv)
    if not args.table_only:
        try:
            run_jobs(jobs(), args.workers, desc="ablation runs")
        except KeyboardInterrupt:
            print("stopped; finished runs are kept, run again to resume", file=sys.stderr)
            return 130
    text = report()
    (OUT / "ablation.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
