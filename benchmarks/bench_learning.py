"""Learning efficiency of the four variants on CartPole-v1, over many seeds.

Every variant trains with the same Config (prdqn_lib defaults, no per-seed tuning) for
``--steps`` env steps on each seed. "Solved" = the first of two consecutive evaluations (10
greedy episodes each, every 1,000 env steps) with mean return ≥ 475.

Writes, under ``--out`` (default ``benchmarks/results``):
    learning/<variant>/seed<k>/{history.csv, eval.csv, summary.json}   each run
    learning.md, learning.csv                                          the table
    ../../media/compare_variants.png                                   mean ± IQR band plot

Runs go to ``--workers`` processes (2 on this 2-core machine); a finished run is kept, so an
interrupted benchmark resumes where it stopped (``--fresh`` starts over). Env steps per second
are also measured by one per-sumtree run alone on an otherwise idle machine (``--speed-steps``).

    python benchmarks/bench_learning.py                       # 4 variants x 10 seeds x 50k steps
    python benchmarks/bench_learning.py --seeds 2 --steps 5000 --out /tmp/quick   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from multiprocessing import Pool
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from prdqn_lib.config import VARIANTS, Config  # noqa: E402
from prdqn_lib.plots import plot_variants  # noqa: E402
from prdqn_lib.train import History, run_summary, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_one(job: tuple[str, int, int, str]) -> dict:
    variant, seed, steps, folder = job
    out = Path(folder)
    summary_path = out / "summary.json"
    if summary_path.exists():
        return json.loads(summary_path.read_text())
    result = train(Config(variant=variant, seed=seed, total_steps=steps), progress=False)
    h = result.history
    if h.interrupted:
        raise KeyboardInterrupt
    out.mkdir(parents=True, exist_ok=True)
    h.save(out)
    summary = run_summary(result.config, h)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")  # written last: run complete
    return summary


def speed_run(steps: int) -> dict:
    """One per-sumtree run alone: env steps per second and the replay memory's share."""
    h = train(Config(variant="per-sumtree", seed=100, total_steps=steps), progress=False).history
    return {"steps_per_second": h.steps_per_second, "replay_share": h.replay_share}


def save_plot(args, runs_dir: Path) -> None:
    """Mean ± IQR band of every variant's evaluation returns, to media/compare_variants.png."""
    histories = {
        v: [History.load(runs_dir / v / f"seed{s}") for s in range(args.seeds)]
        for v in args.variants
    }
    ax = plot_variants(histories, title=f"CartPole-v1, {args.seeds} seeds per variant")
    media = ROOT / "media" if args.out == ROOT / "benchmarks" / "results" else args.out
    media.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(media / "compare_variants.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)


def fmt_steps(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Learning efficiency of the four variants.")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per variant (default 10)")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per run")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--speed-steps", type=int, default=20_000,
                        help="steps of the solo per-sumtree speed run (0 skips it)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--fresh", action="store_true", help="discard finished runs first")
    parser.add_argument("--plot-only", action="store_true",
                        help="only redraw the comparison plot from the finished runs")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("seeds", "steps", "workers"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    if args.speed_steps < 0:
        parser.error("--speed-steps must be >= 0")

    runs_dir = args.out / "learning"
    if args.plot_only:
        save_plot(args, runs_dir)
        return 0
    if args.fresh and runs_dir.exists():
        shutil.rmtree(runs_dir)
    jobs = [
        (v, s, args.steps, str(runs_dir / v / f"seed{s}"))
        for s in range(args.seeds)
        for v in args.variants
    ]
    summaries: dict[str, list[dict]] = {v: [] for v in args.variants}
    with Pool(args.workers) as pool:
        for summary in tqdm(pool.imap_unordered(run_one, jobs), total=len(jobs), desc="runs"):
            summaries[summary["variant"]].append(summary)
    speed = speed_run(args.speed_steps) if args.speed_steps else None

    rows = []
    for v in args.variants:
        runs = sorted(summaries[v], key=lambda r: r["seed"])
        solves = [r["steps_to_solve"] for r in runs]
        solved = [s for s in solves if s is not None]
        # median over all seeds, an unsolved seed counting as "more than the budget"
        ranked = sorted(s if s is not None else np.inf for s in solves)
        median = float(np.median(ranked))
        q1, q3 = np.percentile(ranked, [25, 75])
        rows.append(
            {
                "variant": v,
                "seeds": len(runs),
                "solved": len(solved),
                "median": median if np.isfinite(median) else None,
                "q1": q1 if np.isfinite(q1) else None,
                "q3": q3 if np.isfinite(q3) else None,
                "min": min(solved) if solved else None,
                "max": max(solved) if solved else None,
                "final_mean": statistics.mean(r["final_eval_return"] for r in runs),
                "final_min": min(r["final_eval_return"] for r in runs),
                "sps": statistics.median(r["env_steps_per_second"] for r in runs),
                "replay_share": statistics.median(r["replay_share"] for r in runs),
                "solves": solves,
            }
        )

    header = (
        f"| variant | solved within {args.steps // 1000}k | median steps to solve | IQR | "
        "fastest / slowest solve | final eval return (mean, min) | env steps/s (2 runs at once) | "
        "replay memory share of a training step |"
    )
    lines = [header, "|" + "---|" * 8]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['solved']}/{r['seeds']} | {fmt_steps(r['median'])} | "
            f"{fmt_steps(r['q1'])}–{fmt_steps(r['q3'])} | "
            f"{fmt_steps(r['min'])} / {fmt_steps(r['max'])} | "
            f"{r['final_mean']:.0f}, {r['final_min']:.0f} | {r['sps']:.0f} | "
            f"{100 * r['replay_share']:.1f}% |"
        )
    per_seed = ["", "Steps to solve per seed (— = not within the budget):", ""]
    per_seed += [f"- {r['variant']}: " + ", ".join(fmt_steps(s) for s in r["solves"]) for r in rows]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    speed_text = ""
    if speed:
        speed_text = (
            f"\nSolo speed (one per-sumtree run of {args.speed_steps:,} steps, nothing else "
            f"running): **{speed['steps_per_second']:.0f} env steps/s**, replay memory "
            f"{100 * speed['replay_share']:.1f}% of the training loop's time. Replay ratio: one "
            f"gradient step of {Config.batch_size} transitions every {Config.train_every} env "
            f"steps.\n"
        )
    cfg = Config()
    report = (
        f"# Learning benchmark\n\n`python benchmarks/bench_learning.py --seeds {args.seeds} "
        f"--steps {args.steps}` on {machine}. Every run uses prdqn_lib's default Config "
        f"(lr {cfg.lr}, batch {cfg.batch_size} every {cfg.train_every} steps, target sync every "
        f"{cfg.target_update} updates, hidden {cfg.hidden}, γ {cfg.gamma}); only the seed "
        f"changes. Solved = first of two consecutive evaluations (10 greedy episodes, every "
        f"{cfg.eval_every:,} steps) with mean ≥ 475.\n\n" + "\n".join(lines) + "\n"
        + "\n".join(per_seed) + "\n" + speed_text
    )  # fmt: skip
    print("\n" + report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "learning.md").write_text(report)
    with open(args.out / "learning.csv", "w") as f:
        f.write("variant,seed,steps_to_solve,final_eval_return,env_steps_per_second,replay_share\n")
        for v in args.variants:
            for r in sorted(summaries[v], key=lambda r: r["seed"]):
                f.write(
                    f"{v},{r['seed']},{r['steps_to_solve'] or ''},{r['final_eval_return']:.1f},"
                    f"{r['env_steps_per_second']:.1f},{r['replay_share']:.4f}\n"
                )

    save_plot(args, runs_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
