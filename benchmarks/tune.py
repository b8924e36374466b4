"""The tuning sweep behind the default Config: candidates × variants × *tuning* seeds.

Protocol (benchmarks/TUNING.md): candidates are screened on seeds from 0–99 only; the report
seeds 100–119 are never used here. Each candidate is the round-1 Config with a few fields
changed, written out in full below so that later changes of the defaults cannot change what a
recorded result means. Finished runs are kept (the sweep resumes); results go to
``benchmarks/results/tuning/<candidate>/<variant>/seed<k>/`` and the table to
``benchmarks/results/tuning.md``.

    python benchmarks/tune.py --candidates r1 lr-decay --variants per-sumtree --seeds 0-7
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from common import ROOT, ROUND1, Job, run_jobs

from prdqn_lib.stats import stability
from prdqn_lib.train import History
from prdqn_lib.variants import variant_names

# The round-1 defaults of every field the sweep touches.
R1 = ROUND1

CANDIDATES: dict[str, dict] = {
    "r1": {},
    "lr-decay": {"lr_final_frac": 0.1},
    "polyak": {"tau": 0.005},
    "polyak+lr-decay": {"tau": 0.005, "lr_final_frac": 0.1},
    "sync100": {"target_update": 100},
    "sync100+lr-decay": {"target_update": 100, "lr_final_frac": 0.1},
    "clip10+lr-decay": {"max_grad_norm": 10.0, "lr_final_frac": 0.1},
    "lr1e-3": {"lr": 1e-3},
    "adam-eps+lr-decay": {"adam_eps": 1e-4, "lr_final_frac": 0.1},
    # stage 1b, after the diagnosis (Q(s0) overshoots 1/(1-γ) after the solve, then diverges)
    # and stage 1 (a slower target stabilises but solves later; decay over the run is too late)
    "lr-decay20k": {"lr_final_frac": 0.1, "lr_decay_steps": 20_000},
    "sync50+lr-decay20k": {"target_update": 50, "lr_final_frac": 0.1, "lr_decay_steps": 20_000},
    "gamma0.98+lr-decay20k": {"gamma": 0.98, "lr_final_frac": 0.1, "lr_decay_steps": 20_000},
    "polyak0.02+lr-decay20k": {"tau": 0.02, "lr_final_frac": 0.1, "lr_decay_steps": 20_000},
    # stage 1c: the slow target (sync100) keeps agents solved but learns later; can a larger
    # step or a smooth target of the same lag learn sooner?
    "lr5e-3+sync100+lr-decay": {"lr": 5e-3, "target_update": 100, "lr_final_frac": 0.1},
    # stage 1d: many backups early (sync every 25 updates learns fast), a slow target later
    # (sync every 100 keeps agents solved): the sync period grows with the lr schedule
    "sync25to100+lr-decay": {"target_update_final": 100, "lr_final_frac": 0.1},
    "sync25to200+lr-decay": {"target_update_final": 200, "lr_final_frac": 0.1},
    "sync25to100+lr-decay20k": {
        "target_update_final": 100,
        "lr_final_frac": 0.1,
        "lr_decay_steps": 20_000,
    },
    "b256x4+sync25to100+lr-decay": {
        "batch_size": 256,
        "train_every": 4,
        "target_update_final": 100,
        "lr_final_frac": 0.1,
    },
    "sync50to200+lr-decay": {"target_update": 50, "target_update_final": 200, "lr_final_frac": 0.1},
    # stage 1e: per-list (no IS weights) stayed solved most in round 1; IS weights shrink
    # exactly the updates on the over-valued terminal transitions that PER samples most
    "no-IS": {"beta": 0.0, "beta_final": 0.0},
    "sync25to100+lr-decay+no-IS": {
        "target_update_final": 100,
        "lr_final_frac": 0.1,
        "beta": 0.0,
        "beta_final": 0.0,
    },
    # stage 1f: once solved, ε = 0.02 shows the memory almost no failures; more exploration
    # keeps near-failure states (and their low values) in the data
    "sync100+lr-decay+eps0.1": {"target_update": 100, "lr_final_frac": 0.1, "eps_end": 0.1},
    "sync25to100+lr-decay+eps0.1": {
        "target_update_final": 100,
        "lr_final_frac": 0.1,
        "eps_end": 0.1,
    },
    "sync100+lr-decay+no-IS": {
        "target_update": 100,
        "lr_final_frac": 0.1,
        "beta": 0.0,
        "beta_final": 0.0,
    },
    "sync25to100+lr-decay+beta0.4": {
        "target_update_final": 100,
        "lr_final_frac": 0.1,
        "beta_final": 0.4,
    },
    "sync25to200+lr-decay+no-IS": {
        "target_update_final": 200,
        "lr_final_frac": 0.1,
        "beta": 0.0,
        "beta_final": 0.0,
    },
    "sync25to100+no-IS": {"target_update_final": 100, "beta": 0.0, "beta_final": 0.0},
    "sync100+lr-decay+eps2.5k": {
        "target_update": 100,
        "lr_final_frac": 0.1,
        "eps_decay_steps": 2_500,
    },
}

OUT = ROOT / "benchmarks" / "results"


def parse_seeds(text: str) -> list[int]:
    """'0-7' or '0,3,5' → seeds; every seed must be a tuning seed (0–99)."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    if any(not 0 <= s <= 99 for s in seeds):
        raise argparse.ArgumentTypeError(f"tuning seeds must lie in 0-99, got {text!r}")
    return seeds


def candidate_overrides(name: str) -> tuple[tuple[str, object], ...]:
    return tuple(sorted({**R1, **CANDIDATES[name]}.items()))


def table(results: dict) -> str:
    lines = [
        "| candidate | variant | changes from round 1 | seeds | solved | median steps to solve "
        "| final ≥ 475 | median final | stable evals (≥ 475 from the 3rd after the solve) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, variant), runs in results.items():
        solves = [r["steps_to_solve"] for r in runs]
        ranked = [s if s is not None else np.inf for s in solves]
        finals = [r["final_eval_return"] for r in runs]
        good = total = 0
        for r in runs:
            g, t = stability(History.load(r["folder"]).eval_returns)
            good, total = good + g, total + t
        med = float(np.median(ranked))
        changes = ", ".join(f"{k}={v}" for k, v in CANDIDATES[name].items()) or "—"
        lines.append(
            f"| {name} | {variant} | {changes} | {len(runs)} | "
            f"{sum(s is not None for s in solves)}/{len(runs)} | "
            f"{'—' if not np.isfinite(med) else f'{med:,.0f}'} | "
            f"{sum(f >= 475 for f in finals)}/{len(runs)} | {np.median(finals):.0f} | "
            f"{100 * good / total if total else float('nan'):.0f}% ({good}/{total}) |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    parser.add_argument("--variants", nargs="+", default=["per-sumtree"], choices=variant_names())
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-7"))
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", action="store_true",
                        help="only rebuild tuning.md from every finished run")  # fmt: skip
    args = parser.parse_args(argv)

    root = OUT / "tuning"
    if not args.report:
        jobs = [
            Job(v, s, args.steps, str(root / c / v / f"seed{s}"), candidate_overrides(c))
            for c in args.candidates
            for v in args.variants
            for s in args.seeds
        ]
        run_jobs(jobs, args.workers, desc="tuning runs")
    results: dict = {}
    for c in CANDIDATES:
        for v in variant_names():
            folders = sorted((root / c / v).glob("seed*"), key=lambda p: int(p.name[4:]))
            runs = []
            for f in folders:
                if (f / "summary.json").exists():
                    runs.append({**json.loads((f / "summary.json").read_text()), "folder": f})
            if runs:
                results[(c, v)] = runs
    report = (
        "# Tuning sweep (seeds 0–99 only; see TUNING.md)\n\n"
        f"{args.steps:,} env steps per run. Round-1 values of the swept fields: "
        + ", ".join(f"{k}={v}" for k, v in R1.items())
        + ".\n\n"
        + table(results)
        + "\n"
    )
    (OUT / "tuning.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
