"""Round 3 on the report seeds: the targets, the primary comparisons and the exploratory
analyses declared in ``benchmarks/REPORT_PROTOCOL.md``, from the runs of
``bench_learning.py`` (``results/learning*/``). Nothing here trains.

Writes ``results/presets_report.md``, ``results/presets_report.json`` (read by notebook 05)
and ``media/km_presets.png`` (Kaplan–Meier curves of time to solve, each variant with its own
preset and with the shared Config).

    python benchmarks/report_presets.py
"""

from __future__ import annotations

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from bench_learning import runs_folder  # noqa: E402
from common import ROOT, load_run, median_solve, pooled_stability  # noqa: E402

from prdqn_lib.stats import (  # noqa: E402
    end_return,
    ends_solved,
    km_curve,
    logrank_test,
    mcnemar_exact,
    paired_difference,
    performance_profile,
    primary_comparisons,
    probability_of_improvement,
    proportion_ci,
    restricted_mean_time,
)
from prdqn_lib.variants import get_variant  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
SEEDS = tuple(range(100, 120))
BUDGET = 50_000
VARIANTS = ("dqn", "ddqn", "per-list", "per-sumtree", "per-rank")


def load(variant: str, preset: str) -> dict:
    """Every measure of one variant × Config on the report seeds, seed by seed."""
    runs = [load_run(runs_folder(OUT, preset, variant) / f"seed{s}") for s in SEEDS]
    summaries, histories = [x for x, _ in runs], [h for _, h in runs]
    solves = [x["steps_to_solve"] for x in summaries]
    good, counted = pooled_stability(histories)
    return {
        "solves": solves,
        "solves_censored": [BUDGET if s is None else s for s in solves],
        "solved": sum(s is not None for s in solves),
        "median_solve": median_solve(solves),
        "ends": [bool(ends_solved(h.eval_returns)) for h in histories],
        "end_return": [float(end_return(h.eval_returns)) for h in histories],
        "stable_good": good,
        "stable_counted": counted,
        "stable": good / counted if counted else float("nan"),
        "sps": statistics.median(x["env_steps_per_second"] for x in summaries),
        "sps_runs": [x["env_steps_per_second"] for x in summaries],
        "histories": histories,
    }


def wilson(k: int, n: int) -> str:
    ci = proportion_ci(k, n)
    return f"{k}/{n} [{ci.low:.2f}, {ci.high:.2f}]"


def main() -> int:
    own = {v: load(v, "own") for v in VARIANTS}
    shared = {v: load(v, "shared") for v in VARIANTS}
    n = len(SEEDS)
    speed = json.loads((OUT / "learning_speed.json").read_text())

    # ---- the targets
    targets = []
    for v in VARIANTS:
        m, s = own[v], shared[v]
        same = not get_variant(v).preset
        ratio = m["sps"] / s["sps"]
        rows = []
        if v == "per-sumtree":
            rows += [
                ("solves 20/20", f"{m['solved']}/{n}", m["solved"] == n),
                ("median steps to solve ≤ 10,000", f"{m['median_solve']:,.0f}",
                 m["median_solve"] <= 10_000),
                ("ends solved ≥ 18/20", f"{sum(m['ends'])}/{n}", sum(m["ends"]) >= 18),
                ("stable share ≥ 90%", f"{m['stable']:.0%} ({m['stable_good']}/"
                 f"{m['stable_counted']})", m["stable"] >= 0.9),
            ]  # fmt: skip
        else:
            rows.append(("ends solved ≥ 15/20", f"{sum(m['ends'])}/{n}", sum(m["ends"]) >= 15))
        if same:
            rows.append(("env steps/s ≥ the shared Config's", "its preset is the shared Config",
                         True))  # fmt: skip
        else:
            rows.append(
                (
                    "env steps/s ≥ the shared Config's (interleaved, medians)",
                    f"{m['sps']:,.0f} vs {s['sps']:,.0f} ({ratio:.2f}×)",
                    ratio >= 1.0,
                )
            )
        targets.append((v, rows))

    # ---- the primary family (REPORT_PROTOCOL.md), paired by seed
    tests = {}
    details = {}
    for k, v in (("P1", "ddqn"), ("P2", "per-list"), ("P3", "per-sumtree")):
        r = mcnemar_exact(own[v]["ends"], shared[v]["ends"])
        name = f"{k} {v}: own preset vs shared, ends solved"
        tests[name] = r.p_value
        details[name] = (
            f"{sum(own[v]['ends'])}/{n} vs {sum(shared[v]['ends'])}/{n}; "
            f"discordant {r.only_x} for the preset, {r.only_y} for shared"
        )
    r = mcnemar_exact(own["per-sumtree"]["ends"], own["ddqn"]["ends"])
    name = "P4 per-sumtree vs ddqn (own presets), ends solved"
    tests[name] = r.p_value
    details[name] = (f"{sum(own['per-sumtree']['ends'])}/{n} vs {sum(own['ddqn']['ends'])}/{n}; "
                     f"discordant {r.only_x} / {r.only_y}")  # fmt: skip
    for k, other in (("P5", "ddqn"), ("P6", "dqn")):
        d = paired_difference(own["per-sumtree"]["solves_censored"],
                              own[other]["solves_censored"], test="wilcoxon")  # fmt: skip
        name = f"{k} per-sumtree vs {other} (own presets), steps to solve"
        tests[name] = d.p_value
        details[name] = (f"medians {own['per-sumtree']['median_solve']:,.0f} vs "
                         f"{own[other]['median_solve']:,.0f}; Hodges–Lehmann "
                         f"{d.estimate.format()} steps")  # fmt: skip
    family = primary_comparisons(tests)

    # ---- exploratory
    logrank = []
    for v in VARIANTS:
        if v == "per-sumtree":
            continue
        lr = logrank_test(own["per-sumtree"]["solves"], own[v]["solves"], BUDGET)
        poi = probability_of_improvement(own["per-sumtree"]["end_return"], own[v]["end_return"])
        logrank.append((v, lr, poi))
    pairs = []  # every other pair of variants (own presets), exploratory
    for i, a in enumerate(VARIANTS):
        for b in VARIANTS[i + 1 :]:
            if "per-sumtree" in (a, b):
                continue  # in the table above
            lr = logrank_test(own[a]["solves"], own[b]["solves"], BUDGET)
            poi = probability_of_improvement(own[a]["end_return"], own[b]["end_return"])
            pairs.append((a, b, lr, poi))
    taus = np.array([100.0, 200.0, 300.0, 400.0, 475.0])
    profiles = {v: performance_profile(np.array(own[v]["end_return"])[:, None], taus)
                for v in VARIANTS}  # fmt: skip
    rmst = {
        (v, p): restricted_mean_time(runs[v]["solves"], BUDGET)
        for p, runs in (("own", own), ("shared", shared))
        for v in VARIANTS
    }

    # ---- the figure: KM curves, own preset (solid) and shared (dotted)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    for ax, (label, runs) in zip(axes, (("each variant with its own preset", own),
                                        ("every variant with the shared Config", shared)),
                                 strict=True):  # fmt: skip
        for v in VARIANTS:
            km = km_curve(runs[v]["solves"], BUDGET)
            style = get_variant(v).style
            ax.step(np.r_[0, km.steps], np.r_[0, km.solved], where="post", label=v,
                    color=style["color"], ls=style["ls"], lw=2)  # fmt: skip
        ax.set_title(f"{label}\n(report seeds 100–119)")
        ax.set_xlabel("env steps")
        ax.set_xlim(0, BUDGET)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of seeds solved (Kaplan–Meier)")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    (ROOT / "media").mkdir(exist_ok=True)
    fig.savefig(ROOT / "media" / "km_presets.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    # ---- the report
    lines = [
        "# Round 3 on the report seeds: targets, primary comparisons, exploratory analyses",
        "",
        "`python benchmarks/report_presets.py`, from the runs of `python "
        "benchmarks/bench_learning.py` (seeds 100–119, never used in tuning; 50,000 env "
        "steps, no early stop; each variant with its own preset and with the shared Config, "
        "interleaved). What is asked was committed first: `benchmarks/REPORT_PROTOCOL.md`.",
        "",
        "## Targets (issue 19), each variant with its own preset",
        "",
        "| variant | its preset | target | measured | met? |",
        "|---|---|---|---|---|",
    ]
    for v, rows in targets:
        preset = ", ".join(f"{k} {val}" for k, val in get_variant(v).preset.items()) or "shared"
        for what, measured, met in rows:
            lines.append(f"| {v} | {preset} | {what} | {measured} | "
                         f"{'met' if met else '**not met**'} |")  # fmt: skip
    lines += [
        "",
        f"Solo speed of per-sumtree (`learning_speed.json`, {speed['steps']:,} steps, tuning "
        f"seeds 0–{speed['repeats'] - 1}, medians): preset "
        f"{speed['preset_steps_per_second']:,.0f} env steps/s against the shared Config's "
        f"{speed['steps_per_second']:,.0f} ({speed['preset_ratio']:.2f}×).",
        "",
        "## Every variant, both Configs (Wilson 95% intervals for shares of seeds)",
        "",
        "| variant | Config | solved | median steps to solve | restricted mean steps to solve"
        " (τ = 50k) | ends solved | stable share | env steps/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in VARIANTS:
        for p, runs in (("own preset", own), ("shared", shared)):
            m = runs[v]
            if p == "own preset" and not get_variant(v).preset:
                continue  # the same runs as shared
            label = p if get_variant(v).preset else "shared (= its preset)"
            med = "∞" if np.isinf(m["median_solve"]) else f"{m['median_solve']:,.0f}"
            lines.append(
                f"| {v} | {label} | {wilson(m['solved'], n)} | {med} | "
                f"{rmst[(v, 'own' if p == 'own preset' else 'shared')]:,.0f} | "
                f"{wilson(sum(m['ends']), n)} | {m['stable']:.0%} "
                f"({m['stable_good']}/{m['stable_counted']}) | {m['sps']:,.0f} |"
            )
    lines += [
        "",
        "## Primary comparisons (declared in advance; Holm over 6, α = 0.05; paired by seed)",
        "",
        "| comparison | data | p | p (Holm) | supported? |",
        "|---|---|---|---|---|",
    ]
    for row in family:
        lines.append(
            f"| {row['comparison']} | {details[row['comparison']]} | {row['p']:.4f} | "
            f"{row['p_holm']:.4f} | {'**yes**' if row['supported'] else 'no'} |"
        )
    lines += [
        "",
        "## Exploratory (nothing is claimed from these)",
        "",
        "per-sumtree against each other variant, each with its own preset: log-rank test of "
        "the time-to-solve curves (censored at 50,000; it treats the groups as independent) "
        "and the probability that per-sumtree's end return (mean of the last 5 evaluations) "
        "beats the other's (Agarwal et al. 2021; stratified bootstrap 95% interval). Figure: "
        "`media/km_presets.png`.",
        "",
        "| per-sumtree vs | log-rank z | p (uncorrected) | P(end return of per-sumtree > other) |",
        "|---|---|---|---|",
    ]
    for v, lr, poi in logrank:
        lines.append(f"| {v} | {lr.statistic:+.2f} | {lr.p_value:.4f} | {poi.format(2)} |")
    lines += [
        "",
        "Every other pair of variants (own presets), the same two measures:",
        "",
        "| A vs B | log-rank z (A) | p (uncorrected) | P(end return of A > B) |",
        "|---|---|---|---|",
    ]
    for a, b, lr, poi in pairs:
        lines.append(f"| {a} vs {b} | {lr.statistic:+.2f} | {lr.p_value:.4f} | "
                     f"{poi.format(2)} |")  # fmt: skip
    lines += [
        "",
        "Performance profiles of the end return (own presets): the share of seeds whose end "
        "return exceeds τ, with Wilson 95% intervals (Agarwal et al. 2021):",
        "",
        "| variant | " + " | ".join(f"τ = {t:.0f}" for t in taus) + " |",
        "|---|" + "---|" * len(taus),
    ]
    for v, prof in profiles.items():
        cells = [f"{f:.2f} [{lo:.2f}, {hi:.2f}]" for f, lo, hi in
                 zip(prof.fraction, prof.low, prof.high, strict=True)]  # fmt: skip
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    (OUT / "presets_report.md").write_text(text)
    data = {
        "targets": {
            v: [{"target": w, "measured": m, "met": bool(ok)} for w, m, ok in rows]
            for v, rows in targets
        },  # fmt: skip
        "primary": family,
        "runs": {
            p: {v: {k: val for k, val in runs[v].items() if k != "histories"} for v in VARIANTS}
            for p, runs in (("own", own), ("shared", shared))
        },
    }
    (OUT / "presets_report.json").write_text(json.dumps(data, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
