"""Ape-X: distributed prioritized experience replay (Horgan et al., 2018) on Ray.

N actors, each with its own environment, its own fixed exploration rate and its own copy of
the Q-network, act in parallel. Every ``apex_block`` env steps an actor computes the initial
priority of each new transition under *its* copy (|δ| of the Double DQN target, n-step when
``n_step > 1``) and sends the block, with those priorities, to one central replay memory (a
``PrioritizedReplay`` held by a Ray actor, FIFO once full). The learner samples prioritized
batches from it, takes gradient steps, writes the new |δ| back and publishes its weights every
``apex_sync_every`` updates; actors pick up the latest weights as they send their blocks::

    actor 0 (ε_0) ─┐ blocks of n-step (s, a, R, s', terminated, γ^k, |δ|)
    actor 1 (ε_1) ─┼──────────────────────────────► replay (PrioritizedReplay, a Ray actor)
       ...         │                                    │  ▲ batches      ▲ new |δ|
    actor N−1     ─┘                                    ▼  │              │
          ▲                                          learner (this process) ──► evaluation
          └──────────── weights every apex_sync_every updates ─┘

The learning algorithm is the variant's Config: apex's preset is Ape-X DQN's (3-step returns,
a dueling head, IS weights with β annealed from 0.4 to 1); ``Config.preset("apex", "shared")``
is the one-step plain-MLP learner with β = 0 that earlier editions ran.

Two modes (``Config.apex_mode``):

* ``"free"`` (Ape-X proper): every actor runs its share of the env-step budget on its own,
  sending blocks as fast as it can; the learner starts once the actors have sent
  max(``learning_starts``, ``batch_size``) env steps and from then on learns without ever
  waiting for data, each
  fetch of ``batches_per_call`` batches requested before the previous ones are learned from (so
  a batch is drawn with priorities at most two fetches stale, as in Ape-X's prefetching
  learner). Evaluations happen when the env-step count crosses each ``eval_every`` and are
  labelled with the count at that moment; actors do not stop for them. How many gradient steps
  the learner takes per env step (the replay ratio) is whatever the rates give: it is measured
  (``summary.json``: ``gradient_steps``, ``replay_ratio``), not set.
* ``"paced"``: the learner keeps per-sumtree's replay ratio (one gradient step per
  ``train_every`` env steps, summed over actors): it waits for data when it is ahead, actors
  wait when they are more than one block each ahead, and every evaluation is a barrier at
  exactly every ``eval_every`` env steps, so an apex run and a per-sumtree run take the same
  gradient steps per env step and their curves compare in env steps. Batches 2 to
  ``batches_per_call`` of a fetch are drawn before the |δ| of the earlier ones is written back
  (per-sumtree writes back after every batch).

The pieces that need no Ray are plain functions and classes, tested on their own:
``actor_epsilons``, ``block_td_errors``, ``get_weights`` / ``set_weights``, ``ApexActor`` and
``ReplayServer``. ``train_apex`` puts them on Ray, the actors spread over the cluster's nodes
(``scheduling_strategy="SPREAD"``; Ray's default would fill the driver's node first).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ._checks import positive_int, real
from .agent import Agent, epsilon_greedy, seed_everything
from .config import Config
from .nstep import NStepBuffer
from .protocol import ReplayMemory
from .recorder import RunRecorder, TrainResult
from .replay import Batch, warm_up_kernels
from .variants import make_memory

__all__ = [
    "ApexActor",
    "Block",
    "ReplayServer",
    "actor_epsilons",
    "block_td_errors",
    "check_ray_address",
    "get_weights",
    "set_weights",
    "train_apex",
]


def actor_epsilons(n_actors: int, eps: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    """Ape-X's exploration rates: ε_i = ε^(1 + α·i/(N−1)) for actors i = 0, …, N−1.

    Actor 0 explores most (ε_0 = ε), the last least (ε_{N−1} = ε^(1+α)); the exponents are
    evenly spaced, so the rates are evenly spaced on a log scale. With one actor, ε_0 = ε.

    Args:
        n_actors: N >= 1.
        eps: ε in [0, 1] (Ape-X: 0.4).
        alpha: α >= 0 (Ape-X: 7).
    """
    n = positive_int(n_actors, "n_actors")
    eps = real(eps, "eps")
    if not 0 <= eps <= 1:
        raise ValueError(f"eps must lie in [0, 1], got {eps}")
    alpha = real(alpha, "alpha")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    if n == 1:
        return np.array([eps])
    return eps ** (1.0 + alpha * np.arange(n) / (n - 1))


@dataclass
class Block:
    """What an actor sends to the replay: n transitions with their initial |δ|, plus the
    episodes that ended inside the block (for the learner's History)."""

    obs: np.ndarray  # (n, obs_dim) float32
    actions: np.ndarray  # (n,) int64
    rewards: np.ndarray  # (n,) float32
    next_obs: np.ndarray  # (n, obs_dim) float32
    terminated: np.ndarray  # (n,) bool: only a fall; a time-limit truncation bootstraps
    td_errors: np.ndarray  # (n,) float64: |δ| under the actor's copy of the network
    # one (step in the block, 0-based; return; length) per episode that ended in the block
    episodes: list[tuple[int, float, int]] = field(default_factory=list)
    epsilon: float = 0.0
    weights_version: int = 0  # the version of the weights that acted and computed |δ|
    # (n,) γ^k of each n-step transition (None: one-step transitions, discount γ)
    discounts: np.ndarray | None = None
    # env steps the block covers; with n-step returns up to n−1 of its steps wait in the
    # actor for their window of rewards, so len(block) may differ from env_steps
    env_steps: int = -1

    def __post_init__(self) -> None:
        if self.env_steps < 0:
            self.env_steps = len(self)

    def __len__(self) -> int:
        return int(self.actions.shape[0])


def block_td_errors(
    agent: Agent,
    obs: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    next_obs: np.ndarray,
    terminated: np.ndarray,
    discounts: np.ndarray | None = None,
) -> np.ndarray:
    """|δ_i| of a block of transitions under ``agent``'s networks, with no learning.

    δ_i = y_i − Q(s_i, a_i), y_i = r_i + γ_i·(1 − terminated_i)·Q_target(s'_i, argmax_a
    Q(s'_i, a)) (Double DQN; plain DQN's max if ``agent.config.variant == "dqn"``), with
    γ_i = ``discounts[i]`` (γ^k of an n-step transition) or γ when ``discounts`` is None. Only a
    termination stops the bootstrap: a transition cut by the time limit keeps it. This is the
    agent's own TD-error code (``Agent.td_errors``), run on the block as one batch.
    """
    batch = Batch(
        obs=np.ascontiguousarray(obs, dtype=np.float32),
        actions=np.ascontiguousarray(actions, dtype=np.int64),
        rewards=np.ascontiguousarray(rewards, dtype=np.float32),
        next_obs=np.ascontiguousarray(next_obs, dtype=np.float32),
        terminated=np.ascontiguousarray(terminated, dtype=bool),
        weights=np.ones(len(actions)),
        indices=np.arange(len(actions)),
        discounts=None if discounts is None else np.asarray(discounts, dtype=np.float64),
    )
    return agent.td_errors(batch)


def get_weights(agent: Agent, version: int = 0) -> dict[str, Any]:
    """The agent's online and target weights as numpy arrays (cheap to send), tagged with
    ``version`` so an actor can tell new weights from the ones it has."""
    return {
        "version": int(version),
        "online": {k: v.detach().numpy().copy() for k, v in agent.online.state_dict().items()},
        "target": {k: v.detach().numpy().copy() for k, v in agent.target.state_dict().items()},
    }


def set_weights(agent: Agent, weights: dict[str, Any]) -> None:
    """Load ``get_weights``'s output into ``agent``'s networks, in place (the numpy forward
    that acts reads views of the parameters, so it sees the new weights at once)."""
    for name in ("online", "target"):
        net = getattr(agent, name)
        # a copy: arrays that come through Ray are read-only views of its object store
        net.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in weights[name].items()})


class ApexActor:
    """One Ape-X actor: an environment, a fixed ε and a local copy of the Q-networks.

    ``collect(n)`` runs n ε-greedy env steps (episodes continue across blocks), then computes
    the n transitions' |δ| under the local networks and returns them as a ``Block``.

    Args:
        config: the run's Config (network shape, γ, target kind, env).
        index: this actor's number i (picks ε_i and its random streams).
        epsilon: ε_i.
        weights: initial weights (``get_weights``).
    """

    def __init__(self, config: Config, index: int, epsilon: float, weights: dict[str, Any]) -> None:
        torch.set_num_threads(1)  # tiny networks: one thread is fastest, and cores are shared
        self.config = config
        self.index = int(index)
        self.epsilon = float(epsilon)
        seeds = np.random.SeedSequence([config.seed, 1 + self.index]).generate_state(2)
        self.rng = np.random.default_rng(int(seeds[0]))
        self.env = gym.make(config.env_id)
        obs_dim, self.n_actions = _env_dims(self.env, config.env_id)
        self.agent = Agent(obs_dim, self.n_actions, config)
        self.version = -1
        self.set_weights(weights)
        self.obs, _ = self.env.reset(seed=int(seeds[1]))  # seeded once
        self.episode_return, self.episode_len = 0.0, 0
        self.steps = 0
        self.nstep = NStepBuffer(config.n_step, config.gamma) if config.n_step > 1 else None

    def set_weights(self, weights: dict[str, Any] | None) -> None:
        """Load new weights (None or an older/equal version: keep the current ones)."""
        if weights is not None and weights["version"] > self.version:
            set_weights(self.agent, weights)
            self.version = weights["version"]

    def collect(self, n_steps: int, weights: dict[str, Any] | None = None) -> Block:
        """``n_steps`` env steps with ε_i-greedy actions, as a Block with initial |δ|.

        With ``config.n_step`` = n > 1 the block holds the n-step transitions these steps
        complete (``prdqn_lib.nstep.NStepBuffer``, which carries an unfinished window over to
        the next block), each with its γ^k in ``Block.discounts``."""
        n = positive_int(n_steps, "n_steps")
        self.set_weights(weights)
        dim = self.obs.shape[0]
        obs = np.empty((n, dim), dtype=np.float32)
        next_obs = np.empty((n, dim), dtype=np.float32)
        actions = np.empty(n, dtype=np.int64)
        rewards = np.empty(n, dtype=np.float32)
        terminated = np.empty(n, dtype=bool)
        discounts = np.empty(n, dtype=np.float64)
        episodes = []
        k = 0  # transitions so far (n-step: at most one per env step while an episode runs)
        for t in range(n):
            greedy = lambda: self.agent.greedy_actions(self.obs[None])[0]  # noqa: E731
            action = epsilon_greedy(self.rng, self.epsilon, self.n_actions, greedy)
            nxt, reward, term, trunc, _ = self.env.step(action)
            if self.nstep is None:
                obs[k], actions[k], rewards[k], next_obs[k], terminated[k] = (
                    self.obs, action, reward, nxt, term
                )  # fmt: skip
                k += 1
            else:
                for tr in self.nstep.push(self.obs, action, reward, nxt, term, trunc):
                    if k == len(actions):  # an episode's end emits up to n at once: grow
                        obs, next_obs, actions, rewards, terminated, discounts = (
                            np.concatenate([x, x[: len(x)]])
                            for x in (obs, next_obs, actions, rewards, terminated, discounts)
                        )
                    obs[k], actions[k], rewards[k], next_obs[k], terminated[k], discounts[k] = (
                        tr.obs, tr.action, tr.reward, tr.next_obs, tr.terminated, tr.discount
                    )  # fmt: skip
                    k += 1
            self.episode_return += float(reward)
            self.episode_len += 1
            if term or trunc:
                episodes.append((t, self.episode_return, self.episode_len))
                self.obs, _ = self.env.reset()
                self.episode_return, self.episode_len = 0.0, 0
            else:
                self.obs = nxt
        self.steps += n
        obs, next_obs, actions, rewards, terminated = (
            obs[:k], next_obs[:k], actions[:k], rewards[:k], terminated[:k]
        )  # fmt: skip
        disc = None if self.nstep is None else discounts[:k]
        td = block_td_errors(self.agent, obs, actions, rewards, next_obs, terminated, disc)
        return Block(obs, actions, rewards, next_obs, terminated, td, episodes, self.epsilon,
                     self.version, disc, n)  # fmt: skip

    def run(self, replay: Any, budget: int, block_size: int) -> int:
        """Free mode: collect ``budget`` env steps in blocks of ``block_size`` and add each
        block to the Ray replay actor ``replay`` as soon as it is full, loading the newer
        weights the replay hands back (the learner publishes them there). Returns the env
        steps collected. Runs until done; the learner stops it early with ``ray.kill``."""
        import ray

        budget = positive_int(budget, "budget")
        block_size = positive_int(block_size, "block_size")
        done = 0
        while done < budget:
            n = min(block_size, budget - done)
            block = self.collect(n)
            self.set_weights(ray.get(replay.add_block.remote(block)))
            done += n
        return done

    def collect_into(
        self, replay: Any, n_steps: int, weights: dict[str, Any] | None = None
    ) -> Block:
        """``collect``, then add the block to the Ray replay actor ``replay`` and wait for it,
        so that when this returns the transitions are in the memory. Returns the block
        without its arrays (the learner needs only the episodes and the count)."""
        import ray

        block = self.collect(n_steps, weights)
        ray.get(replay.add_block.remote(block))
        empty = np.empty(0)
        return dataclasses.replace(block, obs=empty, next_obs=empty, rewards=empty,
                                   terminated=empty, td_errors=empty, discounts=None,
                                   actions=np.empty(len(block), dtype=np.int8))  # fmt: skip

    def ready(self) -> bool:
        return True

    def node_id(self) -> str:
        """The Ray node this actor runs on (where SPREAD put it)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def close(self) -> None:
        self.env.close()


class ReplayServer:
    """The central replay: the variant's memory (any ``ReplayMemory``; apex's registry entry
    gives per-sumtree's ``PrioritizedReplay``, a ring that overwrites its oldest transitions
    once full) that takes blocks with given priorities and serves several batches per call
    (fewer round trips between processes).

    In free mode it is also where the learner publishes its weights (``publish``: an actor gets
    the newer ones back from ``add_block``) and where the learner reads how many env steps the
    actors have done and which episodes ended (``status``, ``learn_step``): nobody waits for
    anybody but the memory itself. There β follows the run's env steps rather than the
    learner's sample calls, since a free learner's number of gradient steps is not known in
    advance.

    Args:
        config: the run's Config (its variant's memory factory, capacity, α, β, ε, seed).
    """

    def __init__(self, config: Config) -> None:
        torch.set_num_threads(1)
        self.config = config
        self.memory: ReplayMemory = make_memory(config)
        warm_up_kernels()
        self.added = 0  # transitions added (more than the capacity once the ring wraps)
        self.env_steps = 0  # env steps of the blocks added, summed over actors
        self.weights: dict[str, Any] | None = None  # the latest published (free mode)
        # when each slot was last written (the `added` count before it), and the batches
        # served but not yet written back, oldest first: (size, `added` when drawn). A |δ|
        # that comes back for a slot overwritten since it was drawn belongs to an evicted
        # transition and is dropped, not given to the new one
        self._written_at = np.full(self.memory.capacity, -1, dtype=np.int64)
        self._served: collections.deque[tuple[int, int]] = collections.deque()
        self.stale_dropped = 0  # write-backs dropped that way
        # (env step of the run, return, length, ε) of episodes not yet read by the learner
        self.new_episodes: list[tuple[int, float, int, float]] = []

    def add_block(self, block: Block) -> dict[str, Any] | None:
        """Store the block's transitions at p = (|δ| + ε)^α; record its episodes at their step
        of the run. Returns the published weights if newer than the block's, else None."""
        if len(block):
            idx = self.memory.add_batch(block.obs, block.actions, block.rewards, block.next_obs,
                                  block.terminated, block.td_errors,
                                  **({} if block.discounts is None
                                     else {"discounts": block.discounts}))  # fmt: skip
            self._written_at[np.asarray(idx)] = self.added + np.arange(len(block))
        for t, ret, length in block.episodes:
            self.new_episodes.append((self.env_steps + t + 1, ret, length, block.epsilon))
        self.added += len(block)
        self.env_steps += block.env_steps
        if self.weights is not None and self.weights["version"] > block.weights_version:
            return self.weights
        return None

    def publish(self, weights: dict[str, Any]) -> None:
        """Keep ``weights`` (``get_weights``) for the actors' next blocks."""
        self.weights = weights

    def status(self) -> tuple[int, list[tuple[int, float, int, float]]]:
        """(env steps so far, the episodes that ended since the last call)."""
        episodes, self.new_episodes = self.new_episodes, []
        return self.env_steps, episodes

    def _pace_beta(self) -> None:
        anneal_to = getattr(self.memory, "anneal_to", None)  # memories with a β schedule
        if anneal_to is not None:
            anneal_to(self.env_steps / self.config.total_steps)

    def learn_step(
        self,
        indices: np.ndarray | None,
        td_errors: np.ndarray | None,
        n_batches: int,
        batch_size: int,
    ) -> tuple[list[Batch], float, int, list[tuple[int, float, int, float]]]:
        """Free mode's one call per fetch: ``update_and_sample``, then ``status``.

        Returns (batches, seconds in the memory, env steps so far, new episodes)."""
        self._pace_beta()
        batches, seconds = self.update_and_sample(indices, td_errors, n_batches, batch_size)
        return (batches, seconds, *self.status())

    def update_and_sample(
        self,
        indices: np.ndarray | None,
        td_errors: np.ndarray | None,
        n_batches: int,
        batch_size: int,
    ) -> tuple[list[Batch], float]:
        """Write back the |δ| of earlier batches (if any), then draw ``n_batches`` batches.

        Returns the batches and the seconds spent in the memory (the replay share)."""
        seconds = 0.0 if indices is None else self.update(indices, td_errors)
        t0 = time.perf_counter()
        batches = [self.memory.sample(batch_size) for _ in range(n_batches)]
        self._served.extend((len(b.indices), self.added) for b in batches)
        return batches, seconds + time.perf_counter() - t0

    def update(self, indices: np.ndarray, td_errors: Any) -> float:
        """Write back the |δ| of served batches; returns the seconds spent in the memory."""
        t0 = time.perf_counter()
        if len(indices):
            self._write_back(indices, td_errors)
        return time.perf_counter() - t0

    def _write_back(self, indices: np.ndarray, td_errors: Any) -> None:
        """New |δ| of served batches, oldest first, minus those of evicted transitions."""
        indices = np.asarray(indices)
        drawn_at = np.empty(len(indices), dtype=np.int64)
        k = 0
        while k < len(indices) and self._served:
            size, stamp = self._served.popleft()
            drawn_at[k : k + size] = stamp
            k += size
        if k != len(indices):  # not the served batches in order: nothing to check against
            self._served.clear()
            self.memory.update_priorities(indices, td_errors)
            return
        keep = self._written_at[indices] < drawn_at
        self.stale_dropped += int(len(indices) - keep.sum())
        if keep.any():
            self.memory.update_priorities(indices[keep], np.asarray(td_errors)[keep])

    def get_stale_dropped(self) -> int:
        return self.stale_dropped

    def get_memory(self) -> ReplayMemory:
        return self.memory

    def size(self) -> int:
        return len(self.memory)


# ------------------------------------------------------------------------------------ on Ray


def check_ray_address(address: str, timeout: float = 3.0) -> None:
    """Raise ValueError (one line) unless ``address`` names a reachable Ray cluster head.

    ``"auto"`` is left to Ray (it fails at once when no cluster runs here). ``host:port`` and
    ``ray://host:port`` are checked with one TCP connection of at most ``timeout`` seconds:
    Ray itself would retry an unreachable address for minutes.
    """
    import socket

    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"ray_address must be 'auto', host:port or ray://host:port, "
                         f"got {address!r}")  # fmt: skip
    if address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"ray_address must be 'auto', host:port or ray://host:port, "
                         f"got {address!r}")  # fmt: skip
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ValueError(f"ray_address {address!r} cannot be reached: "
                         f"{exc.strerror or exc}") from None  # fmt: skip


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[float]:
    """Connect to Ray for the duration of the block; yields the seconds it took.

    Ray already initialised in this process (a notebook, a benchmark task): use it and leave
    it running. ``address`` given (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``): join
    that cluster and disconnect at the end (the cluster keeps running). Otherwise start a
    private local instance with ``num_cpus`` (default: this machine's cores) and shut it down
    at the end, also after an error or Ctrl-C.
    """
    import ray

    t0 = time.perf_counter()
    started = False
    ray_logger = logging.getLogger("ray")
    level = ray_logger.level
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network calls home
        # errors only: Ray's start-up notices would be the only stderr of a clean run
        kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
        ray_logger.setLevel(logging.ERROR)  # ray.init logs one notice before it applies that
        if address:
            ray.init(address=address, **kwargs)
        else:  # "local": never join a cluster someone else started on this machine
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count(),
                     include_dashboard=False, object_store_memory=200 * 2**20,
                     **kwargs)  # fmt: skip
        started = True
    try:
        yield time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
            ray_logger.setLevel(level)


def _writable(batch: Batch) -> Batch:
    """A batch whose arrays torch may wrap: Ray hands out read-only views of its store."""
    arrays = {f.name: getattr(batch, f.name) for f in dataclasses.fields(Batch)}
    copies = {name: np.array(a) for name, a in arrays.items() if a is not None}
    return dataclasses.replace(batch, **copies)


def _env_dims(env: gym.Env, env_id: str) -> tuple[int, int]:
    """(observation size, number of actions); TypeError unless the actions are Discrete and
    the observations have one shape."""
    obs_shape, act_space = env.observation_space.shape, env.action_space
    if obs_shape is None or not isinstance(act_space, gym.spaces.Discrete):
        raise TypeError(
            f"env_id {env_id!r}: the agent needs observations of one shape and Discrete "
            f"actions, got {env.observation_space} and {act_space}"
        )
    return int(np.prod(obs_shape)), int(act_space.n)


def _allowed_updates(cfg: Config, env_steps: int) -> int:
    """Gradient steps per-sumtree has taken after ``env_steps`` env steps: one at every step
    s > learning_starts with s divisible by train_every."""
    if env_steps <= cfg.learning_starts:
        return 0
    return env_steps // cfg.train_every - cfg.learning_starts // cfg.train_every


def train_apex(
    config: Config,
    progress: bool = True,
    desc: str | None = None,
    progress_file: Any = None,
    ray_address: str | None = None,
    batches_per_call: int = 4,
) -> TrainResult:
    """Train Ape-X with ``config.actors`` actors on Ray for ``config.total_steps`` env steps.

    Env steps are counted over all actors. In ``config.apex_mode == "free"`` actors and
    learner (this process) run at their own rates and the learner evaluates greedily when the
    env-step count crosses each multiple of ``eval_every`` (labelled with that count); in
    ``"paced"`` the learner takes the same gradient steps per env step as per-sumtree and
    evaluates on exactly every ``eval_every`` env steps, actors held at each evaluation point
    until it has caught up (see the module docstring). Evaluation, best checkpoint, History and stop
    signals are ``prdqn_lib.recorder.RunRecorder``'s, as in every loop;
    ``history.startup_seconds`` is Ray's start-up and the actors' creation, which
    ``train_seconds`` (and so env steps/s) exclude.

    Args:
        config: hyperparameters of a variant whose registry entry names this loop.
        progress, desc, progress_file: the progress bar, as in ``train``.
        ray_address: an existing Ray cluster to join (None: start Ray locally).
        batches_per_call: batches the learner fetches per call to the replay actor (and
            updates it takes before it writes their |δ| back).

    Ctrl-C or a stop signal ends the run cleanly (``history.interrupted``), errors propagate;
    either way the actors are stopped and a Ray that this call started is shut down.
    """
    import ray

    cfg = config
    from .variants import get_variant

    # the registry names the loop once ("module:function"); compare the function it resolves to
    if get_variant(cfg.variant).resolve_loop() is not train_apex:
        raise ValueError(f"config.variant must be one whose loop is train_apex (apex), got "
                         f"{cfg.variant!r}")  # fmt: skip
    batches_per_call = positive_int(batches_per_call, "batches_per_call")
    t_begin = time.perf_counter()
    seed_everything(cfg.seed, cfg.num_threads)
    probe = gym.make(cfg.env_id)
    obs_dim, n_actions = _env_dims(probe, cfg.env_id)
    probe.close()
    agent = Agent(obs_dim, n_actions, cfg)
    recorder = RunRecorder(cfg, progress, desc, progress_file)
    epsilons = actor_epsilons(cfg.actors, cfg.apex_eps, cfg.apex_eps_alpha)
    actors: list[Any] = []  # Ray actor handles (Ray types a handle's methods without .remote)
    replay: Any = None
    try:
        with ray_session(ray_address, num_cpus=max(os.cpu_count() or 1, cfg.actors)):
            try:
                # actors reserve a CPU each and are spread over the cluster's nodes (Ray's
                # default packs the driver's node first); the replay is light
                remote_actor = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(ApexActor)
                remote_replay = ray.remote(num_cpus=0)(ReplayServer)
                weights_ref = ray.put(get_weights(agent, 0))
                replay = remote_replay.remote(cfg)
                actors = [remote_actor.remote(cfg, i, float(epsilons[i]), weights_ref)
                          for i in range(cfg.actors)]  # fmt: skip
                nodes = ray.get([a.node_id.remote() for a in actors] + [replay.size.remote()])
                recorder.history.loop_stats["actor_nodes"] = len(set(nodes[:-1]))
                recorder.history.startup_seconds = time.perf_counter() - t_begin
                kind = _FreeLearner if cfg.apex_mode == "free" else _Learner
                learner = kind(cfg, agent, recorder, actors, replay, weights_ref,
                               batches_per_call)  # fmt: skip
                with recorder:
                    learner.run()
                memory = None
                if not recorder.history.interrupted:
                    with contextlib.suppress(Exception):
                        memory = ray.get(replay.get_memory.remote(), timeout=30)
                return recorder.result(agent, memory, learner.done)
            finally:  # inside the session: after ray.shutdown, ray.kill would start a new Ray
                for handle in [*actors, replay]:
                    if handle is not None:
                        with contextlib.suppress(Exception):
                            ray.kill(handle)
    finally:
        recorder.evaluator.close()


class _Learner:
    """The paced learner's loop (see ``train_apex``): hands out blocks, learns at per-sumtree's
    replay ratio, records episodes and evaluations through the run's recorder."""

    def __init__(self, cfg: Config, agent: Agent, recorder: RunRecorder, actors: list[Any],
                 replay: Any, weights_ref: Any, batches_per_call: int) -> None:  # fmt: skip
        self.cfg, self.agent, self.recorder = cfg, agent, recorder
        self.actors, self.replay, self.weights_ref = actors, replay, weights_ref
        self.k_max = batches_per_call
        self.version = 0
        self.done = 0  # env steps returned (in the memory)
        self.pending_idx: list[np.ndarray] = []
        self.pending_td: list[np.ndarray] = []

    def flush_priorities(self) -> None:
        """Write back the |δ| of the batches learned from since the last fetch."""
        import ray

        if self.pending_idx:
            self.recorder.replay_time += ray.get(self.replay.update.remote(
                np.concatenate(self.pending_idx), np.concatenate(self.pending_td)))  # fmt: skip
            self.pending_idx.clear()
            self.pending_td.clear()

    def learn(self, k: int) -> tuple[float, int]:
        """Write back pending |δ|, fetch k batches, take k gradient steps. (loss sum, k)."""
        import ray

        idx = np.concatenate(self.pending_idx) if self.pending_idx else None
        td = np.concatenate(self.pending_td) if self.pending_td else None
        self.pending_idx.clear()
        self.pending_td.clear()
        batches, seconds = ray.get(
            self.replay.update_and_sample.remote(idx, td, k, self.cfg.batch_size)
        )
        self.recorder.replay_time += seconds
        loss_sum = 0.0
        for batch in batches:
            loss, td_new = self.agent.update(_writable(batch))
            self.pending_idx.append(batch.indices)
            self.pending_td.append(td_new)
            loss_sum += loss
            if self.agent.updates % self.cfg.apex_sync_every == 0:
                self.version += 1
                self.weights_ref = ray.put(get_weights(self.agent, self.version))
        return loss_sum, len(batches)

    def run(self) -> None:
        import ray

        cfg, agent, recorder = self.cfg, self.agent, self.recorder
        total = cfg.total_steps
        actor_version = [0] * len(self.actors)
        in_flight: dict[Any, tuple[int, int]] = {}  # ObjectRef -> (actor index, steps)
        idle = list(range(len(self.actors)))
        issued = 0  # env steps handed out to actors
        next_eval = cfg.eval_every
        loss_sum, loss_count = 0.0, 0
        slack = len(self.actors) * cfg.apex_block  # how far actors may run ahead of the learner
        while True:
            # 1. hand out blocks: never past the next evaluation point or the run's end, and
            #    never more than `slack` steps ahead of what the learner has consumed
            consumed = cfg.learning_starts + agent.updates * cfg.train_every
            limit = min(total, next_eval)
            while idle and issued < limit and issued - consumed < slack:
                i = idle.pop(0)
                n = min(cfg.apex_block, limit - issued)
                fresh = self.weights_ref if actor_version[i] < self.version else None
                ref = self.actors[i].collect_into.remote(self.replay, n, fresh)
                actor_version[i] = self.version
                in_flight[ref] = (i, n)
                issued += n
            # 2. learn while the data allow it (the replay ratio of the other variants)
            owed = _allowed_updates(cfg, self.done) - agent.updates
            if owed > 0:
                s, c = self.learn(min(self.k_max, owed))
                loss_sum += s
                loss_count += c
                ready: list[Any] = []  # ObjectRefs
                if in_flight:
                    ready, _ = ray.wait(list(in_flight), num_returns=len(in_flight), timeout=0)
            elif in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1)
            else:
                ready = []
            # 3. blocks that arrived: count their steps, record their episodes
            for ref in ready:
                i, n = in_flight.pop(ref)
                block = ray.get(ref)
                idle.append(i)
                for t, ret, length in block.episodes:
                    recorder.episode_done(self.done + t + 1, ret, length,
                                          loss_sum / loss_count if loss_count else float("nan"),
                                          block.epsilon)  # fmt: skip
                    loss_sum, loss_count = 0.0, 0
                self.done += n
                recorder.advance(self.done)
            # 4. evaluate at exactly every eval_every steps, once the learner has caught up
            caught_up = not in_flight and agent.updates >= _allowed_updates(cfg, self.done)
            if self.done == next_eval and caught_up:
                self.flush_priorities()
                recorder.evaluate(self.done, agent)
                next_eval += cfg.eval_every
            elif self.done >= total and caught_up:
                break
        self.flush_priorities()


def _budgets(total: int, n_actors: int) -> list[int]:
    """Each actor's share of the run's env steps (the first ones take the remainder)."""
    share, extra = divmod(total, n_actors)
    return [share + (i < extra) for i in range(n_actors)]


class _FreeLearner:
    """The free learner's loop (see ``train_apex``): starts every actor on its share of the
    budget, then learns as fast as it can, prefetching the next batches while it learns from
    the current ones, and records episodes and evaluations as the env-step count passes them."""

    def __init__(self, cfg: Config, agent: Agent, recorder: RunRecorder, actors: list[Any],
                 replay: Any, weights_ref: Any, batches_per_call: int) -> None:  # fmt: skip
        self.cfg, self.agent, self.recorder = cfg, agent, recorder
        self.actors, self.replay = actors, replay
        self.k = batches_per_call
        self.version = 0
        self.done = 0  # env steps the replay has received, summed over actors
        self.loss_sum, self.loss_count = 0.0, 0
        self.idle_seconds = 0.0  # the learner waiting for data (before learning_starts only)
        self.wait_seconds = 0.0  # ... waiting for its prefetched batches (after it)

    def record(self, env_steps: int, episodes: list[tuple[int, float, int, float]]) -> None:
        for step, ret, length, eps in episodes:
            loss = self.loss_sum / self.loss_count if self.loss_count else float("nan")
            self.recorder.episode_done(step, ret, length, loss, eps)
            self.loss_sum, self.loss_count = 0.0, 0
        self.done = env_steps
        self.recorder.advance(env_steps)

    def publish(self) -> None:
        self.version += 1
        self.replay.publish.remote(get_weights(self.agent, self.version))  # no wait

    def run(self) -> None:
        import ray

        cfg, agent, recorder = self.cfg, self.agent, self.recorder
        self.replay.publish.remote(get_weights(agent, 0))
        budgets = _budgets(cfg.total_steps, len(self.actors))
        runs = {a.run.remote(self.replay, b, cfg.apex_block): i
                for i, (a, b) in enumerate(zip(self.actors, budgets, strict=True))}  # fmt: skip
        next_eval = cfg.eval_every
        warm = max(cfg.learning_starts, cfg.batch_size)
        fetch = None  # the prefetched call: (batches, seconds, env steps, episodes)
        idx: list[np.ndarray] = []
        td: list[np.ndarray] = []
        while True:
            if runs:  # an actor that failed raises here; one that finished leaves the set
                finished, _ = ray.wait(list(runs), num_returns=len(runs), timeout=0)
                for ref in finished:
                    ray.get(ref)
                    runs.pop(ref)
            if fetch is None and self.done < warm:  # warming up: wait for data
                t0 = time.perf_counter()
                self.record(*ray.get(self.replay.status.remote()))
                if self.done < warm:
                    if not runs:
                        raise RuntimeError(f"the actors stopped after {self.done} env steps, "
                                           f"before learning_starts={warm}")  # fmt: skip
                    time.sleep(0.005)
                self.idle_seconds += time.perf_counter() - t0
            else:
                if fetch is None:
                    fetch = self.replay.learn_step.remote(None, None, self.k, cfg.batch_size)
                t0 = time.perf_counter()
                batches, seconds, env_steps, episodes = ray.get(fetch)
                self.wait_seconds += time.perf_counter() - t0
                recorder.replay_time += seconds
                back_idx = np.concatenate(idx) if idx else None
                back_td = np.concatenate(td) if td else None
                idx, td = [], []
                # the next batches are drawn while these are learned from
                fetch = self.replay.learn_step.remote(back_idx, back_td, self.k, cfg.batch_size)
                for batch in batches:
                    loss, td_new = agent.update(_writable(batch))
                    idx.append(batch.indices)
                    td.append(td_new)
                    self.loss_sum += loss
                    self.loss_count += 1
                    if agent.updates % cfg.apex_sync_every == 0:
                        self.publish()
                self.record(env_steps, episodes)
            if self.done >= next_eval:
                recorder.evaluate(self.done, agent)
                next_eval = (self.done // cfg.eval_every + 1) * cfg.eval_every
            if self.done >= cfg.total_steps and not runs:
                break
        if fetch is not None:
            ray.get(fetch)  # its batches are not learned from; their draw is not written back
        if idx:
            back = self.replay.update.remote(np.concatenate(idx), np.concatenate(td))
            recorder.replay_time += ray.get(back)
        recorder.history.loop_stats.update(
            warmup_wait_seconds=self.idle_seconds, fetch_wait_seconds=self.wait_seconds,
            stale_writebacks_dropped=ray.get(self.replay.get_stale_dropped.remote()),
            weight_versions=self.version,
        )  # fmt: skip
