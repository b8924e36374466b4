"""Learning efficiency and stability of the variants on CartPole-v1, on the *report* seeds.

Every variant trains twice on each report seed (default 100–119, never used in tuning), for
``--steps`` env steps, no early stopping: with its own **preset** (``Config.preset(variant)``,
round 3's winner on tuning seeds 20–25, ``benchmarks/PRESETS_PROTOCOL.md``) and with the one
**shared** Config (prdqn_lib's defaults, round 2's, chosen on per-sumtree alone; see
``benchmarks/TUNING.md``). A variant whose preset is the shared Config runs once. The jobs
are interleaved (seed by seed, variant by variant, preset then shared) so both see the same
machine load. Measures, per variant and Config:

* solved: the first of two consecutive evaluations (10 greedy episodes every 1,000 env steps)
  with mean return ≥ 475; steps to solve (an unsolved seed counts as "more than the budget");
* the final evaluation's return;
* stability: the share of evaluations ≥ 475 from the third evaluation after the solve on (the
  two that define the solve are not counted), pooled over seeds;
* env steps per second of whole runs (two at once on this 2-core machine);
* median and interquartile mean (IQM) with bootstrap 95% confidence intervals
  (``prdqn_lib.stats``, scipy's bootstrap), and every seed's value.

Writes, under ``--out`` (default ``benchmarks/results``):
    learning/<variant>/seed<k>/{history.csv, eval.csv, config.json, summary.json}   own preset
    learning_shared/<variant>/seed<k>/...                                       shared Config
    learning.md, learning.csv                                                       the tables
    media/compare_variants.png  (under --out unless --out is the default)           the figure

Finished runs are kept, so an interrupted benchmark resumes (``--fresh`` starts over).

    python benchmarks/bench_learning.py                        # 5 variants x 20 seeds x 50k
    python benchmarks/bench_learning.py --preset shared        # the shared Config only
    python benchmarks/bench_learning.py --seeds 0-1 --steps 3000 --out /tmp/quick   # smoke run
    python benchmarks/bench_learning.py --ray            # the runs as Ray tasks on a local Ray
    python benchmarks/bench_learning.py --ray auto       # ... on the cluster of `ray start`
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common import ROOT, ROUND1, Job, changes_from_shared, fmt, run_jobs  # noqa: E402

from prdqn_lib.config import Config  # noqa: E402
from prdqn_lib.plots import plot_solve_points, plot_variants  # noqa: E402
from prdqn_lib.stats import stability, summarize  # noqa: E402
from prdqn_lib.train import History, train  # noqa: E402
from prdqn_lib.variants import get_variant, variant_names  # noqa: E402

REPORT_SEEDS = "100-119"
DEFAULT_OUT = ROOT / "benchmarks" / "results"


def parse_seeds(text: str) -> list[int]:
    """'100-119' or '0,3,5' or '100-104,110' → a sorted list of distinct seeds."""
    seeds: set[int] = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            seeds.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        msg = f"expected seeds like 100-119 or 0,3,5; got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative seeds, got {text!r}")
    return sorted(seeds)


def speed_run(steps: int, repeats: int = 3) -> dict:
    """per-sumtree runs alone, its preset, the shared Config and round 1's interleaved (tuning
    seeds 0, 1, 2): median env steps/s of each, the ratios, and the replay memory's share."""
    configs = {
        "preset": Config.preset("per-sumtree", total_steps=steps),
        "default": Config(variant="per-sumtree", total_steps=steps),
        "round 1": dataclasses.replace(Config(variant="per-sumtree", total_steps=steps), **ROUND1),
    }
    sps: dict[str, list[float]] = {name: [] for name in configs}
    share = []
    for seed in range(repeats):
        for name, cfg in configs.items():
            h = train(dataclasses.replace(cfg, seed=seed), progress=False).history
            sps[name].append(h.steps_per_second)
            if name == "default":
                share.append(h.replay_share)
    med = {name: statistics.median(v) for name, v in sps.items()}
    return {
        "preset_steps_per_second": med["preset"],
        "preset_ratio": med["preset"] / med["default"],
        "steps_per_second": med["default"],
        "round1_steps_per_second": med["round 1"],
        "ratio": med["default"] / med["round 1"],
        "replay_share": statistics.median(share),
        "repeats": repeats,
    }


def pct(x: float) -> str:
    """A share as a percentage; '—' where nothing was counted."""
    return "—" if np.isnan(x) else f"{100 * x:.0f}%"


def fmt_ci(ci) -> str:
    """'[low, high]', or no interval where the percentile bootstrap degenerates (every
    resample equal, e.g. every seed at the ceiling of 500): such an interval is not evidence."""
    if ci[0] == ci[1]:
        return "(no interval: every resample equal)"
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


PRESETS = ("own", "shared")  # each variant with its own preset; the one shared Config


def overrides(variant: str, preset: str) -> tuple[tuple[str, object], ...]:
    """The fields in which ``preset`` ("own", "shared" or "round1") changes the defaults."""
    if preset == "round1":
        return tuple(sorted(ROUND1.items()))
    return changes_from_shared(Config.preset(variant, None if preset == "own" else "shared"))


def runs_folder(out: Path, preset: str, variant: str) -> Path:
    """Where the runs of ``variant`` with ``preset`` live (an own preset equal to the shared
    Config shares the shared runs: it is the same Config)."""
    if preset == "round1":
        return out / "learning_round1" / variant
    if preset == "own" and overrides(variant, "own"):
        return out / "learning" / variant
    return out / "learning_shared" / variant


def variant_rows(variants, seeds, out: Path, preset: str) -> list[dict]:
    rows = []
    for v in variants:
        summaries, histories = [], []
        for s in seeds:
            folder = runs_folder(out, preset, v) / f"seed{s}"
            summaries.append(json.loads((folder / "summary.json").read_text()))
            histories.append(History.load(folder))
        solves = [r["steps_to_solve"] for r in summaries]
        ranked = [np.inf if s is None else float(s) for s in solves]
        finals = [float(r["final_eval_return"]) for r in summaries]
        stab = [stability(h.eval_returns) for h in histories]
        good, total = sum(g for g, _ in stab), sum(t for _, t in stab)
        rows.append(
            {
                "variant": v,
                "preset": summaries[0].get("preset", "?"),
                # the preset as the registry states it (q_min 0 included, though it is a default)
                "overrides": dict(
                    get_variant(v).preset if preset == "own" else overrides(v, preset)
                ),  # fmt: skip
                "seeds": seeds,
                "solves": solves,
                "finals": finals,
                "stability_per_seed": stab,
                "solved": sum(s is not None for s in solves),
                "solve_stats": summarize(ranked),
                "final_stats": summarize(finals),
                "final_ge_475": sum(f >= 475 for f in finals),
                "stable": good,
                "stable_total": total,
                "sps": statistics.median(r["env_steps_per_second"] for r in summaries),
                "replay_share": statistics.median(r["replay_share"] for r in summaries),
                "histories": histories,
            }
        )
    return rows


def describe(overrides: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in overrides.items()) or "the shared Config"


def table(args, rows) -> list[str]:
    n = len(args.seeds)
    lines = [
        f"| variant | Config | solved within {args.steps // 1000}k | steps to solve: median "
        "[95% CI] | IQM [95% CI] | final eval: median [95% CI] | IQM [95% CI] | final ≥ 475 | "
        "stable evals (≥ 475 from the 3rd after the solve) | env steps/s (2 runs at once) | "
        "replay share of a training step |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, f = r["solve_stats"], r["final_stats"]
        stable = r["stable"] / r["stable_total"] if r["stable_total"] else float("nan")
        lines.append(
            f"| {r['variant']} | {describe(r['overrides'])} | {r['solved']}/{n} | "
            f"{fmt(s['median'])} {fmt_ci(s['median_ci'])} "
            f"| {fmt(s['iqm'])} {fmt_ci(s['iqm_ci'])} | {fmt(f['median'])} "
            f"{fmt_ci(f['median_ci'])} | {fmt(f['iqm'])} {fmt_ci(f['iqm_ci'])} | "
            f"{r['final_ge_475']}/{n} | {pct(stable)} ({r['stable']}/{r['stable_total']})"
            f" | {fmt(r['sps'])} | {100 * r['replay_share']:.1f}% |"
        )
    lines += [
        "",
        f"Per seed ({', '.join(map(str, args.seeds))}): steps to solve (— = not within the "
        "budget) / final evaluation return / stable evaluations:",
        "",
    ]
    for r in rows:
        cells = [
            f"{fmt(s) if s is not None else '—'} / {f:.0f} / {g}/{t}"
            for s, f, (g, t) in zip(r["solves"], r["finals"], r["stability_per_seed"], strict=True)
        ]
        lines.append(f"- {r['variant']} ({describe(r['overrides'])}): " + "; ".join(cells))
    return lines


TITLES = {
    "own": "Each variant with its own preset (`Config.preset(variant)`, round 3)",
    "shared": "Every variant with the one shared Config (prdqn_lib's defaults: like for like)",
    "round1": "Round 1's Config (before the round-2 recipe)",
}


def report(args, tables: dict[str, list[dict]], speed) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    speed_text = ""
    if speed and "preset_steps_per_second" in speed:
        speed_text = (
            f"\nSolo speed (per-sumtree, {speed['steps']:,} steps, nothing else of ours "
            f"running, its preset, the shared Config and round 1's interleaved on tuning seeds "
            f"0–{speed['repeats'] - 1}, medians): preset **{speed['preset_steps_per_second']:.0f} "
            f"env steps/s**, shared {speed['steps_per_second']:.0f} (preset/shared "
            f"{speed['preset_ratio']:.2f}), round 1 {speed['round1_steps_per_second']:.0f} "
            f"(shared/round 1 {speed['ratio']:.2f}); the replay memory takes "
            f"{100 * speed['replay_share']:.1f}% of the shared Config's training loop.\n"
        )
    cfg = Config()
    shared = ", ".join(
        f"{k} {getattr(cfg, k)}"
        for k in ("lr", "lr_final_frac", "batch_size", "train_every", "target_update",
                  "target_update_final", "tau", "hidden", "gamma", "buffer_size", "alpha",
                  "beta", "beta_final")
    )  # fmt: skip
    tuned = "never used in tuning" if min(args.seeds) >= 100 else "**including tuning seeds**"
    flags = "" if args.presets == list(PRESETS) else " --preset " + " ".join(args.presets)
    text = (
        f"# Learning benchmark\n\n`python benchmarks/bench_learning.py --seeds "
        f"{args.seeds_text} --steps {args.steps}{flags}` on {machine}. Seeds "
        f"{args.seeds_text} ({tuned}; the presets were chosen on seeds 20–25, the shared "
        f"Config on seeds 0–15). The shared Config: {shared}; a preset changes the fields "
        f"named in the Config column. No early stopping; the preset and shared runs of a "
        f"seed were interleaved. Solved = first of two consecutive evaluations (10 greedy "
        f"episodes, every {cfg.eval_every:,} steps) with mean ≥ 475; an unsolved seed counts "
        f"as ∞ in the steps-to-solve statistics. Confidence intervals: percentile bootstrap, "
        f"10,000 resamples (scipy); an interval at the ceiling (500, 500) is degenerate, not "
        f"evidence: `benchmarks/report_presets.py` gives the paired, corrected analysis.\n"
    )  # fmt: skip
    for preset, rows in tables.items():
        text += f"\n## {TITLES[preset]}\n\n" + "\n".join(table(args, rows)) + "\n"
    return text + speed_text


def save_figure(args, rows, media: Path) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), width_ratios=[1.6, 1])
    title = f"CartPole-v1, seeds {args.seeds_text}: median and interquartile range"
    plot_variants({r["variant"]: r["histories"] for r in rows}, ax=left, title=title)
    plot_solve_points({r["variant"]: r["solves"] for r in rows}, budget=args.steps, ax=right)
    fig.tight_layout()
    media.mkdir(parents=True, exist_ok=True)
    path = media / "compare_variants.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds(REPORT_SEEDS),
                        help=f"seeds, e.g. 100-119 or 0,3,5 (default {REPORT_SEEDS}: the "
                             "report seeds, never used in tuning)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per run")
    parser.add_argument("--variants", nargs="+", choices=variant_names(),
                        default=[v for v in variant_names() if get_variant(v).loop is None],
                        help="default: every variant but apex (Ape-X runs several processes "
                             "per run; ask for it by name)")  # fmt: skip
    parser.add_argument("--preset", dest="presets", nargs="+", choices=PRESETS,
                        default=list(PRESETS),
                        help="which Configs: own (each variant's preset) and/or shared (the one "
                             "shared Config); default both, interleaved")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="run the variant x seed jobs as Ray tasks (at most --workers at "
                             "once): on a private local Ray, or on the cluster at ADDRESS "
                             "(auto, host:6379, ray://host:10001); same resumable results "
                             "folders. Default: a local process pool")  # fmt: skip
    parser.add_argument("--speed-steps", type=int, default=None,
                        help="steps of the solo per-sumtree speed run (default: min(20,000, "
                             "--steps); 0 skips it)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--fresh", action="store_true", help="discard finished runs first")
    parser.add_argument("--round1", action="store_true",
                        help="train round 1's Config instead (runs in learning_round1/, "
                             "tables in learning_round1.md): a before/after on the same "
                             "seeds")  # fmt: skip
    parser.add_argument("--speed-only", action="store_true",
                        help="only measure the solo speed (then rebuild the report)")  # fmt: skip
    parser.add_argument("--report-only", action="store_true",
                        help="only rebuild tables and figure from the finished runs")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("steps", "workers"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    if args.steps < Config().eval_every:  # a run without an evaluation has nothing to report
        parser.error(f"--steps must be at least {Config().eval_every:,} (one evaluation), "
                     f"got {args.steps}")  # fmt: skip
    if args.speed_steps is None:
        args.speed_steps = min(20_000, args.steps)
    if args.speed_steps < 0:
        parser.error(f"--speed-steps must be >= 0, got {args.speed_steps}")
    argv_seeds = [a for a in (argv or sys.argv[1:])]
    args.seeds_text = (
        argv_seeds[argv_seeds.index("--seeds") + 1] if "--seeds" in argv_seeds else REPORT_SEEDS
    )

    if args.round1:
        args.presets = ["round1"]
    name = "learning_round1" if args.round1 else "learning"
    if args.fresh and not (args.report_only or args.speed_only):
        for preset in args.presets:
            for v in args.variants:
                shutil.rmtree(runs_folder(args.out, preset, v), ignore_errors=True)
    speed = None
    if args.speed_only:
        speed = {**speed_run(args.speed_steps), "steps": args.speed_steps}
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "learning_speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    elif not args.report_only:
        jobs, folders = [], set()
        for s in args.seeds:  # interleaved: seed by seed, variant by variant, preset by preset
            for v in args.variants:
                for preset in args.presets:
                    folder = str(runs_folder(args.out, preset, v) / f"seed{s}")
                    if folder not in folders:  # an own preset that is the shared Config
                        folders.add(folder)
                        jobs.append(Job(v, s, args.steps, folder, overrides(v, preset)))
        if args.ray:
            from ray_jobs import run_jobs_on_ray

            run_jobs_on_ray(jobs, args.ray, args.workers, desc="runs")
        else:
            run_jobs(jobs, args.workers, desc="runs")
        if args.speed_steps and not args.round1:
            speed = {**speed_run(args.speed_steps), "steps": args.speed_steps}
            (args.out / "learning_speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    elif (args.out / "learning_speed.json").exists():
        speed = json.loads((args.out / "learning_speed.json").read_text())

    tables = {p: variant_rows(args.variants, args.seeds, args.out, p) for p in args.presets}
    text = report(args, tables, speed)
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.md").write_text(text)
    with open(args.out / f"{name}.csv", "w") as f:
        f.write("variant,config,seed,steps_to_solve,final_eval_return,stable_evals,"
                "counted_evals\n")  # fmt: skip
        for preset, rows in tables.items():
            for r in rows:
                for s, solve, final, (g, t) in zip(
                    r["seeds"], r["solves"], r["finals"], r["stability_per_seed"], strict=True
                ):
                    f.write(f"{r['variant']},{preset},{s},{solve or ''},{final:.1f},{g},{t}\n")
    if not args.round1:
        media = ROOT / "media" if args.out == DEFAULT_OUT else args.out / "media"
        save_figure(args, tables[args.presets[0]], media)
    return 0


if __name__ == "__main__":
    sys.exit(main())
