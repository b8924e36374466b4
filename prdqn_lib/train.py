"""One training loop for the five variants (apex: ``prdqn_lib.apex``), greedy evaluation, and the
run's History."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from .agent import Agent, seed_everything
from .config import Config
from .replay import PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay

__all__ = [
    "Evaluator",
    "History",
    "TrainResult",
    "make_memory",
    "run_summary",
    "train",
    "SOLVED_RETURN",
]

SOLVED_RETURN = 475.0  # CartPole-v1's reward threshold


def _warm_up(memory) -> None:
    """Compile (or load from numba's cache) the memory's kernels on a throwaway copy, so that
    one-time JIT work is not billed to the replay memory's share of training time."""
    scratch = type(memory)(2)
    scratch.add(np.zeros(1), 0, 0.0, np.zeros(1), False)
    batch = scratch.sample(1)
    scratch.update_priorities(batch.indices, np.ones(1))


def make_memory(config: Config):
    """The replay memory of ``config.variant``."""
    cfg = config
    if cfg.variant in ("dqn", "ddqn"):
        return UniformReplay(cfg.buffer_size, seed=cfg.seed)
    if cfg.variant == "per-list":
        return TDErrorListReplay(cfg.buffer_size, eps=cfg.priority_eps, seed=cfg.seed)
    if cfg.variant == "per-rank":
        return RankBasedReplay(
            cfg.buffer_size,
            alpha=cfg.rank_alpha,
            beta=cfg.beta,
            beta_final=cfg.beta_final,
            beta_steps=cfg.gradient_steps,
            seed=cfg.seed,
        )
    return PrioritizedReplay(
        cfg.buffer_size,
        alpha=cfg.alpha,
        beta=cfg.beta,
        beta_final=cfg.beta_final,
        beta_steps=cfg.gradient_steps,  # β reaches beta_final at the run's last gradient step
        eps=cfg.priority_eps,
        seed=cfg.seed,
    )


EPISODE_FIELDS = ("env_steps", "episode", "episode_return", "episode_length", "loss", "epsilon",
                  "wall_time")  # fmt: skip
EVAL_FIELDS = ("env_steps", "eval_return", "eval_std", "wall_time", "train_seconds")


@dataclass
class History:
    """Per-episode and per-evaluation records of one run; saves to and loads from CSV."""

    episodes: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    replay_seconds: float = 0.0  # time spent inside the replay memory
    train_seconds: float = 0.0  # time of the training loop, evaluations excluded
    env_steps: int = 0
    interrupted: bool = False
    startup_seconds: float = 0.0  # before the loop, in neither time above (apex: Ray start-up)

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
        """Env steps of the first of ``consecutive`` evaluations in a row with mean ≥ threshold."""
        run = 0
        for k, r in enumerate(self.evals):
            run = run + 1 if r["eval_return"] >= threshold else 0
            if run == consecutive:
                return int(self.evals[k - consecutive + 1]["env_steps"])
        return None

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

        def read(name):
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


def run_summary(config: Config, history: History) -> dict:
    """The headline numbers of one run, as the CLI and the learning benchmark save them."""
    best = history.best_eval
    return {
        "variant": config.variant,
        "seed": config.seed,
        "env_steps": history.env_steps,
        "interrupted": history.interrupted,
        "steps_to_solve": history.steps_to_solve(),
        "final_eval_return": history.evals[-1]["eval_return"] if history.evals else None,
        "best_eval_env_steps": best[0] if best else None,
        "best_eval_return": best[1] if best else None,
        "env_steps_per_second": history.steps_per_second,
        "replay_share": history.replay_share,
        "train_seconds": history.train_seconds,
        "startup_seconds": history.startup_seconds,
    }


@dataclass
class TrainResult:
    agent: Agent  # the agent as training left it
    history: History
    config: Config
    memory: object  # the replay memory, as training left it
    best_agent: Agent | None = None  # the weights of the best evaluation (ties: the latest)


def _snapshot(agent: Agent) -> dict:
    """A copy of the online network's weights (tiny: copied at every new best evaluation)."""
    return {k: v.detach().clone() for k, v in agent.online.state_dict().items()}


def _agent_from_snapshot(agent: Agent, weights: dict) -> Agent:
    """A new agent with ``weights`` in both networks (a fresh optimizer: it is for acting)."""
    best = Agent(agent.obs_dim, agent.n_actions, agent.config)
    best.online.load_state_dict(weights)
    best.sync_target()
    best.updates = agent.updates
    return best


def train(
    config: Config,
    progress: bool = True,
    desc: str | None = None,
    progress_file=None,
    monitor=None,
    ray_address: str | None = None,
) -> TrainResult:
    """Train ``config.variant`` on ``config.env_id`` for ``config.total_steps`` env steps.

    Args:
        config: the hyperparameters (``config.variant`` picks memory and target).
        progress: show a tqdm bar with the latest episode and evaluation returns.
        desc: the bar's label (default: the variant).
        progress_file: where the bar is written (default stderr; notebooks pass sys.stdout).
        monitor: optional observer for diagnostics: ``monitor.on_update(step, agent, batch,
            loss, td)`` after every gradient step and ``monitor.on_eval(step, agent, memory,
            returns)`` after every evaluation (see ``benchmarks/diagnose_collapse.py``).
        ray_address: apex only: a Ray cluster to join (None: start Ray locally); the
            variant "apex" runs ``prdqn_lib.apex.train_apex``.

    Besides the final agent, training keeps the weights of the best evaluation so far (ties go
    to the latest, so a later equally good agent replaces an earlier one): ``best_agent``.

    Ctrl-C (KeyboardInterrupt) stops the run cleanly: the agent and the History recorded so far
    are returned, with ``history.interrupted`` set.
    """
    cfg = config
    if cfg.variant == "apex":  # actors on Ray feeding one learner: its own loop
        if monitor is not None:
            raise ValueError(f"monitor is not supported by the apex variant, got {monitor!r}")
        from .apex import train_apex

        return train_apex(cfg, progress, desc, progress_file, ray_address=ray_address)
    seed_everything(cfg.seed, cfg.num_threads)
    env = gym.make(cfg.env_id)
    evaluator = Evaluator(cfg.env_id, cfg.eval_episodes, seed=cfg.seed + 10_000)
    obs, _ = env.reset(seed=cfg.seed)  # seeded once; later resets continue the env's RNG
    env.action_space.seed(cfg.seed)
    agent = Agent(int(np.prod(env.observation_space.shape)), int(env.action_space.n), cfg)
    memory = make_memory(cfg)
    _warm_up(memory)
    history = History()

    clock = time.perf_counter
    replay_time = eval_time = 0.0
    start = clock()
    episode = episode_len = 0
    episode_return = loss_sum = 0.0
    loss_count = 0
    bar = tqdm(total=cfg.total_steps, desc=desc or cfg.variant, disable=not progress,
               mininterval=1.0, unit="step", file=progress_file,
               dynamic_ncols=False, ncols=100)  # fmt: skip
    postfix = {"episode": "-", "eval": "-"}
    step = 0
    best_return, best_weights = -np.inf, None
    try:
        for step in range(1, cfg.total_steps + 1):
            action = agent.act(obs, cfg.epsilon(step))
            next_obs, reward, terminated, truncated, _ = env.step(action)
            t0 = clock()
            memory.add(obs, action, reward, next_obs, terminated)
            replay_time += clock() - t0
            episode_return += reward
            episode_len += 1

            if step > cfg.learning_starts and step % cfg.train_every == 0:
                t0 = clock()
                batch = memory.sample(cfg.batch_size)
                t1 = clock()
                loss, td = agent.update(batch)
                t2 = clock()
                memory.update_priorities(batch.indices, td)
                replay_time += (t1 - t0) + (clock() - t2)
                if monitor is not None:
                    monitor.on_update(step, agent, batch, loss, td)
                loss_sum += loss
                loss_count += 1

            if terminated or truncated:
                episode += 1
                history.episodes.append(
                    {
                        "env_steps": step,
                        "episode": episode,
                        "episode_return": episode_return,
                        "episode_length": episode_len,
                        "loss": loss_sum / loss_count if loss_count else float("nan"),
                        "epsilon": cfg.epsilon(step),
                        "wall_time": clock() - start,
                    }
                )
                postfix["episode"] = f"{episode_return:.0f}"
                bar.set_postfix(postfix, refresh=False)
                if cfg.variant == "per-list" and step > cfg.learning_starts:
                    t0 = clock()  # the source refreshes every stored |δ| after each episode
                    memory.refresh_td_errors(agent.td_errors)
                    replay_time += clock() - t0
                obs, _ = env.reset()
                episode_return = loss_sum = 0.0
                episode_len = loss_count = 0
            else:
                obs = next_obs

            if step % cfg.eval_every == 0:
                t0 = clock()
                train_so_far = t0 - start - eval_time  # training time, evaluations excluded
                returns = evaluator(agent)
                if returns.mean() >= best_return:  # >=: ties go to the latest
                    best_return, best_weights = float(returns.mean()), _snapshot(agent)
                if monitor is not None:
                    monitor.on_eval(step, agent, memory, returns)
                eval_time += clock() - t0
                history.evals.append(
                    {
                        "env_steps": step,
                        "eval_return": float(returns.mean()),
                        "eval_std": float(returns.std()),
                        "wall_time": clock() - start,
                        "train_seconds": train_so_far,
                    }
                )
                postfix["eval"] = f"{returns.mean():.0f}"
                bar.set_postfix(postfix, refresh=False)
            if step % 100 == 0:
                bar.update(100)
    except KeyboardInterrupt:
        history.interrupted = True
        step -= 1  # the interrupted step did not complete
    finally:
        bar.update(step - bar.n)
        bar.close()
        env.close()
        evaluator.close()
    history.env_steps = step
    history.replay_seconds = replay_time
    history.train_seconds = clock() - start - eval_time
    best_agent = None if best_weights is None else _agent_from_snapshot(agent, best_weights)
    return TrainResult(agent, history, cfg, memory, best_agent)
