"""What every training loop records, in one place below both loops (``prdqn_lib.train`` and
``prdqn_lib.apex``): greedy evaluation, the best checkpoint, the History's rows, the progress
bar, the clocks, a clean stop on any signal that ends a run, and the run's summary.

A loop owns only how it acts and learns::

    recorder = RunRecorder(config, progress=True)
    with recorder:                       # starts the clock; SIGINT/SIGTERM/... → a clean stop
        ... recorder.episode_done(step, ret, length, loss, epsilon)
        ... recorder.evaluate(step, agent, memory)
        ... recorder.advance(step)
    return recorder.result(agent, memory, env_steps)
"""

from __future__ import annotations

import contextlib
import csv
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import gymnasium as gym
import numpy as np
import torch
from tqdm import tqdm

from .agent import Agent
from .config import Config
from .stats import SOLVED_RETURN, solve_index

__all__ = [
    "EPISODE_FIELDS",
    "EVAL_FIELDS",
    "STOP_SIGNALS",
    "Evaluator",
    "History",
    "RunInterrupted",
    "RunRecorder",
    "TrainResult",
    "run_summary",
    "stop_signals",
]

EPISODE_FIELDS = ("env_steps", "episode", "episode_return", "episode_length", "loss", "epsilon",
                  "wall_time")  # fmt: skip
EVAL_FIELDS = ("env_steps", "eval_return", "eval_std", "wall_time", "train_seconds")


# ------------------------------------------------------------------------------------ signals

# The signals that end a run from outside: Ctrl-C (SIGINT), `timeout`, `kill`, `docker stop`,
# Slurm's scancel and most schedulers (SIGTERM), a closed terminal or ssh session (SIGHUP), a
# CPU-time limit (SIGXCPU), and the warning signal a scheduler can be asked to send before its
# time limit (SIGUSR1, e.g. Slurm's --signal=USR1@60).
STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGXCPU", "SIGUSR1")
    if hasattr(signal, name)
)


class RunInterrupted(KeyboardInterrupt):
    """A stop signal arrived: raised in the main thread, where the loop catches it and keeps
    what it recorded. A KeyboardInterrupt, so code that handles Ctrl-C handles every signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Turn every signal of ``STOP_SIGNALS`` into ``RunInterrupted`` for the block's duration,
    then restore the handlers that were there. Outside the main thread (signals are delivered
    only there) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise RunInterrupted(signum)

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ------------------------------------------------------------------------------------ History


@dataclass
class History:
    """Per-episode and per-evaluation records of one run; saves to and loads from CSV."""

    episodes: list[dict[str, float]] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)
    replay_seconds: float = 0.0  # time spent inside the replay memory
    train_seconds: float = 0.0  # time of the training loop, evaluations excluded
    env_steps: int = 0
    interrupted: bool = False
    startup_seconds: float = 0.0  # before the loop, in neither time above (apex: Ray start-up)
    stop_signal: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM, ...)
    gradient_steps: int = 0  # the learner's updates (set at the end of the run)
    # what only one loop measures (apex: the learner's waits, write-backs dropped), by name
    loop_stats: dict[str, float] = field(default_factory=dict)

    @property
    def eval_steps(self) -> np.ndarray:
        return np.array([r["env_steps"] for r in self.evals], dtype=float)

    @property
    def eval_returns(self) -> np.ndarray:
        return np.array([r["eval_return"] for r in self.evals], dtype=float)

    @property
    def best_eval(self) -> tuple[int, float] | None:
        """(env_steps, eval_return) of the best evaluation so far; ties go to the latest."""
        if not self.evals:
            return None
        best = max(range(len(self.evals)), key=lambda k: (self.evals[k]["eval_return"], k))
        return int(self.evals[best]["env_steps"]), float(self.evals[best]["eval_return"])

    def steps_to_solve(self, threshold: float = SOLVED_RETURN, consecutive: int = 2) -> int | None:
        """Env steps of the first of ``consecutive`` evaluations in a row with mean ≥ threshold
        (``prdqn_lib.stats.solve_index``, the one solve rule of the project)."""
        k = solve_index(self.eval_returns, threshold, consecutive)
        return None if k is None else int(self.evals[k]["env_steps"])

    @property
    def steps_per_second(self) -> float:
        return self.env_steps / self.train_seconds if self.train_seconds else float("nan")

    @property
    def replay_share(self) -> float:
        """Share of training-loop time spent in the replay memory (add, sample, update)."""
        return self.replay_seconds / self.train_seconds if self.train_seconds else float("nan")

    def save(self, out_dir: str | Path) -> None:
        """Write ``history.csv`` (one row per episode) and ``eval.csv`` (one per evaluation)."""
        out = Path(out_dir)
        for name, rows, fields in (
            ("history.csv", self.episodes, EPISODE_FIELDS),
            ("eval.csv", self.evals, EVAL_FIELDS),
        ):
            with open(out / name, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)

    @classmethod
    def load(cls, out_dir: str | Path) -> History:
        out = Path(out_dir)

        def read(name: str) -> list[dict[str, float]]:
            with open(out / name, newline="") as f:
                # a column a run did not record (an older CSV) loads as NaN
                return [{k: float(v) if v else float("nan") for k, v in row.items()}
                        for row in csv.DictReader(f)]  # fmt: skip

        history = cls(episodes=read("history.csv"), evals=read("eval.csv"))
        # the CSVs do not store the total; the last episode or evaluation is the best bound
        history.env_steps = int(max((r["env_steps"] for r in history.episodes + history.evals),
                                    default=0))  # fmt: skip
        return history


class Evaluator:
    """Greedy evaluation on its own environments, run in lockstep (one batched forward a step).

    Each of the ``episodes`` environments is seeded once, at the first evaluation, with
    ``seed + k``; later evaluations continue their random streams, so start states differ.
    """

    def __init__(self, env_id: str, episodes: int, seed: int) -> None:
        self.envs = [gym.make(env_id) for _ in range(episodes)]
        self.seed = seed
        self._seeded = False

    def __call__(self, agent: Agent) -> np.ndarray:
        first = not self._seeded
        self._seeded = True
        seeds = [self.seed + k if first else None for k in range(len(self.envs))]
        obs = np.stack([env.reset(seed=s)[0] for env, s in zip(self.envs, seeds, strict=True)])
        returns = np.zeros(len(self.envs))
        active = np.ones(len(self.envs), dtype=bool)
        while active.any():
            idx = np.flatnonzero(active)
            for j, a in zip(idx, agent.greedy_actions(obs[idx]), strict=True):
                obs[j], reward, terminated, truncated, _ = self.envs[j].step(int(a))
                returns[j] += reward
                active[j] = not (terminated or truncated)
        return returns

    def close(self) -> None:
        for env in self.envs:
            env.close()


@dataclass
class TrainResult:
    agent: Agent  # the agent as training left it
    history: History
    config: Config
    memory: Any  # the replay memory as training left it (a ReplayMemory; apex: None if lost)
    best_agent: Agent | None = None  # the weights of the best evaluation (ties: the latest)


def run_summary(config: Config, history: History) -> dict[str, Any]:
    """The headline numbers of one run, as the CLI and the learning benchmark save them."""
    best = history.best_eval
    return {
        "variant": config.variant,
        "preset": config.preset_name(),
        "seed": config.seed,
        "env_steps": history.env_steps,
        "interrupted": history.interrupted,
        "stop_signal": history.stop_signal,
        "steps_to_solve": history.steps_to_solve(),
        "final_eval_return": history.evals[-1]["eval_return"] if history.evals else None,
        "best_eval_env_steps": best[0] if best else None,
        "best_eval_return": best[1] if best else None,
        "env_steps_per_second": history.steps_per_second,
        "replay_share": history.replay_share,
        "train_seconds": history.train_seconds,
        "startup_seconds": history.startup_seconds,
        "gradient_steps": history.gradient_steps,
        # transitions replayed per env step: B·updates / env steps (per-sumtree: 128/2 = 64)
        "replay_ratio": (
            config.batch_size * history.gradient_steps / history.env_steps
            if history.env_steps
            else None
        ),  # fmt: skip
        **({"loop": dict(history.loop_stats)} if history.loop_stats else {}),
    }


def snapshot(agent: Agent) -> dict[str, torch.Tensor]:
    """A copy of the online network's weights (tiny: copied at every new best evaluation)."""
    return {k: v.detach().clone() for k, v in agent.online.state_dict().items()}


def agent_from_snapshot(agent: Agent, weights: dict[str, torch.Tensor]) -> Agent:
    """A new agent with ``weights`` in both networks (a fresh optimizer: it is for acting)."""
    best = Agent(agent.obs_dim, agent.n_actions, agent.config)
    best.online.load_state_dict(weights)
    best.sync_target()
    best.updates = agent.updates
    return best


# ------------------------------------------------------------------------------- the recorder


class RunRecorder:
    """Evaluation, best checkpoint, History, progress bar, clocks and stop signals of one run.

    Used as a context manager around the loop: entering starts the training clock and turns
    every stop signal (``STOP_SIGNALS``) into a clean stop; a stop (or Ctrl-C) inside the block
    is caught there, marks the History interrupted and names the signal; leaving closes the
    bar and the evaluation environments. Errors propagate.

    Args:
        config: the run's Config (evaluation envs, episodes, seeds, budget).
        progress: show a tqdm bar with the latest episode and evaluation returns.
        desc: the bar's label (default: the variant).
        progress_file: where the bar is written (default stderr; notebooks pass sys.stdout).
        monitor: optional observer, ``monitor.on_eval(step, agent, memory, returns)`` after
            every evaluation (the loop calls ``monitor.on_update`` itself).
    """

    def __init__(
        self,
        config: Config,
        progress: bool = True,
        desc: str | None = None,
        progress_file: IO[str] | None = None,
        monitor: Any = None,
    ) -> None:
        self.config = config
        self.monitor = monitor
        self.history = History()
        self.evaluator = Evaluator(config.env_id, config.eval_episodes, seed=config.seed + 10_000)
        self.clock = time.perf_counter
        self.replay_time = 0.0  # the loop adds the seconds it spends inside the memory
        self.eval_time = 0.0
        self.start = self.clock()
        self.episodes = 0
        self.best_return = -np.inf
        self.best_weights: dict[str, torch.Tensor] | None = None
        self._progress = (progress, desc or config.variant, progress_file)
        self.bar: Any = None
        self.postfix = {"episode": "-", "eval": "-"}
        self._signals: contextlib.ExitStack | None = None

    def __enter__(self) -> RunRecorder:
        show, desc, file = self._progress
        self.bar = tqdm(total=self.config.total_steps, desc=desc, disable=not show,
                        mininterval=1.0, unit="step", file=file, dynamic_ncols=False,
                        ncols=100)  # fmt: skip
        self._signals = contextlib.ExitStack()
        self._signals.enter_context(stop_signals())
        self.start = self.clock()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            if self._signals is not None:
                self._signals.close()
            if self.bar is not None:
                self.bar.close()
            self.evaluator.close()
        finally:
            self.history.train_seconds = self.clock() - self.start - self.eval_time
            self.history.replay_seconds = self.replay_time
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.history.interrupted = True
            signum = getattr(exc, "signum", signal.SIGINT)
            self.history.stop_signal = signal.Signals(signum).name
            return True  # stopped: keep what was recorded
        return False

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    def episode_done(
        self, step: int, episode_return: float, length: int, loss: float, epsilon: float
    ) -> None:
        """One row of history.csv: an episode that ended at env step ``step``."""
        self.episodes += 1
        self.history.episodes.append(
            {
                "env_steps": step,
                "episode": self.episodes,
                "episode_return": episode_return,
                "episode_length": length,
                "loss": loss,
                "epsilon": epsilon,
                "wall_time": self.elapsed,
            }
        )
        self.postfix["episode"] = f"{episode_return:.0f}"
        self.bar.set_postfix(self.postfix, refresh=False)

    def evaluate(self, step: int, agent: Agent, memory: Any = None) -> np.ndarray:
        """A greedy evaluation at env step ``step``: one row of eval.csv, the best checkpoint
        (ties go to the latest), the monitor's ``on_eval``. Its time is not training time."""
        t0 = self.clock()
        train_so_far = t0 - self.start - self.eval_time  # training time, evaluations excluded
        returns = self.evaluator(agent)
        if returns.mean() >= self.best_return:  # >=: ties go to the latest
            self.best_return, self.best_weights = float(returns.mean()), snapshot(agent)
        if self.monitor is not None:
            self.monitor.on_eval(step, agent, memory, returns)
        self.eval_time += self.clock() - t0
        self.history.evals.append(
            {
                "env_steps": step,
                "eval_return": float(returns.mean()),
                "eval_std": float(returns.std()),
                "wall_time": self.elapsed,
                "train_seconds": train_so_far,
            }
        )
        self.postfix["eval"] = f"{returns.mean():.0f}"
        self.bar.set_postfix(self.postfix, refresh=False)
        return returns

    def advance(self, env_steps: int) -> None:
        """Move the progress bar to ``env_steps`` (the loop calls it as often as it likes)."""
        if env_steps > self.bar.n:
            self.bar.update(env_steps - self.bar.n)

    def result(self, agent: Agent, memory: Any, env_steps: int) -> TrainResult:
        """The TrainResult after the block: the agent, History, memory and best agent."""
        self.history.env_steps = env_steps
        self.history.gradient_steps = agent.updates
        best = None if self.best_weights is None else agent_from_snapshot(agent, self.best_weights)
        return TrainResult(agent, self.history, self.config, memory, best)
