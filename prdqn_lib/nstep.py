"""n-step returns: turn a stream of env steps into n-step transitions, and store them.

An n-step transition starting at step t replaces the one-step target
``y = r_t + γ·max_a Q(s_{t+1}, a)`` with

    y = R + γ^k·(1 − terminated)·Q_target(s_{t+k}, a*),    R = Σ_{j<k} γ^j·r_{t+j},

where k = n unless the episode ended first. Used with n = 3 by Ape-X (Horgan et al., 2018,
"Distributed Prioritized Experience Replay") and Rainbow (Hessel et al., 2018, "Rainbow:
Combining Improvements in Deep Reinforcement Learning"); the idea is Sutton's (1988) n-step TD.
Like both papers, no off-policy correction is made: the rewards r_{t+1..t+k-1} were earned by
the ε-greedy behaviour policy, so for n > 1 the target is biased towards its value.

Because k differs at the end of an episode, the discount γ^k travels *with* the transition, and
the agent reads it per sample (``Batch.discounts``, see ``prdqn_lib.agent``). What a replay
memory must provide for that is documented in ``add_n_step``.
"""

from __future__ import annotations

import functools
import inspect
from collections import deque
from typing import Any, NamedTuple, SupportsFloat

import numpy as np

__all__ = ["NStepBuffer", "NStepTransition", "accepts_discount", "add_n_step"]


class NStepTransition(NamedTuple):
    """One n-step transition (s_t, a_t, R, s_{t+k}, terminated, γ^k).

    Attributes:
        obs: s_t.
        action: a_t.
        reward: R = Σ_{j<k} γ^j·r_{t+j}, the discounted sum of the k rewards.
        next_obs: s_{t+k}, the state the target bootstraps from.
        terminated: True when the episode *terminated* at step t+k−1 (s_{t+k} is terminal, no
            bootstrap). A truncation is not a termination: those transitions bootstrap.
        discount: γ^k, the factor of the bootstrapped value.
        n_steps: k, how many rewards R sums (n, or fewer at the end of an episode).
    """

    obs: np.ndarray
    action: int
    reward: float
    next_obs: np.ndarray
    terminated: bool
    discount: float
    n_steps: int


class NStepBuffer:
    """Collects env steps of one episode at a time and emits each n-step transition once.

    Feed it every env step, in order, with ``push``; store what it returns. Per push it emits:

    * while the episode runs: the transition that started n steps ago, once its window of n
      rewards is complete (k = n, discount γ^n, bootstrapping from this step's ``next_obs``);
    * at termination: every pending transition (the window stops at the terminal state), each
      with its own k ≤ n, ``terminated=True`` and discount γ^k (irrelevant to the target, since
      a terminal s' is not bootstrapped, but set honestly);
    * at truncation (a time limit): every pending transition, bootstrapping from the last
      ``next_obs`` with discount γ^k for its own k ≤ n, ``terminated=False``: the state after a
      time limit is not terminal, so its value is still owed.

    After a termination or truncation the buffer is empty and the next push starts a new
    episode. With n = 1 it emits exactly the one-step transitions (R = r, discount γ).

    Args:
        n: how many rewards a transition sums at most (1 = one-step DQN, 3 in Ape-X/Rainbow).
        gamma: discount γ in [0, 1].
    """

    def __init__(self, n: int, gamma: float) -> None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if isinstance(gamma, bool) or not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma!r}")
        self.n = int(n)
        self.gamma = float(gamma)
        # γ^k for k = 0..n, computed once: the discount of a k-step transition is powers[k]
        self._powers = [self.gamma**k for k in range(self.n + 1)]
        self._pending: deque[tuple[np.ndarray, int, float]] = deque()

    def __len__(self) -> int:
        """Steps of the current episode whose transitions are not emitted yet (< n)."""
        return len(self._pending)

    def clear(self) -> None:
        """Drop the pending steps (e.g. when a run stops in the middle of an episode)."""
        self._pending.clear()

    def push(
        self,
        obs: np.ndarray,
        action: int,
        reward: SupportsFloat,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
    ) -> list[NStepTransition]:
        """Add one env step; return the transitions it completes, oldest first.

        Args:
            obs, action, reward, next_obs, terminated, truncated: what the loop acted on and
                what ``env.step`` returned. ``obs`` and ``next_obs`` are copied. When both
                flags are set, termination wins (the state is terminal).

        Returns:
            zero or one transition while the episode runs; every pending one when it ends.
        """
        obs = np.array(obs, copy=True)
        next_obs = np.array(next_obs, copy=True)
        self._pending.append((obs, action, float(reward)))
        if terminated or truncated:
            out = [self._emit(next_obs, bool(terminated)) for _ in range(len(self._pending))]
            return out  # _emit popped every pending step: the next push starts an episode
        if len(self._pending) == self.n:
            return [self._emit(next_obs, False)]
        return []

    def _emit(self, next_obs: np.ndarray, terminated: bool) -> NStepTransition:
        """The transition of the oldest pending step, bootstrapping from ``next_obs``; pops it."""
        k = len(self._pending)
        ret = 0.0
        for j, (_, _, r) in enumerate(self._pending):
            ret += self._powers[j] * r
        obs, action, _ = self._pending.popleft()
        return NStepTransition(obs, action, ret, next_obs, terminated, self._powers[k], k)


@functools.lru_cache(maxsize=64)
def _add_takes_discount(cls: type[Any]) -> bool:
    try:
        params = inspect.signature(cls.add).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "discount" or p.kind is p.VAR_KEYWORD for p in params)


def accepts_discount(memory: Any) -> bool:
    """Whether ``memory.add`` takes a ``discount`` keyword (or ``**kwargs``)."""
    cls: type = type(memory)  # a plain type: mypy sees no type[X] as Hashable (mypy#11470)
    return _add_takes_discount(cls)


def add_n_step(memory: Any, transitions: list[NStepTransition], gamma: float) -> list[int]:
    """Store n-step transitions in a replay memory, each with its own discount γ^k.

    The interface this needs from the memory (and from the Batch it samples), for n > 1:

    * ``memory.add(obs, action, reward, next_obs, terminated, discount=γ^k)`` stores the
      transition *and* its discount (a float in [0, 1]), like the five-argument ``add`` of
      today plus one keyword; a memory whose ``add`` has no ``discount`` keyword (nor
      ``**kwargs``) cannot hold n-step transitions;
    * ``memory.sample(B)`` returns a ``Batch`` with an attribute ``discounts``: the stored
      discounts of the sampled transitions, a float array of shape (B,) (float32 or float64),
      in the order of ``obs``, ``rewards``, … . ``Agent`` then uses
      ``y = R + discounts·(1 − terminated)·Q_target(s', a*)``;
    * ``add_batch`` (Ape-X's blocks) would take a ``discounts`` array the same way; not used
      here.

    A memory without the keyword is accepted only when every discount equals ``gamma`` (the
    one-step case, n = 1): the agent's default γ is then the right discount. Anything else
    raises, because storing an n-step return without its γ^k would silently train with γ.

    A hook for a training loop (not wired into ``prdqn_lib.train`` yet)::

        nstep = NStepBuffer(cfg.n_step, cfg.gamma) if cfg.n_step > 1 else None
        ...
        next_obs, reward, terminated, truncated, _ = env.step(action)
        if nstep is None:
            memory.add(obs, action, reward, next_obs, terminated)
        else:
            add_n_step(memory, nstep.push(obs, action, reward, next_obs, terminated,
                                          truncated), cfg.gamma)

    Args:
        memory: the replay memory.
        transitions: what ``NStepBuffer.push`` returned (possibly empty).
        gamma: the run's γ (``Config.gamma``), to tell the one-step case.

    Returns:
        the indices ``memory.add`` returned, one per transition.

    Raises:
        TypeError: the memory cannot store discounts and a transition has discount ≠ γ.
    """
    if not transitions:
        return []
    if accepts_discount(memory):
        return [
            memory.add(t.obs, t.action, t.reward, t.next_obs, t.terminated, discount=t.discount)
            for t in transitions
        ]
    bad = next((t for t in transitions if t.discount != gamma), None)
    if bad is not None:
        raise TypeError(
            f"{type(memory).__name__}.add takes no 'discount' keyword, so it cannot store an "
            f"n-step transition (k={bad.n_steps}, discount={bad.discount!r} != gamma={gamma!r}); "
            "it needs add(obs, action, reward, next_obs, terminated, discount=...) and a Batch "
            "with 'discounts'"
        )
    return [memory.add(t.obs, t.action, t.reward, t.next_obs, t.terminated) for t in transitions]
