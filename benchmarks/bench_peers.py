"""prdqn_lib's presets next to stable-baselines3's DQN, same seeds, same evaluation.

stable-baselines3 (SB3) trains DQN with rl-baselines3-zoo's tuned CartPole-v1 hyperparameters
(``hyperparams/dqn.yml``): learning_rate 2.3e-3, batch 64, buffer 100,000, learning_starts
1,000, γ 0.99, target_update_interval 10, train_freq 256, gradient_steps 128,
exploration_fraction 0.16 of 50k steps, final ε 0.04, net [256, 256]. prdqn_lib trains
per-sumtree with its preset (``Config.preset("per-sumtree")``; ``--variants`` adds others, each
with its own preset). Both:

* run on the report seeds (default 100–119, never used in tuning), one torch thread each;
* are evaluated by the *same* code (``prdqn_lib.train.Evaluator``: 10 greedy episodes every
  1,000 env steps on their own environments, seeded once with seed + 10,000);
* are interleaved in one run: jobs alternate SB3, prdqn, SB3, ... on 2 worker processes, so
  both see the same machine load;
* time only training (evaluations excluded): env steps/s, and seconds until the solve.

SB3 is a benchmark-only dependency: ``pip install stable-baselines3`` (not in requirements.txt).

    python benchmarks/bench_peers.py                  # 2 systems x 20 seeds x 50k steps
    python benchmarks/bench_peers.py --seeds 0-1 --steps 3000 --out /tmp/peers   # smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from bench_learning import DEFAULT_OUT, REPORT_SEEDS, fmt_ci, overrides, parse_seeds, pct
from common import Job, fmt, run_job
from tqdm import tqdm

from prdqn_lib.stats import stability, summarize
from prdqn_lib.train import SOLVED_RETURN, Evaluator, History

ZOO_CARTPOLE = {  # rl-baselines3-zoo, hyperparams/dqn.yml, CartPole-v1
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1_000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}
EVAL_EVERY = 1_000
EVAL_EPISODES = 10


class _GreedySB3:
    """Adapter: the Evaluator's ``greedy_actions(obs)`` for an SB3 model."""

    def __init__(self, model) -> None:
        self.model = model

    def greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        actions, _ = self.model.predict(obs, deterministic=True)
        return np.asarray(actions)


def run_sb3(seed: int, steps: int, folder: Path) -> dict:
    """Train SB3's DQN for ``steps`` env steps; write eval.csv and summary.json like prdqn."""
    summary_path = folder / "summary.json"
    if summary_path.exists():
        return json.loads(summary_path.read_text())
    import gymnasium as gym
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    evaluator = Evaluator("CartPole-v1", EVAL_EPISODES, seed=seed + 10_000)
    history = History()

    class EvalCallback(BaseCallback):
        def _on_training_start(self) -> None:
            self.start = time.perf_counter()
            self.eval_time = 0.0

        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY == 0:
                t0 = time.perf_counter()
                returns = evaluator(_GreedySB3(self.model))
                history.evals.append(
                    {
                        "env_steps": self.num_timesteps,
                        "eval_return": float(returns.mean()),
                        "eval_std": float(returns.std()),
                        "wall_time": t0 - self.start,
                        "train_seconds": t0 - self.start - self.eval_time,
                    }
                )
                self.eval_time += time.perf_counter() - t0
            return True

    env = gym.make("CartPole-v1")
    model = DQN("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **ZOO_CARTPOLE)
    callback = EvalCallback()
    model.learn(total_timesteps=steps, callback=callback)
    history.train_seconds = time.perf_counter() - callback.start - callback.eval_time
    history.env_steps = steps
    evaluator.close()
    folder.mkdir(parents=True, exist_ok=True)
    history.save(folder)
    summary = {
        "variant": "sb3-dqn",
        "seed": seed,
        "env_steps": steps,
        "steps_to_solve": history.steps_to_solve(),
        "final_eval_return": history.evals[-1]["eval_return"],
        "env_steps_per_second": history.steps_per_second,
        "train_seconds": history.train_seconds,
    }
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run(job: tuple[str, int, int, str]) -> dict:
    system, seed, steps, folder = job
    if system == "sb3-dqn":
        return run_sb3(seed, steps, Path(folder))
    return run_job(Job(system, seed, steps, folder, overrides(system, "own")))


def seconds_to_solve(history: History) -> float:
    """Training seconds (evaluations excluded) until the solving evaluation; inf if unsolved."""
    solve = history.steps_to_solve(SOLVED_RETURN)
    if solve is None:
        return float("inf")
    row = next(r for r in history.evals if r["env_steps"] == solve)
    return float(row["train_seconds"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds(REPORT_SEEDS))
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["per-sumtree"],
        choices=["dqn", "ddqn", "per-list", "per-sumtree", "per-rank"],
        help="our variants, each with its own preset (default per-sumtree)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.steps <= 0 or args.workers <= 0:
        parser.error(f"--steps and --workers must be positive, got {args.steps}, {args.workers}")
    systems = ("sb3-dqn", *args.variants)
    root = args.out / "peers"
    jobs = [(sys_, s, args.steps, str(root / sys_ / f"seed{s}")) for s in args.seeds
            for sys_ in systems]  # fmt: skip
    with Pool(args.workers) as pool:
        list(tqdm(pool.imap(run, jobs), total=len(jobs), desc="peer runs", file=sys.stderr))

    n = len(args.seeds)
    lines = [
        f"| system | solved within {args.steps // 1000}k | steps to solve: median [95% CI] | "
        "final eval: median [95% CI] | final ≥ 475 | stable evals (≥ 475 from the 3rd after "
        "the solve) | env steps/s (median) | training seconds to solve: median [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    per_seed = []
    for system in systems:
        hs = [History.load(root / system / f"seed{s}") for s in args.seeds]
        sums = [json.loads((root / system / f"seed{s}" / "summary.json").read_text())
                for s in args.seeds]  # fmt: skip
        solves = [np.inf if h.steps_to_solve() is None else h.steps_to_solve() for h in hs]
        finals = [h.eval_returns[-1] for h in hs]
        secs = [seconds_to_solve(h) for h in hs]
        stab = [stability(h.eval_returns) for h in hs]
        good, total = sum(g for g, _ in stab), sum(t for _, t in stab)
        sps = float(np.median([r["env_steps_per_second"] for r in sums]))
        st, fi, se = summarize(solves), summarize(finals), summarize(secs)
        lines.append(
            f"| {system} | {sum(np.isfinite(solves))}/{n} | {fmt(st['median'])} "
            f"{fmt_ci(st['median_ci'])} | {fmt(fi['median'])} {fmt_ci(fi['median_ci'])} | "
            f"{sum(f >= 475 for f in finals)}/{n} | "
            f"{pct(good / total if total else float('nan'))} ({good}/{total}) | "
            f"{fmt(sps)} | {fmt(se['median'], 1)} [{fmt(se['median_ci'][0], 1)}, "
            f"{fmt(se['median_ci'][1], 1)}] |"
        )
        per_seed.append(
            f"- {system}: "
            + "; ".join(f"{fmt(s)} / {f:.0f}" for s, f in zip(solves, finals, strict=True))
        )
    text = (
        "# prdqn_lib next to stable-baselines3\n\n"
        f"`python benchmarks/bench_peers.py` with seeds {', '.join(map(str, args.seeds))} "
        f"({'never used in tuning' if min(args.seeds) >= 100 else 'including tuning seeds'}), "
        f"{args.steps:,} env steps, SB3 DQN with rl-baselines3-zoo's CartPole-v1 "
        f"hyperparameters against prdqn_lib's {', '.join(args.variants)}, each with its own "
        "preset (`Config.preset`), interleaved "
        "on 2 processes, one torch thread each, the same evaluation code for both. An unsolved "
        "seed counts as ∞. Confidence intervals: percentile bootstrap (scipy).\n\n"
        + "\n".join(lines)
        + "\n\nPer seed: steps to solve / final evaluation return:\n\n"
        + "\n".join(per_seed)
        + "\n"
    )
    print("\n" + text)
    (args.out / "peers.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
