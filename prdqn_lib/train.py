"""The training loop of every variant without a loop of its own (apex has one, in
``prdqn_lib.apex``), and ``train``, which runs the loop a variant's registry entry names.

What a run records (evaluation, best checkpoint, History, progress, stop signals) is
``prdqn_lib.recorder``'s; which memory and target a variant uses is ``prdqn_lib.variants``'s.
"""

from __future__ import annotations

import time
from typing import IO, Any

import gymnasium as gym
import numpy as np

from .agent import Agent, seed_everything
from .config import Config
from .nstep import NStepBuffer, add_n_step
from .protocol import RefreshableMemory
from .recorder import (
    EPISODE_FIELDS,
    EVAL_FIELDS,
    Evaluator,
    History,
    RunRecorder,
    TrainResult,
    run_summary,
)
from .replay import warm_up_kernels
from .stats import SOLVED_RETURN
from .variants import get_variant, make_memory

__all__ = [
    "EPISODE_FIELDS",
    "EVAL_FIELDS",
    "Evaluator",
    "History",
    "SOLVED_RETURN",
    "TrainResult",
    "make_memory",
    "run_summary",
    "train",
]


def train(
    config: Config,
    progress: bool = True,
    desc: str | None = None,
    progress_file: IO[str] | None = None,
    monitor: Any = None,
    ray_address: str | None = None,
) -> TrainResult:
    """Train ``config.variant`` on ``config.env_id`` for ``config.total_steps`` env steps.

    Args:
        config: the hyperparameters (``config.variant`` names a registered variant: its
            memory, target and loop options).
        progress: show a tqdm bar with the latest episode and evaluation returns.
        desc: the bar's label (default: the variant).
        progress_file: where the bar is written (default stderr; notebooks pass sys.stdout).
        monitor: optional observer for diagnostics: ``monitor.on_update(step, agent, batch,
            loss, td)`` after every gradient step and ``monitor.on_eval(step, agent, memory,
            returns)`` after every evaluation (see ``benchmarks/diagnose_collapse.py``).
        ray_address: apex only: a Ray cluster to join (None: start Ray locally).

    Besides the final agent, training keeps the weights of the best evaluation so far (ties go
    to the latest, so a later equally good agent replaces an earlier one): ``best_agent``.

    Ctrl-C, or any signal that ends a run from outside (SIGTERM from ``timeout``, ``kill``,
    ``docker stop`` or a scheduler; SIGHUP; see ``recorder.STOP_SIGNALS``), stops the run
    cleanly: the agent and the History recorded so far are returned, with
    ``history.interrupted`` set and ``history.stop_signal`` naming the signal.
    """
    variant = get_variant(config.variant)
    loop = variant.resolve_loop()
    if loop is not None:  # a loop of its own (apex: actors on Ray feeding one learner)
        if monitor is not None:
            raise ValueError(f"monitor is not supported by the {variant.name} variant, "
                             f"got {monitor!r}")  # fmt: skip
        return loop(config, progress, desc, progress_file, ray_address=ray_address)
    if ray_address is not None:
        raise ValueError(f"ray_address applies to a variant with a Ray loop (apex), got "
                         f"{ray_address!r} with variant {variant.name!r}")  # fmt: skip
    return _train_loop(config, progress, desc, progress_file, monitor)


def _train_loop(
    cfg: Config,
    progress: bool,
    desc: str | None,
    progress_file: IO[str] | None,
    monitor: Any,
) -> TrainResult:
    """The standard loop: act ε-greedily, store, learn every ``train_every`` steps."""
    variant = get_variant(cfg.variant)
    refresh = variant.refresh_after_episode
    own_td = variant.new_priority == "td"  # a new transition enters at its own |δ|, not the max
    seed_everything(cfg.seed, cfg.num_threads)
    env = gym.make(cfg.env_id)
    recorder = RunRecorder(cfg, progress, desc, progress_file, monitor)
    obs, _ = env.reset(seed=cfg.seed)  # seeded once; later resets continue the env's RNG
    env.action_space.seed(cfg.seed)
    obs_shape, act_space = env.observation_space.shape, env.action_space
    if obs_shape is None or not isinstance(act_space, gym.spaces.Discrete):
        raise TypeError(
            f"env_id {cfg.env_id!r}: the agent needs observations of one shape and Discrete "
            f"actions, got {env.observation_space} and {act_space}"
        )
    agent = Agent(int(np.prod(obs_shape)), int(act_space.n), cfg)
    memory = make_memory(cfg)
    refreshable: RefreshableMemory | None = None  # the memory, when the variant refreshes |δ|
    if refresh:
        if not isinstance(memory, RefreshableMemory):
            raise TypeError(f"variant {cfg.variant!r} refreshes |δ| after each episode, but its "
                            f"memory {type(memory).__name__} has no refresh_td_errors")  # fmt: skip
        refreshable = memory
    warm_up_kernels()  # numba's one-time work is not billed to the replay share
    # n-step returns (off at n_step = 1): env steps pass through a window of n before they
    # are stored, each with its own discount γ^k (the window stops at a fall, bootstraps
    # through a time limit)
    nstep = NStepBuffer(cfg.n_step, cfg.gamma) if cfg.n_step > 1 else None

    clock = time.perf_counter
    done = 0  # env steps completed
    episode_len = loss_count = 0
    episode_return = loss_sum = 0.0
    try:
        with recorder:
            for step in range(1, cfg.total_steps + 1):
                action = agent.act(obs, cfg.epsilon(step))
                next_obs, reward, terminated, truncated, _ = env.step(action)
                t0 = clock()
                if nstep is None:
                    stored = [memory.add(obs, action, reward, next_obs, terminated)]
                else:
                    ready = nstep.push(obs, action, reward, next_obs, terminated, truncated)
                    stored = add_n_step(memory, ready, cfg.gamma)
                if own_td and stored:  # its |δ| under the current networks, as it is stored
                    memory.update_priorities(stored, agent.td_errors(memory.transitions(stored)))
                recorder.replay_time += clock() - t0
                episode_return += float(reward)
                episode_len += 1

                if (step > cfg.learning_starts and step % cfg.train_every == 0
                        and len(memory)):  # fmt: skip
                    t0 = clock()
                    batch = memory.sample(cfg.batch_size)
                    t1 = clock()
                    loss, td = agent.update(batch)
                    t2 = clock()
                    memory.update_priorities(batch.indices, td)
                    recorder.replay_time += (t1 - t0) + (clock() - t2)
                    if monitor is not None:
                        monitor.on_update(step, agent, batch, loss, td)
                    loss_sum += loss
                    loss_count += 1

                if terminated or truncated:
                    recorder.episode_done(step, episode_return, episode_len,
                                          loss_sum / loss_count if loss_count else float("nan"),
                                          cfg.epsilon(step))  # fmt: skip
                    if refreshable is not None and step > cfg.learning_starts:
                        t0 = clock()  # the source refreshes every stored |δ| after each episode
                        refreshable.refresh_td_errors(agent.td_errors)
                        recorder.replay_time += clock() - t0
                    obs, _ = env.reset()
                    episode_return = loss_sum = 0.0
                    episode_len = loss_count = 0
                else:
                    obs = next_obs

                if step % cfg.eval_every == 0:
                    recorder.evaluate(step, agent, memory)
                if step % 100 == 0:
                    recorder.advance(step)
                done = step
            recorder.advance(done)
    finally:
        env.close()
    return recorder.result(agent, memory, done)
