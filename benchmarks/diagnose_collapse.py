"""Follow training runs through their collapse: what the agent believes, sees and does.

Every evaluation (1,000 env steps) records, besides the greedy return:

* Q(s₀): the mean over 256 fixed start states of max_a Q(s₀, a), against the ceiling
  1/(1−γ) = 100 (CartPole pays 1 a step; a time-limit truncation bootstraps, so no state is
  worth more than the discounted sum of 1s forever);
* the action gap |Q(s, 0) − Q(s, 1)| and the greedy policy's share of "push right" on 2,000
  stored states (a one-action policy has share 0 or 1) and on the 256 start states;
* the share of terminal transitions in the memory and in the batches sampled since the last
  evaluation, and the share of the *sampling probability* they carry (prioritized memories);
* |δ| of the sampled transitions (median, 90th percentile, max; terminal ones apart);
* the priorities' spread: N·P(i) quantiles (1 everywhere for uniform replay);
* the gradient norm (median, max) of the updates since the last evaluation;
* the learning rate and the target network's lag: syncs so far, updates since the last one,
  and the mean |Q_online − Q_target| on the start states.

    python benchmarks/diagnose_collapse.py --config r1 --variants per-sumtree dqn --seeds 0 1 2
    python benchmarks/diagnose_collapse.py --stabilisers --variants per-sumtree --seeds 20 21 22

``--config`` names a round-2 candidate of ``tune.py`` (on round 1's Config), ``default`` (the
shared Config) or, prefixed ``r3-``, a round-3 candidate of ``tune_presets.py`` on the shared
Config (``r3-n3``, ``r3-ln``, ``r3-bound``, ``r3-dueling``, ``r3-n3+bound``, ``r3-shared``).
``--stabilisers`` runs every round-3 candidate and draws Q(s₀) against the ceiling for each
stabiliser side by side (``media/diagnosis_stabilisers.png``, ``diagnosis/stabilisers.md``).

Seeds must be tuning seeds (0–99). Writes ``benchmarks/results/diagnosis/<config>/<variant>/
seed<k>.csv``, a figure per config (``media/diagnosis_<config>.png``) and prints a summary.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from multiprocessing import Pool
from pathlib import Path

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from tune import CANDIDATES, R1  # noqa: E402
from tune_presets import CANDIDATES as R3  # noqa: E402

from prdqn_lib.config import Config  # noqa: E402
from prdqn_lib.plots import VARIANT_STYLE  # noqa: E402
from prdqn_lib.protocol import PrioritizedMemory  # noqa: E402
from prdqn_lib.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "diagnosis"


class CollapseMonitor:
    """Collects the measures above; ``train(config, monitor=CollapseMonitor(...))``."""

    def __init__(self, config: Config, n_start: int = 256) -> None:
        env = gym.make(config.env_id)
        env.reset(seed=50_000 + config.seed)
        self.start_states = np.stack([env.reset()[0] for _ in range(n_start)]).astype(np.float32)
        env.close()
        self.cfg = config
        self.rows: list[dict] = []
        self._rng = np.random.default_rng(config.seed)
        self._reset_window()
        self._syncs = 0
        self._last_sync_update = 0

    def _reset_window(self) -> None:
        self._term = []
        self._td = []
        self._td_term = []
        self._grad = []

    def on_update(self, step, agent, batch, loss, td) -> None:
        agent.track_grad_norm = True
        term = batch.terminated
        self._term.append(term.mean())
        self._td.append(td[~term])
        self._td_term.append(td[term])
        self._grad.append(agent.last_grad_norm)
        if self.cfg.tau == 0 and agent._last_sync == agent.updates:
            self._syncs += 1
            self._last_sync_update = agent.updates

    def on_eval(self, step, agent, memory, returns) -> None:
        n = len(memory)
        with torch.no_grad():
            q0 = agent.online(torch.from_numpy(self.start_states)).numpy()
            q0_target = agent.target(torch.from_numpy(self.start_states)).numpy()
        pick = self._rng.integers(0, n, size=min(2000, n))
        q_mem = agent.q_values(memory.transitions(pick).obs)
        terminal = memory.transitions().terminated
        # the distribution the memory really samples from (uniform memories say 1/N too)
        p = memory.probabilities() if isinstance(memory, PrioritizedMemory) else np.full(n, 1 / n)
        np_ = n * p
        td = np.concatenate(self._td) if self._td else np.zeros(0)
        td_t = np.concatenate(self._td_term) if self._td_term else np.zeros(0)

        def q(x, k):
            return float(np.quantile(x, k)) if x.size else float("nan")

        self.rows.append(
            {
                "env_steps": step,
                "eval_return": float(returns.mean()),
                "q_s0": float(q0.max(axis=1).mean()),
                "q_s0_max": float(q0.max()),
                "q_ceiling": 1.0 / (1.0 - self.cfg.gamma),
                "action_gap": float(np.abs(q_mem[:, 0] - q_mem[:, 1]).mean()),
                "right_share_memory": float(q_mem.argmax(axis=1).mean()),
                "right_share_start": float(q0.argmax(axis=1).mean()),
                "terminal_share_memory": float(terminal.mean()),
                "terminal_share_batches": float(np.mean(self._term)) if self._term else np.nan,
                "terminal_probability_mass": float(p[terminal].sum()),
                "td_median": q(td, 0.5),
                "td_p90": q(td, 0.9),
                "td_max": float(td.max()) if td.size else float("nan"),
                "td_terminal_median": q(td_t, 0.5),
                "np_p10": q(np_, 0.1),
                "np_p50": q(np_, 0.5),
                "np_p99": q(np_, 0.99),
                "np_max": float(np_.max()),
                "grad_median": float(np.median(self._grad)) if self._grad else float("nan"),
                "grad_max": float(np.max(self._grad)) if self._grad else float("nan"),
                "lr": agent.optimizer.param_groups[0]["lr"],
                "target_syncs": self._syncs,
                "updates_since_sync": agent.updates - self._last_sync_update,
                "q_online_minus_target": float(np.abs(q0 - q0_target).mean()),
            }
        )
        self._reset_window()


def run(job) -> Path:
    name, variant, seed, steps = job
    path = OUT / name / variant / f"seed{seed}.csv"
    if path.exists():
        return path
    if name.startswith("r3-"):
        overrides = dict(R3[name[3:]])  # a round-3 candidate on the shared Config
    else:
        overrides = {**R1, **CANDIDATES[name]} if name in CANDIDATES else {}
    cfg = dataclasses.replace(Config(variant=variant, seed=seed, total_steps=steps), **overrides)
    monitor = CollapseMonitor(cfg)
    train(cfg, progress=False, monitor=monitor)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(monitor.rows[0]))
        writer.writeheader()
        writer.writerows(monitor.rows)
    return path


def load(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


PANELS = [
    ("eval_return", "greedy return"),
    ("q_s0", "Q(s₀) (dashed: 1/(1−γ))"),
    ("action_gap", "action gap |Q(s,0)−Q(s,1)|"),
    ("right_share_memory", "greedy share of 'right'"),
    ("terminal_share_batches", "terminal share of batches"),
    ("td_p90", "|δ| 90th percentile"),
    ("grad_median", "gradient norm (median)"),
    ("np_p99", "N·P(i), 99th percentile"),
]


def figure(name: str, series: dict, path: Path) -> None:
    fig, axes = plt.subplots(2, 4, figsize=(16, 6.5), sharex=True)
    for ax, (key, title) in zip(axes.flat, PANELS, strict=True):
        for (variant, seed), d in series.items():
            style = VARIANT_STYLE[variant]
            ax.plot(d["env_steps"], d[key], color=style["color"], ls=style["ls"], lw=1.2,
                    alpha=0.5 + 0.5 * (seed == min(s for _, s in series)),
                    label=f"{variant} seed {seed}")  # fmt: skip
        if key == "q_s0":
            ax.axhline(100, color="grey", ls="--", lw=1)
        if key in ("td_p90", "grad_median"):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel("environment steps")
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"Through the collapse: config '{name}'")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _at(d: dict, k: int) -> str:
    """One table row's cells at evaluation index k."""
    return (
        f"{d['env_steps'][k]:,.0f} | {d['eval_return'][k]:.0f} | {d['q_s0'][k]:.0f} | "
        f"{d['action_gap'][k]:.1f} | {d['right_share_start'][k]:.2f} | "
        f"{100 * d['terminal_share_memory'][k]:.1f}% | "
        f"{100 * d['terminal_share_batches'][k]:.0f}% | {d['td_p90'][k]:.1f} | "
        f"{d['td_terminal_median'][k]:.0f} | {d['grad_median'][k]:.1f} / {d['grad_max'][k]:.0f} | "
        f"{d['np_p99'][k]:.1f} | {d['lr'][k]:.2g} |"
    )


def markdown(name: str, series: dict) -> str:
    """Each run at its first evaluation ≥ 475, at its peak Q(s₀), and at the end."""
    head = (
        "| run | when | env steps | greedy return | Q(s₀) | action gap | share 'right' at s₀ | "
        "terminal in memory | terminal in batches | \\|δ\\| p90 | terminal \\|δ\\| median | "
        "grad norm median / max | N·P(i) p99 | lr |\n" + "|---" * 14 + "|\n"
    )
    rows = []
    for (v, seed), d in series.items():
        ret = d["eval_return"]
        first = int(np.argmax(ret >= 475)) if (ret >= 475).any() else None
        peak_q = int(np.argmax(d["q_s0"]))
        for label, k in (("first ≥ 475", first), ("peak Q(s₀)", peak_q), ("end", len(ret) - 1)):
            if k is not None:
                rows.append(f"| {v} seed {seed} | {label} | " + _at(d, k))
    return f"### Config '{name}'\n\n" + head + "\n".join(rows) + "\n"


def stabiliser_figure(series: dict, path: Path) -> str:
    """Q(s₀) against the ceiling, one panel per round-3 candidate; returns a markdown table."""
    names = list(R3)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), sharey=True)
    rows = ["| stabiliser | run | peak Q(s₀) | env steps Q(s₀) first > 100 | Q(s₀) at the end "
            "| evaluations ≥ 475 |", "|---|---|---|---|---|---|"]  # fmt: skip
    for ax, name in zip(axes, names, strict=True):
        for (cfg, variant, seed), d in series.items():
            if cfg != f"r3-{name}":
                continue
            style = VARIANT_STYLE[variant]
            ax.plot(
                d["env_steps"],
                d["q_s0"],
                color=style["color"],
                lw=1.2,
                ls=["-", "--", ":", "-."][seed % 4],
                label=f"{variant} seed {seed}",
            )
            above = np.flatnonzero(d["q_s0"] > 100)
            first = f"{d['env_steps'][above[0]]:,.0f}" if above.size else "never"
            rows.append(f"| {name} | {variant} seed {seed} | {d['q_s0'].max():.1f} | {first} | "
                        f"{d['q_s0'][-1]:.1f} | {int((d['eval_return'] >= 475).sum())}/"
                        f"{len(d['eval_return'])} |")  # fmt: skip
        ax.axhline(100, color="grey", ls="--", lw=1)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("env steps")
    axes[0].set_ylabel("Q(s₀) (log scale); dashed: the ceiling 1/(1−γ) = 100")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="r1", help="a tune.py candidate, or 'default'")
    parser.add_argument(
        "--stabilisers",
        action="store_true",
        help="every round-3 candidate (r3-*), and the stabiliser figure",
    )
    parser.add_argument("--variants", nargs="+", default=["per-sumtree", "dqn"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if any(not 0 <= s <= 99 for s in args.seeds):
        parser.error(f"--seeds must be tuning seeds in 0-99, got {args.seeds}")
    if args.stabilisers:
        jobs = [(f"r3-{c}", v, s, args.steps) for s in args.seeds for v in args.variants
                for c in R3]  # fmt: skip
        with Pool(args.workers) as pool:
            paths = pool.map(run, jobs)
        series3 = {(c, v, s): load(p) for (c, v, s, _), p in zip(jobs, paths, strict=True)}
        table = stabiliser_figure(series3, ROOT / "media" / "diagnosis_stabilisers.png")
        (OUT / "stabilisers.md").write_text(
            "# Q(s₀) against the ceiling 1/(1−γ) = 100, for each round-3 stabiliser\n\n"
            f"`python benchmarks/diagnose_collapse.py --stabilisers --variants "
            f"{' '.join(args.variants)} --seeds {' '.join(map(str, args.seeds))}` (tuning "
            f"seeds, {args.steps:,} env steps; each candidate on the shared Config; Q(s₀) = "
            "mean over 256 fixed start states of max_a Q). Figure: "
            "`media/diagnosis_stabilisers.png`.\n\n" + table
        )
        print(table)
        return 0
    jobs = [(args.config, v, s, args.steps) for v in args.variants for s in args.seeds]
    with Pool(args.workers) as pool:
        paths = pool.map(run, jobs)
    series = {(v, s): load(p) for (_, v, s, _), p in zip(jobs, paths, strict=True)}
    figure(args.config, series, ROOT / "media" / f"diagnosis_{args.config}.png")
    (OUT / f"{args.config}.md").write_text(markdown(args.config, series))
    extra = ["terminal_share_memory", "terminal_probability_mass", "q_s0_max",
             "td_terminal_median", "q_online_minus_target"]  # fmt: skip
    keys = [k for k, _ in PANELS] + extra
    for (v, s), d in series.items():
        print(f"\n{v} seed {s}")
        for k in keys:
            print(f"  {k:26s}" + " ".join(f"{x:8.3g}" for x in d[k][::5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
