"""Three replay memories with one interface: uniform, the list-based TD-error memory, and PER.

Every memory stores transitions in preallocated numpy arrays used as a ring buffer (sized from
the first ``add``), and offers::

    add(obs, action, reward, next_obs, terminated) -> index
    sample(batch_size) -> Batch
    update_priorities(indices, td_errors)      # |δ| of the sampled transitions; no-op if uniform
    len(memory)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from .sumtree import (
    SumTree,
    _as_index_array,
    _first_bad_index,
    _first_bad_value,
    _positive_int,
)

__all__ = ["Batch", "UniformReplay", "TDErrorListReplay", "PrioritizedReplay"]


@dataclass(frozen=True)
class Batch:
    """A minibatch of transitions.

    Attributes:
        obs: observations s, shape (B, *obs_shape), float32.
        actions: actions a, shape (B,), int64.
        rewards: rewards r, shape (B,), float32.
        next_obs: next observations s', shape (B, *obs_shape), float32.
        terminated: True where s' is terminal (no bootstrap), shape (B,), bool.
        weights: importance-sampling weights w_i ≤ 1, shape (B,), float64 (all 1 if uniform).
        indices: where each transition is stored, to hand back to ``update_priorities``.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    weights: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def _check_td_errors(td_errors, n: int) -> np.ndarray:
    """|δ| values: finite and >= 0 (pass ``abs(δ)``: a signed error is a caller's bug)."""
    td = np.ascontiguousarray(td_errors, dtype=np.float64).reshape(-1)
    if td.shape[0] != n:
        raise ValueError(f"td_errors must have one value per index: got {td.shape[0]} for {n}")
    bad = _first_bad_value(td)
    if bad >= 0:
        raise ValueError(f"td_errors must be finite absolute errors |δ| >= 0, got {td[bad]}")
    return td


class _RingBuffer:
    """Preallocated transition storage shared by the three memories."""

    def __init__(self, capacity: int, seed: int | None = None) -> None:
        self.capacity = _positive_int(capacity, "capacity")
        self._rng = np.random.default_rng(seed)
        self._pos = 0  # next slot to write
        self._size = 0
        self._obs: np.ndarray | None = None

    def __len__(self) -> int:
        return self._size

    def _allocate(self, obs: np.ndarray) -> None:
        cap = self.capacity
        self._obs = np.zeros((cap, *obs.shape), dtype=np.float32)
        self._next_obs = np.zeros((cap, *obs.shape), dtype=np.float32)
        self._actions = np.zeros(cap, dtype=np.int64)
        self._rewards = np.zeros(cap, dtype=np.float32)
        self._terminated = np.zeros(cap, dtype=bool)

    def add(self, obs, action, reward, next_obs, terminated) -> int:
        """Store one transition, overwriting the oldest when full. Returns its index."""
        obs = np.asarray(obs, dtype=np.float32)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        if self._obs is None:
            self._allocate(obs)
        if obs.shape != self._obs.shape[1:] or next_obs.shape != self._obs.shape[1:]:
            raise ValueError(
                f"obs and next_obs must have shape {self._obs.shape[1:]}, "
                f"got {obs.shape} and {next_obs.shape}"
            )
        i = self._pos
        self._obs[i] = obs
        self._next_obs[i] = next_obs
        self._actions[i] = action
        self._rewards[i] = reward
        self._terminated[i] = terminated
        self._pos = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        self._on_add(i)
        return i

    def _on_add(self, index: int) -> None:
        """Hook for the prioritized memories: give the new transition its priority."""

    def _check_can_sample(self, batch_size) -> int:
        batch_size = _positive_int(batch_size, "batch_size")
        if self._size == 0:
            raise ValueError("cannot sample from an empty memory: add transitions first")
        return batch_size

    def _check_indices(self, indices) -> np.ndarray:
        idx = _as_index_array(indices)
        bad = _first_bad_index(idx, self._size)
        if bad >= 0:
            raise ValueError(f"indices must lie in [0, {self._size}), got {idx[bad]}")
        return idx

    def _gather(self, indices: np.ndarray, weights: np.ndarray) -> Batch:
        return Batch(
            obs=self._obs[indices],
            actions=self._actions[indices],
            rewards=self._rewards[indices],
            next_obs=self._next_obs[indices],
            terminated=self._terminated[indices],
            weights=weights,
            indices=indices,
        )


class UniformReplay(_RingBuffer):
    """Uniform experience replay: every stored transition is equally likely, P(i) = 1/N.

    Args:
        capacity: how many transitions to keep (the oldest is overwritten when full).
        seed: seed of the memory's own random generator.
    """

    def sample(self, batch_size: int) -> Batch:
        """Draw ``batch_size`` transitions uniformly, with replacement; weights are all 1."""
        batch_size = self._check_can_sample(batch_size)
        idx = self._rng.integers(0, self._size, size=batch_size)
        return self._gather(idx, np.ones(batch_size, dtype=np.float64))

    def update_priorities(self, indices, td_errors) -> None:
        """No-op (uniform replay has no priorities); the arguments are still validated."""
        idx = self._check_indices(indices)
        _check_td_errors(td_errors, idx.shape[0])


class TDErrorListReplay(_RingBuffer):
    """The list-based TD-error memory of the second source, with its two mistakes fixed.

    Each stored transition i keeps its last |δ_i| and is drawn with probability

        P(i) = (|δ_i| + ε) / Σ_k (|δ_k| + ε).

    Sampling is a linear scan over all stored errors (a cumulative sum, then a search of it):
    **O(N) per batch**, which is what notebook 4's SumTree removes. There are no
    importance-sampling weights (the source has none): ``Batch.weights`` are all 1.

    Fixed with respect to the source: the index returned is the one whose interval holds the
    random value (the source returns the one after it), and a new transition enters with the
    largest |δ| seen so far (the source gives it 0, so it is almost never replayed).

    Args:
        capacity: how many transitions to keep.
        eps: ε > 0 added to every |δ| so that no transition has probability 0.
        seed: seed of the memory's own random generator.
    """

    def __init__(self, capacity: int, eps: float = 0.01, seed: int | None = None) -> None:
        super().__init__(capacity, seed)
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be finite and > 0, got {eps}")
        self.eps = float(eps)
        self._td = np.zeros(self.capacity, dtype=np.float64)
        self._max_td = 1.0  # largest |δ| seen so far; 1.0 while none has been seen

    def _on_add(self, index: int) -> None:
        self._td[index] = self._max_td

    @property
    def td_errors(self) -> np.ndarray:
        """The stored |δ| of every transition, by index (a read-only view)."""
        view = self._td[: self._size]
        view.flags.writeable = False
        return view

    def probabilities(self) -> np.ndarray:
        """P(i) for every stored transition (O(N))."""
        mass = self._td[: self._size] + self.eps
        return mass / mass.sum()

    def sample(self, batch_size: int) -> Batch:
        """Draw ``batch_size`` transitions with probability ∝ |δ|+ε, with replacement. O(N)."""
        batch_size = self._check_can_sample(batch_size)
        cumulative = np.cumsum(self._td[: self._size] + self.eps)  # the O(N) scan
        values = self._rng.random(batch_size) * cumulative[-1]
        # the index i with cumulative[i-1] <= v < cumulative[i]; min() guards v rounding up
        idx = np.minimum(np.searchsorted(cumulative, values, side="right"), self._size - 1)
        return self._gather(idx, np.ones(batch_size, dtype=np.float64))

    def update_priorities(self, indices, td_errors) -> None:
        """Store the new |δ| of the sampled transitions (a duplicated index: last one wins)."""
        idx = self._check_indices(indices)
        td = _check_td_errors(td_errors, idx.shape[0])
        self._td[idx] = td
        if td.size:
            self._max_td = max(self._max_td, float(td.max()))

    def refresh_td_errors(
        self, td_error_fn: Callable[[Batch], np.ndarray], chunk_size: int = 4096
    ) -> None:
        """Recompute |δ| of every stored transition at once (the source does it per episode).

        Args:
            td_error_fn: maps a Batch (weights all 1) to its |δ|, one per transition.
            chunk_size: how many transitions to hand to ``td_error_fn`` at a time.
        """
        chunk_size = _positive_int(chunk_size, "chunk_size")
        for start in range(0, self._size, chunk_size):
            idx = np.arange(start, min(start + chunk_size, self._size))
            batch = self._gather(idx, np.ones(idx.shape[0], dtype=np.float64))
            td = _check_td_errors(td_error_fn(batch), idx.shape[0])
            self._td[idx] = td
            if td.size:
                self._max_td = max(self._max_td, float(td.max()))


@numba.njit(cache=True, nogil=True)
def _priorities_from_td(td, eps, alpha, out):
    """p = (|δ| + ε)^α; returns max p."""
    best = 0.0
    for k in range(td.shape[0]):
        p = (td[k] + eps) ** alpha
        out[k] = p
        best = max(best, p)
    return best


class PrioritizedReplay(_RingBuffer):
    """Proportional prioritized experience replay (Schaul et al., 2016) on a SumTree.

    * priority p_i = (|δ_i| + ε)^α; a new transition gets the largest priority seen so far
      (1.0 while none has been seen), so it is replayed soon at least once;
    * P(i) = p_i / Σ_k p_k, drawn by stratified sampling: B equal segments of [0, Σp), one
      uniform value in each, searched in the tree (O(log N) each);
    * importance-sampling weight w_i = (N·P(i))^-β / max_j w_j, N = len(self), so every
      weight is in (0, 1]; the max uses the min priority kept by the tree (no O(N) scan);
    * β grows linearly from ``beta`` to ``beta_final`` over ``beta_steps`` calls of
      ``sample`` (one call = one step; one gradient step in the training loop), then stays.

    Args:
        capacity: how many transitions to keep.
        alpha: α >= 0, how strongly to prioritise (0 = uniform).
        beta: β0 in [0, 1], the initial importance-sampling exponent.
        beta_final: β in [0, 1] reached after ``beta_steps`` samples.
        beta_steps: number of ``sample`` calls over which β anneals (> 0).
        eps: ε > 0 added to |δ| so no transition has priority 0.
        seed: seed of the memory's own random generator.
    """

    def __init__(
        self,
        capacity: int,
        alpha: float = 0.6,
        beta: float = 0.4,
        beta_final: float = 1.0,
        beta_steps: int = 100_000,
        eps: float = 0.01,
        seed: int | None = None,
    ) -> None:
        super().__init__(capacity, seed)
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
        for name, value in (("beta", beta), ("beta_final", beta_final)):
            if not (0.0 <= value <= 1.0):
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be finite and > 0, got {eps}")
        self.alpha = float(alpha)
        self.beta0 = float(beta)
        self.beta_final = float(beta_final)
        self.beta_steps = _positive_int(beta_steps, "beta_steps")
        self.eps = float(eps)
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0  # running max of p; never an O(N) scan
        self.sample_calls = 0

    @property
    def beta(self) -> float:
        """The β the next ``sample`` call uses."""
        frac = min(1.0, self.sample_calls / self.beta_steps)
        return self.beta0 + frac * (self.beta_final - self.beta0)

    def _on_add(self, index: int) -> None:
        self.tree._set_one(index, self.max_priority)

    def sample(self, batch_size: int) -> Batch:
        """Stratified proportional sample of ``batch_size`` transitions with IS weights."""
        batch_size = self._check_can_sample(batch_size)
        uniforms = self._rng.random(batch_size)
        idx, weights = self.tree.stratified_sample(uniforms, self._size, self.beta)
        self.sample_calls += 1
        return self._gather(idx, weights)

    def update_priorities(self, indices, td_errors) -> None:
        """Set p_i = (|δ_i| + ε)^α for exactly the given (sampled) indices."""
        idx = self._check_indices(indices)
        td = _check_td_errors(td_errors, idx.shape[0])
        pri = np.empty_like(td)
        best = _priorities_from_td(td, self.eps, self.alpha, pri)
        self.tree.update(idx, pri)
        self.max_priority = max(self.max_priority, best)

    def probabilities(self) -> np.ndarray:
        """P(i) for every stored transition (O(N): for tests and plots, not the hot path)."""
        p = self.tree.priorities(np.arange(self._size))
        return p / p.sum()
