"""Ape-X on report seeds: free vs paced mode with the paper's learner, and the earlier learner.

    python benchmarks/bench_apex.py                 # 3 arms × seeds 100–109, one run at a time
    python benchmarks/bench_apex.py --report-only   # rewrite results/apex_modes.md from the runs

Follows ``benchmarks/APEX_PROTOCOL.md`` (committed before the runs): arms ``free``, ``paced``
and ``paced-shared`` (see there), 2 actors, 50,000 env steps, ``buffer_size=20_000`` (so the
ring evicts), seed by seed in that order. Each run goes to ``results/apex/<arm>/seed<N>/``
(resumable: a finished run is loaded, not re-run; Ctrl-C keeps what is finished). The report,
``results/apex_modes.md`` and ``.json``, gives per arm the seeds solved, median env steps and
seconds to solve, Ray start-up, env steps/s, the replay ratio and the learner's waits, the
declared free-vs-paced test, and every seed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import (  # noqa: E402
    Job,
    changes_from_shared,
    fmt,
    load_run,
    median_solve,
    pooled_stability,
    run_jobs,
)

from prdqn_lib.config import Config  # noqa: E402
from prdqn_lib.stats import SOLVED_RETURN, paired_difference  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
STEPS, CAPACITY, SEEDS = 50_000, 20_000, list(range(100, 110))
ARMS = {  # name -> (preset, changes), as in APEX_PROTOCOL.md
    "free": ("apex", {"apex_mode": "free"}),
    "paced": ("apex", {"apex_mode": "paced"}),
    "paced-shared": ("shared", {"apex_mode": "paced"}),
}


# APEX_PROTOCOL.md's amendment (exploratory, added after seeing free's first five seeds)
LONG = {"free-long": ("apex", {"apex_mode": "free", "total_steps": 300_000, "eval_every": 5_000})}


def arm_config(arm: str, seed: int, steps: int = STEPS) -> Config:
    preset, changes = {**ARMS, **LONG}[arm]
    changes = {"total_steps": steps, **changes}
    return Config.preset("apex", preset, seed=seed, buffer_size=CAPACITY, **changes)


def jobs(seeds, steps: int, out: Path, arms=ARMS) -> list[Job]:
    jobs = []
    for s in seeds:
        for arm in arms:
            cfg = arm_config(arm, s, steps)
            jobs.append(Job("apex", s, cfg.total_steps, str(out / arm / f"seed{s}"),
                            changes_from_shared(cfg)))  # fmt: skip
    return jobs


def seed_row(folder: Path) -> dict:
    summary, h = load_run(folder)
    solve = h.steps_to_solve()
    wall = train = None
    if solve is not None:  # the solve is certain at the second of the two evaluations
        k = [int(e["env_steps"]) for e in h.evals].index(solve) + 1
        wall, train = h.evals[k]["wall_time"], h.evals[k]["train_seconds"]
    loop = summary.get("loop", {})
    return {"seed": summary["seed"], "solve": solve, "wall": wall, "train": train,
            "sps": summary["env_steps_per_second"], "startup": summary["startup_seconds"],
            "updates": summary["gradient_steps"], "replay_ratio": summary["replay_ratio"],
            "updates_per_s": summary["gradient_steps"] / summary["train_seconds"],
            "fetch_wait": loop.get("fetch_wait_seconds"),
            "train_seconds": summary["train_seconds"],
            "final": summary["final_eval_return"], "history": h}  # fmt: skip


def declared_test(rows: dict[str, list[dict]]) -> dict:
    """Free vs paced, wall-clock seconds to solve, paired by seed (APEX_PROTOCOL.md)."""
    free, paced = rows["free"], rows["paced"]
    assert [r["seed"] for r in free] == [r["seed"] for r in paced]
    solved = [r["wall"] for r in free + paced if r["wall"] is not None]
    cap = 2 * max(solved) if solved else 1.0
    x = np.array([cap if r["wall"] is None else r["wall"] for r in free])
    y = np.array([cap if r["wall"] is None else r["wall"] for r in paced])
    d = paired_difference(x, y, test="wilcoxon")
    est = d.estimate
    return {"n": len(x), "p": float(d.p_value), "hl": float(est.point),
            "low": None if est.degenerate else float(est.low),
            "high": None if est.degenerate else float(est.high),
            "free_faster": int((x < y).sum()), "paced_faster": int((x > y).sum())}  # fmt: skip


def arm_summary(rs: list[dict]) -> dict:
    """An arm's headline numbers over its seeds (medians; an unsolved seed counts as ∞)."""
    good, counted = pooled_stability([r["history"] for r in rs])
    return {"n": len(rs), "solved": sum(r["solve"] is not None for r in rs),
            "median_solve": median_solve([r["solve"] for r in rs]),
            "median_wall": median_solve([r["wall"] for r in rs]),
            "median_train": median_solve([r["train"] for r in rs]),
            "median_startup": float(np.median([r["startup"] for r in rs])),
            "median_sps": float(np.median([r["sps"] for r in rs])),
            "median_replay_ratio": float(np.median([r["replay_ratio"] for r in rs])),
            "median_updates_per_s": float(np.median([r["updates_per_s"] for r in rs])),
            "median_updates": float(np.median([r["updates"] for r in rs])),
            "final_solved": sum(r["final"] >= SOLVED_RETURN for r in rs),
            "stable": [good, counted]}  # fmt: skip


def report(out: Path) -> dict:
    rows = {}
    for arm in ARMS:
        folders = [out / arm / f"seed{s}" for s in SEEDS]
        rows[arm] = [seed_row(f) for f in folders if (f / "summary.json").exists()]
    long_rows = [seed_row(f) for f in (out / "free-long" / f"seed{s}" for s in SEEDS)
                 if (f / "summary.json").exists()]  # fmt: skip
    summary = {}
    lines = [
        "# Ape-X: free vs paced mode, and the earlier learner (report seeds 100–109)",
        "",
        "`python benchmarks/bench_apex.py`, under `benchmarks/APEX_PROTOCOL.md` (committed "
        "before the runs). 2 actors (ε 0.4 and 0.4⁸), 50,000 env steps summed over actors, "
        f"`buffer_size={CAPACITY:,}` (the ring evicts), one run at a time on this 2-core "
        "machine. Report seeds 100–109, never tuned on; nothing about apex was tuned. "
        f"Solved = two consecutive evaluations ≥ {SOLVED_RETURN:.0f} (10 greedy episodes "
        "each); an unsolved seed counts as ∞ in the medians. Seconds to solve are read at the "
        "second of the two evaluations, from the learner's start (Ray start-up excluded, in "
        "its own column); *training* seconds also exclude the evaluations.",
        "",
        "| arm | learner | solved within 50k | env steps to solve: median | wall-clock s to "
        "solve: median | training s to solve: median | Ray start-up s: median | env steps/s: "
        "median | replay ratio: median | learner updates/s: median | final eval ≥ 475 | "
        "stable after solving |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    learner = {"free": "paper's", "paced": "paper's", "paced-shared": "earlier"}
    for arm, rs in rows.items():
        if not rs:
            continue
        s = arm_summary(rs)
        good, counted = s["stable"]
        if arm == "free":
            s["median_fetch_wait_share"] = float(np.median(
                [r["fetch_wait"] / r["train_seconds"] for r in rs]))  # fmt: skip
        summary[arm] = s
        stab = f"{good}/{counted} ({good / counted:.0%})" if counted else "—"
        lines.append(
            f"| `{arm}` | {learner[arm]} | {s['solved']}/{s['n']} | {fmt(s['median_solve'])} | "
            f"{fmt(s['median_wall'], 1)} | {fmt(s['median_train'], 1)} | "
            f"{s['median_startup']:.1f} | {s['median_sps']:,.0f} | "
            f"{s['median_replay_ratio']:.1f} | {s['median_updates_per_s']:,.0f} | "
            f"{s['final_solved']}/{s['n']} | {stab} |"
        )
    lines += [
        "",
        "Replay ratio = transitions replayed per env step, batch_size × gradient "
        "steps / env steps (per-sumtree's is 128/2 = 64; paced mode keeps it).",
    ]
    if "free" in summary:
        share = summary["free"]["median_fetch_wait_share"]
        lines.append(f"Free mode's learner spent a median {share:.0%} of its training time "
                     "waiting for its prefetched batches.")  # fmt: skip
    if len(rows.get("free", [])) == len(rows.get("paced", [])) == len(SEEDS):
        t = declared_test(rows)
        summary["declared_test"] = t
        lines += ["", "## The declared comparison: wall-clock seconds to solve, free − paced",
                  "",
                  f"Paired by seed (n = {t['n']}), two-sided Wilcoxon signed-rank: p = "
                  f"{t['p']:.3g}; Hodges–Lehmann estimate {t['hl']:+.1f} s ("
                  + ("no interval" if t["low"] is None else
                     f"95% interval {t['low']:+.1f} to {t['high']:+.1f}")
                  + f"); free faster on {t['free_faster']} of the {t['n']} "
                  f"seeds, paced on {t['paced_faster']}. An unsolved seed enters as twice the "
                  "largest solved time (its rank only)."]  # fmt: skip
    if long_rows:
        summary["free-long"] = arm_summary(long_rows)
        s = summary["free-long"]
        lines += ["", "## Exploratory: free mode with 300,000 env steps (`free-long`)", "",
                  "Added after seeing `free`'s first five seeds (APEX_PROTOCOL.md's amendment): "
                  "the same arm with `total_steps=300_000` and an evaluation every 5,000 env "
                  "steps, to see free mode's wall-clock time to solve when data is not the "
                  "limit. No test; compare with `paced` per seed below.", "",
                  f"Solved {s['solved']}/{s['n']}; median env steps to solve "
                  f"{fmt(s['median_solve'])}; median wall-clock s to solve "
                  f"{fmt(s['median_wall'], 1)} (training s {fmt(s['median_train'], 1)}); env "
                  f"steps/s {s['median_sps']:,.0f}; replay ratio {s['median_replay_ratio']:.1f}; "
                  f"learner updates/s {s['median_updates_per_s']:,.0f}."]  # fmt: skip
        rows = {**rows, "free-long": long_rows}
    lines += ["", "## Every seed", "",
              "| seed | " + " | ".join(f"{a}: steps to solve, wall s" for a in rows) + " |",
              "|---|" + "---|" * len(rows)]  # fmt: skip
    for k, seed in enumerate(SEEDS):
        cells = []
        for _arm, rs in rows.items():
            r = next((r for r in rs if r["seed"] == seed), None)
            cells.append("—" if r is None else
                         f"{fmt(r['solve'])}, {fmt(r['wall'], 1)}" if r["solve"] is not None
                         else "not solved")  # fmt: skip
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
        del k
    (RESULTS / "apex_modes.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "apex_modes.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--long", action="store_true",
                        help="also run the amendment's free-long arm")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS / "apex")
    args = parser.parse_args(argv)
    if not args.report_only:
        try:
            run_jobs(jobs(SEEDS, STEPS, args.out), workers=1, desc="apex runs")
            if args.long:
                run_jobs(jobs(SEEDS, STEPS, args.out, LONG), workers=1, desc="free-long runs")
        except KeyboardInterrupt:
            print("interrupted: finished runs are kept", file=sys.stderr)
    s = report(args.out)
    print(json.dumps({a: {k: v for k, v in x.items() if k != "stable"} for a, x in s.items()},
                     indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
