"""What the learning benchmarks share: one resumable training run, and a pool to run many."""

from __future__ import annotations

import dataclasses
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from prdqn_lib.config import Config
from prdqn_lib.recorder import History
from prdqn_lib.stats import stability
from prdqn_lib.train import run_summary, train

ROOT = Path(__file__).resolve().parents[1]

# Round 1's values of every Config field that round 2 tuned (its defaults before the recipe).
ROUND1 = {
    "lr": 2.5e-3,
    "lr_final_frac": 1.0,
    "lr_decay_steps": 0,
    "adam_eps": 1e-8,
    "target_update": 25,
    "target_update_final": 0,
    "tau": 0.0,
    "max_grad_norm": 0.0,
    "batch_size": 128,
    "buffer_size": 50_000,
    "train_every": 2,
    "gamma": 0.99,
    "eps_decay_steps": 5_000,
    "eps_end": 0.02,
    "alpha": 0.6,
    "beta": 0.4,
    "beta_final": 1.0,
}


@dataclasses.dataclass(frozen=True)
class Job:
    """One training run: variant × seed × steps, with Config overrides, into ``folder``."""

    variant: str
    seed: int
    steps: int
    folder: str
    overrides: tuple[tuple[str, object], ...] = ()

    def config(self) -> Config:
        cfg = Config(variant=self.variant, seed=self.seed, total_steps=self.steps)
        return dataclasses.replace(cfg, **dict(self.overrides))


def changes_from_shared(cfg: Config) -> tuple[tuple[str, object], ...]:
    """The fields (besides variant, seed and total_steps) in which ``cfg`` differs from the
    shared Config: a Job's overrides."""
    base = Config()
    return tuple((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
                 if f.name not in ("variant", "seed", "total_steps")
                 and getattr(cfg, f.name) != getattr(base, f.name))  # fmt: skip


def load_run(folder: Path) -> tuple[dict, History]:
    """A finished run's summary.json and History."""
    return json.loads((folder / "summary.json").read_text()), History.load(folder)


def pooled_stability(histories) -> tuple[int, int]:
    """(evaluations ≥ 475 from the third after the solve, evaluations counted), pooled."""
    good = counted = 0
    for h in histories:
        g, t = stability(h.eval_returns)
        good, counted = good + g, counted + t
    return good, counted


def fmt(x, digits: int = 0) -> str:
    """A number for a results table: '—' for none (or NaN), '∞' for not solved."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    if np.isinf(x):
        return "−∞" if x < 0 else "∞"
    return f"{x:,.{digits}f}"


def median_solve(solves) -> float:
    """Median steps to solve, an unsolved run (None) counting as ∞."""
    return float(np.median([np.inf if s is None else s for s in solves]))


def run_job(job: Job) -> dict:
    """Train one run, or load it if ``summary.json`` (written last) says it finished."""
    out = Path(job.folder)
    summary_path = out / "summary.json"
    if summary_path.exists():
        return json.loads(summary_path.read_text())
    result = train(job.config(), progress=False)
    h = result.history
    if h.interrupted:
        raise KeyboardInterrupt
    out.mkdir(parents=True, exist_ok=True)
    h.save(out)
    result.config.save(out / "config.json")
    summary = run_summary(result.config, h)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")  # last: the run is complete
    return summary


def run_jobs(jobs: list[Job], workers: int, desc: str = "runs") -> list[dict]:
    """Run ``jobs`` on ``workers`` processes (finished ones are loaded, not re-run)."""
    if workers == 1:
        return [run_job(j) for j in tqdm(jobs, desc=desc, file=sys.stderr)]
    with Pool(workers) as pool:
        return list(tqdm(pool.imap(run_job, jobs), total=len(jobs), desc=desc, file=sys.stderr))
