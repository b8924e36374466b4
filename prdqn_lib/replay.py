"""Four replay memories with one interface: uniform, the list-based TD-error memory, and PER
(proportional on a SumTree, and rank-based on an order-statistics tree).

Every memory stores transitions in preallocated numpy arrays used as a ring buffer (sized from
the first ``add``) and satisfies ``prdqn_lib.protocol.ReplayMemory``::

    add(obs, action, reward, next_obs, terminated) -> index
    add_batch(obs, actions, rewards, next_obs, terminated, td_errors=None) -> indices
    sample(batch_size) -> Batch
    update_priorities(indices, td_errors)      # |δ| of the sampled transitions; no-op if uniform
    transitions(indices=None) -> Batch         # read stored transitions (weights all 1)
    probabilities() -> P(i) of every stored transition
    len(memory)

Every argument is checked before anything is written: a refused call raises ``ValueError``
(``TypeError`` for a wrong type) naming the argument and showing the bad value, and leaves the
memory exactly as it was. ``add`` and ``add_batch`` share one checker (``_check_block``); ``add``
only skips it for the plain Python values a gymnasium loop passes, which it accepts as is.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, SupportsFloat, SupportsIndex

import numba
import numpy as np
import numpy.typing as npt

from ._checks import (
    FLOAT64_MAX,
    INT64_MAX,
    first_bad_value,
    float_array,
    index_array,
    positive_int,
    real,
    show,
)
from ._checks import (
    seed as check_seed,
)
from .ranktree import RankTree
from .schedules import LinearSchedule
from .sumtree import SumTree

__all__ = [
    "Batch",
    "PrioritizedReplay",
    "RankBasedReplay",
    "TDErrorListReplay",
    "UniformReplay",
    "warm_up_kernels",
]

FLOAT32_MAX = float(np.finfo(np.float32).max)


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
        discounts: the bootstrap discount of each transition, γ^k for an n-step transition
            of k steps (``prdqn_lib.nstep``), shape (B,), float64; None when the memory
            stores none (one-step transitions: the agent uses γ).
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    weights: np.ndarray
    indices: np.ndarray
    discounts: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def _td_array(td_errors: object, n: int, limit: float = FLOAT64_MAX) -> np.ndarray:
    """|δ| values, one per index: finite, >= 0 and <= ``limit`` (pass ``abs(δ)``: a signed
    error is a caller's bug)."""
    td = float_array(td_errors, "td_errors")
    if td.shape[0] != n:
        raise ValueError(f"td_errors must have one value per index: got {td.shape[0]} for {n}")
    bad = first_bad_value(td, limit)
    if bad >= 0:
        bound = "" if limit == FLOAT64_MAX else f" and <= {limit:.6g}"
        raise ValueError(
            f"td_errors must be finite absolute errors |δ| >= 0{bound}, "
            f"got {float(td[bad])!r} (td_errors[{bad}])"
        )
    return td


# ------------------------------------------------------------------------------ add's checks


@numba.njit(cache=True, nogil=True)
def _store_obs_kernel(
    obs_buf: np.ndarray, next_buf: np.ndarray, i: int, obs: np.ndarray, next_obs: np.ndarray
) -> int:
    """Copy obs and next_obs into row i, unless a value is NaN or ±inf: then return 1 (obs) or
    2 (next_obs) and write nothing."""
    for j in range(obs.shape[0]):
        if not np.isfinite(obs[j]):
            return 1
    for j in range(next_obs.shape[0]):
        if not np.isfinite(next_obs[j]):
            return 2
    for j in range(obs.shape[0]):
        obs_buf[i, j] = obs[j]
        next_buf[i, j] = next_obs[j]
    return 0


def _as_obs(value: object, name: str) -> np.ndarray:
    """``value`` as a float32 array, or a TypeError naming ``name`` (the slow path of add)."""
    try:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {show(value)}") from None


def _check_finite_obs(obs: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(obs.reshape(-1)))
    if bad.size:
        k = int(bad[0])
        value = float(obs.reshape(-1)[k])
        raise ValueError(f"{name} must be finite (float32), got {value!r} at flat position {k}")


def _check_action(action: object) -> int:
    try:  # int, numpy integers, 0-d integer arrays; not bools, floats or strings
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, SupportsIndex):
            raise TypeError
        action = operator.index(action)
    except TypeError:
        raise TypeError(
            f"action must be an integer (a discrete action), got {show(action)}"
        ) from None
    if not 0 <= action <= INT64_MAX:
        raise ValueError(f"action must be a non-negative integer, got {action}")
    return int(action)


def _check_reward(reward: object) -> float:
    r = real(reward, "reward")
    if not -FLOAT32_MAX <= r <= FLOAT32_MAX:
        raise ValueError(f"reward must fit float32 (|reward| <= {FLOAT32_MAX:.4g}), got {r}")
    return r


def _check_terminated(terminated: object) -> bool:
    if isinstance(terminated, np.ndarray) and terminated.ndim == 0:
        terminated = terminated.item()
    if isinstance(terminated, (bool, np.bool_)):
        return bool(terminated)
    if isinstance(terminated, (int, float, np.integer, np.floating)):
        if terminated in (0, 1):
            return bool(terminated)
        raise ValueError(f"terminated must be True/False (or 1/0), got {show(terminated)}")
    raise TypeError(f"terminated must be a bool, got {show(terminated)}")


def _obs_pair(
    obs: object, next_obs: object, shape: tuple[int, ...] | None, block: bool
) -> tuple[np.ndarray, np.ndarray]:
    """obs and next_obs as float32 arrays of one shape (``shape``, if the memory has one: a
    block's rows must have it), every value finite. ``block``: a leading axis of n rows."""
    obs, next_obs = _as_obs(obs, "obs"), _as_obs(next_obs, "next_obs")
    if block and (obs.ndim < 2 or next_obs.ndim < 2):
        name, bad = ("obs", obs) if obs.ndim < 2 else ("next_obs", next_obs)
        raise ValueError(f"{name} must have shape (n, *obs_shape), got shape {bad.shape}")
    if shape is not None:
        got, got_next = obs.shape[block:], next_obs.shape[block:]  # block: past the n axis
        if got != shape or got_next != shape:
            want = f"(n, {', '.join(map(str, shape))})" if block else str(shape)
            raise ValueError(f"obs and next_obs must have shape {want}, got {obs.shape} and "
                             f"{next_obs.shape}")  # fmt: skip
    if obs.shape != next_obs.shape:
        raise ValueError(
            f"obs and next_obs must have the same shape, got {obs.shape} and {next_obs.shape}"
        )
    _check_finite_obs(obs, "obs")
    _check_finite_obs(next_obs, "next_obs")
    return obs, next_obs


def _column(value: object, n: int, name: str) -> np.ndarray:
    """One value per transition of a block of n: a flat array of length n."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of n={n} values, got {show(value)}")
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must hold one value per transition (n={n}), got shape "
                         f"{arr.shape}")  # fmt: skip
    return arr


def _check_block(
    obs: object,
    actions: object,
    rewards: object,
    next_obs: object,
    terminated: object,
    shape: tuple[int, ...] | None,
    single: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The one checker of transitions, for ``add`` (``single``: one transition of scalars) and
    ``add_batch`` (n transitions, one array per field). Returns the block as arrays (obs and
    next_obs float32 of shape (n, *obs_shape), actions int64, rewards float64 within float32's
    range, terminated bool), or raises naming the argument (``actions[k]`` in a block).
    """
    if single:  # a scalar's front end: the same rules, said of one value
        obs, next_obs = _obs_pair(obs, next_obs, shape, block=False)
        return (obs[None], np.array([_check_action(actions)], dtype=np.int64),
                np.array([_check_reward(rewards)]), next_obs[None],
                np.array([_check_terminated(terminated)]))  # fmt: skip
    obs, next_obs = _obs_pair(obs, next_obs, shape, block=True)
    n = obs.shape[0]
    acts = _column(actions, n, "actions")
    if acts.dtype.kind not in "iu":  # bools, floats, strings, objects
        raise TypeError(f"actions must be integers (discrete actions), got {show(acts)}")
    bad = np.flatnonzero((acts < 0) | (acts > INT64_MAX))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"actions must be integers >= 0, got {acts[k]} (actions[{k}])")
    rews = _column(rewards, n, "rewards")
    if rews.dtype.kind not in "fiu":
        raise TypeError(f"rewards must be real numbers, got {show(rews)}")
    rews = rews.astype(np.float64)
    bad = np.flatnonzero(~(np.abs(rews) <= FLOAT32_MAX))
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"rewards must be finite and fit float32, got {float(rews[k])!r} (rewards[{k}])"
        )
    term = _column(terminated, n, "terminated")
    if term.dtype.kind != "b":
        if term.dtype.kind not in "fiu":
            raise TypeError(f"terminated must be bools, got {show(term)}")
        bad = np.flatnonzero((term != 0) & (term != 1))
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"terminated must be True/False (or 1/0), got {term[k].item()!r} (terminated[{k}])"
            )
    return obs, acts.astype(np.int64), rews, next_obs, term.astype(bool)


class _RingBuffer:
    """Preallocated transition storage shared by the three memories."""

    def __init__(self, capacity: int, seed: int | None = None) -> None:
        self.capacity = positive_int(capacity, "capacity")
        self._rng = np.random.default_rng(check_seed(seed))
        self._pos = 0  # next slot to write
        self._size = 0
        self._obs: np.ndarray | None = None
        self._obs_shape: tuple[int, ...] | None = None
        self._discounts: np.ndarray | None = None  # allocated by the first add with a discount

    def __len__(self) -> int:
        return self._size

    def _allocate(self, obs: np.ndarray) -> None:
        cap = self.capacity
        self._obs_shape = obs.shape
        self._obs = np.zeros((cap, *obs.shape), dtype=np.float32)
        self._next_obs = np.zeros((cap, *obs.shape), dtype=np.float32)
        self._obs_flat = self._obs.reshape(cap, -1)  # views: the kernel writes flat rows
        self._next_flat = self._next_obs.reshape(cap, -1)
        self._actions = np.zeros(cap, dtype=np.int64)
        self._rewards = np.zeros(cap, dtype=np.float32)
        self._terminated = np.zeros(cap, dtype=bool)

    def add(
        self,
        obs: npt.ArrayLike,
        action: SupportsIndex,
        reward: SupportsFloat,
        next_obs: npt.ArrayLike,
        terminated: bool | np.bool_,
        discount: SupportsFloat | None = None,
    ) -> int:
        """Store one transition, overwriting the oldest when full. Returns its index.

        ``obs`` and ``next_obs``: arrays of finite reals, of the shape of the first ``add``;
        ``action``: an integer >= 0; ``reward``: a finite real; ``terminated``: a bool;
        ``discount``: None, or the transition's bootstrap discount in [0, 1] (γ^k of an n-step
        transition; a memory stores a discount with every transition or with none). A
        refused transition raises (TypeError / ValueError naming the argument) before anything
        is written.
        """
        if discount is not None or self._discounts is not None:
            discount = self._check_discounts(discount, 1, single=True)
        # The hot path: what a gymnasium loop passes (an int, a float, a bool, arrays of the
        # stored shape) is accepted as is; anything else goes through the one checker.
        shape = self._obs_shape
        if (
            type(action) is not int
            or not 0 <= action <= INT64_MAX
            or type(reward) is not float
            or not -FLOAT32_MAX <= reward <= FLOAT32_MAX
            or type(terminated) is not bool
            or shape is None
            or type(obs) is not np.ndarray
            or type(next_obs) is not np.ndarray
            or obs.shape != shape
            or next_obs.shape != shape
        ):
            o, a, r, no, t = _check_block(obs, action, reward, next_obs, terminated, shape,
                                          single=True)  # fmt: skip
            if shape is None:
                self._allocate(o[0])
            row: np.ndarray = o[0]
            next_row: np.ndarray = no[0]
            obs, action, reward, next_obs, terminated = row, int(a[0]), r[0], next_row, bool(t[0])
        if obs.ndim != 1:
            obs, next_obs = obs.reshape(-1), next_obs.reshape(-1)
        if obs.dtype != np.float32:
            obs, next_obs = obs.astype(np.float32), next_obs.astype(np.float32)
        i = self._pos
        if _store_obs_kernel(self._obs_flat, self._next_flat, i, obs, next_obs):
            _check_finite_obs(obs, "obs")  # raises for the one that is not finite
            _check_finite_obs(next_obs, "next_obs")
        self._actions[i] = action
        self._rewards[i] = reward
        self._terminated[i] = terminated
        if discount is not None:
            self._store_discounts(np.array([i]), discount)
        self._pos = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        self._on_add(i)
        return i

    def _check_discounts(self, discounts: object, n: int, single: bool) -> np.ndarray | None:
        """n discounts in [0, 1] (None: none), and that the memory stores them for every
        transition or for none."""
        name = "discount" if single else "discounts"
        if discounts is None:
            if self._discounts is not None:
                raise ValueError(f"{name} must be given: this memory stores a discount with "
                                 f"every transition")  # fmt: skip
            return None
        if self._discounts is None and self._size:
            raise ValueError(f"{name} given, but the {self._size} stored transitions have "
                             f"none: a memory stores a discount with every transition or with "
                             f"none")  # fmt: skip
        if single:
            values = np.array([real(discounts, name)])
        else:
            values = float_array(discounts, name)
            if values.shape[0] != n:
                raise ValueError(f"{name} must hold one value per transition (n={n}), got "
                                 f"{values.shape[0]}")  # fmt: skip
        bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
        if bad.size:
            k = int(bad[0])
            where = "" if single else f" ({name}[{k}])"
            raise ValueError(f"{name} must lie in [0, 1], got {float(values[k])!r}{where}")
        return values

    def _store_discounts(self, indices: np.ndarray, values: np.ndarray) -> None:
        if self._discounts is None:
            self._discounts = np.full(self.capacity, np.nan)
        self._discounts[indices] = values

    def add_batch(
        self,
        obs: npt.ArrayLike,
        actions: npt.ArrayLike,
        rewards: npt.ArrayLike,
        next_obs: npt.ArrayLike,
        terminated: npt.ArrayLike,
        td_errors: npt.ArrayLike | None = None,
        discounts: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """Store a block of n transitions at once. Returns the n indices written.

        With ``td_errors`` (n values |δ| >= 0), each transition enters at its own priority,
        as Ape-X's actors send them: the same as n calls of ``add`` followed by
        ``update_priorities`` of their indices. Without, the same as n calls of ``add``. A
        block longer than ``capacity`` keeps its last ``capacity`` transitions, as n adds would.

        Args:
            obs, next_obs: shape (n, *obs_shape), finite (the shape of earlier adds).
            actions: n integers >= 0.  rewards: n finite reals (float32 range).
            terminated: n bools (or 0/1).  td_errors: None, or n values |δ| >= 0, finite.
            discounts: None, or n bootstrap discounts in [0, 1] (n-step transitions).

        Every argument is checked before anything is written (ValueError / TypeError naming
        the argument and showing the value); a refused block leaves the memory as it was.
        """
        obs, acts, rews, next_obs, term = _check_block(
            obs, actions, rewards, next_obs, terminated, self._obs_shape, single=False
        )
        n = obs.shape[0]
        td = None if td_errors is None else self._check_td(td_errors, n)
        disc = self._check_discounts(discounts, n, single=False)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if self._obs_shape is None:
            self._allocate(obs[0])
        assert self._obs is not None  # allocated with the shape
        keep = min(n, self.capacity)
        start = (self._pos + n - keep) % self.capacity
        idx = (start + np.arange(keep)) % self.capacity
        self._obs[idx] = obs[n - keep :]
        self._next_obs[idx] = next_obs[n - keep :]
        self._actions[idx] = acts[n - keep :]
        self._rewards[idx] = rews[n - keep :]
        self._terminated[idx] = term[n - keep :]
        if disc is not None:
            self._store_discounts(idx, disc[n - keep :])
        self._pos = (self._pos + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        self._on_add_batch(idx, None if td is None else td[n - keep :])
        return idx

    def _check_td(self, td_errors: npt.ArrayLike, n: int) -> np.ndarray:
        """|δ| of n transitions, checked as ``update_priorities`` checks them (before any write)."""
        return _td_array(td_errors, n)

    def _on_add_batch(self, indices: np.ndarray, td_errors: np.ndarray | None) -> None:
        """Hook: priorities of a block just stored (``td_errors`` None: as if added one by one)."""
        for i in indices:
            self._on_add(int(i))

    def transitions(self, indices: npt.ArrayLike | None = None) -> Batch:
        """The stored transitions at ``indices`` (default: all, in index order), weights all 1.

        The public way to read what a memory holds (copies, not views): ``indices`` must lie
        in [0, len(memory)).
        """
        if indices is None:
            idx = np.arange(self._size, dtype=np.int64)
        else:
            idx = self._check_indices(indices)
        if self._obs is None:  # nothing stored yet: an empty batch of unknown shape
            empty = np.empty((0, 0), dtype=np.float32)
            return Batch(empty, np.empty(0, np.int64), np.empty(0, np.float32), empty,
                         np.empty(0, bool), np.empty(0), idx)  # fmt: skip
        return self._gather(idx, np.ones(idx.shape[0], dtype=np.float64))

    def _on_add(self, index: int) -> None:
        """Hook for the prioritized memories: give the new transition its priority."""

    def _check_can_sample(self, batch_size: int) -> int:
        batch_size = positive_int(batch_size, "batch_size")
        if self._size == 0:
            raise ValueError("cannot sample from an empty memory: add transitions first")
        return batch_size

    def _check_indices(self, indices: npt.ArrayLike) -> np.ndarray:
        return index_array(indices, self._size, bound=f"len(memory)={self._size}")

    def _gather(self, indices: np.ndarray, weights: np.ndarray) -> Batch:
        assert self._obs is not None  # every caller has checked that something is stored
        return Batch(
            obs=self._obs[indices],
            actions=self._actions[indices],
            rewards=self._rewards[indices],
            next_obs=self._next_obs[indices],
            terminated=self._terminated[indices],
            weights=weights,
            indices=indices,
            discounts=None if self._discounts is None else self._discounts[indices],
        )


class UniformReplay(_RingBuffer):
    """Uniform experience replay: every stored transition is equally likely, P(i) = 1/N.

    Args:
        capacity: how many transitions to keep (the oldest is overwritten when full).
        seed: seed of the memory's own random generator (None or an integer >= 0).
    """

    def sample(self, batch_size: int) -> Batch:
        """Draw ``batch_size`` transitions uniformly, with replacement; weights are all 1."""
        batch_size = self._check_can_sample(batch_size)
        idx = self._rng.integers(0, self._size, size=batch_size)
        return self._gather(idx, np.ones(batch_size, dtype=np.float64))

    def probabilities(self) -> np.ndarray:
        """P(i) = 1/N for every stored transition."""
        return np.full(self._size, 1.0 / self._size) if self._size else np.zeros(0)

    def update_priorities(self, indices: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        """No-op (uniform replay has no priorities); the arguments are still validated."""
        idx = self._check_indices(indices)
        _td_array(td_errors, idx.shape[0])


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


class _Refreshable:
    """``refresh_td_errors`` for every memory that stores |δ| (list, proportional, rank-based).

    A memory using it supplies ``_check_td(td_errors, n)`` (the values checked and turned into
    what it stores: |δ| or priorities, refused as ``update_priorities`` refuses them) and
    ``_write_checked(indices, checked)`` (the write ``update_priorities`` also ends with), so a
    refresh is exactly ``update_priorities(arange(N), fresh |δ|)``, done in chunks.
    """

    _size: int

    if TYPE_CHECKING:  # declared for mypy only: the memory's own (or _RingBuffer's) are used

        def _check_td(self, td_errors: npt.ArrayLike, n: int) -> np.ndarray: ...
        def _write_checked(self, idx: np.ndarray, checked: np.ndarray) -> None: ...
        def _gather(self, indices: np.ndarray, weights: np.ndarray) -> Batch: ...

    def refresh_td_errors(
        self, td_error_fn: Callable[[Batch], np.ndarray], chunk_size: int = 4096
    ) -> None:
        """Recompute |δ| of every stored transition at once (the second source does it after
        each episode), the same as ``update_priorities`` of every index with its fresh |δ|.

        All or nothing: every chunk's errors are computed and checked first, and written only
        if all are valid; if ``td_error_fn`` raises or returns a bad value, nothing changes.

        Args:
            td_error_fn: maps a Batch (weights all 1) to its |δ|, one per transition.
            chunk_size: how many transitions to hand to ``td_error_fn`` at a time.
        """
        if not callable(td_error_fn):
            raise TypeError(f"td_error_fn must be callable, got {show(td_error_fn)}")
        chunk_size = positive_int(chunk_size, "chunk_size")
        checked = np.empty(self._size, dtype=np.float64)
        for start in range(0, self._size, chunk_size):
            idx = np.arange(start, min(start + chunk_size, self._size))
            batch = self._gather(idx, np.ones(idx.shape[0], dtype=np.float64))
            checked[idx] = self._check_td(td_error_fn(batch), idx.shape[0])
        self._write_checked(np.arange(self._size), checked)


class TDErrorListReplay(_Refreshable, _RingBuffer):
    """The list-based TD-error memory of the second source, with its two mistakes fixed.

    Each stored transition i keeps its last |δ_i| and is drawn with probability

        P(i) = (|δ_i| + ε) / Σ_k (|δ_k| + ε).

    Sampling is a linear scan over all stored errors (a cumulative sum, then a search of it):
    **O(N) per batch**, which is what notebook 4's SumTree removes. There are no
    importance-sampling weights (the source has none): ``Batch.weights`` are all 1.

    Fixed with respect to the source: the index returned is the one whose interval holds the
    random value (the source returns the one after it), and a new transition enters with the
    largest |δ| seen so far (the source gives it 0, so it is almost never replayed).

    Every |δ| and ε must be at most ``td_limit`` (the largest float64 / (4 · capacity rounded
    up to a power of two)), so the sum of all |δ| + ε stays finite.

    Args:
        capacity: how many transitions to keep.
        eps: ε > 0 added to every |δ| so that no transition has probability 0.
        seed: seed of the memory's own random generator (None or an integer >= 0).
    """

    def __init__(self, capacity: int, eps: float = 0.01, seed: int | None = None) -> None:
        super().__init__(capacity, seed)
        self.td_limit = FLOAT64_MAX / (4 * _pow2_at_least(self.capacity))
        eps = real(eps, "eps")
        if not 0 < eps <= self.td_limit:
            raise ValueError(f"eps must be > 0 and <= td_limit={self.td_limit:.6g}, got {eps}")
        self.eps = eps
        self._td = np.zeros(self.capacity, dtype=np.float64)
        self._max_td = 1.0  # largest |δ| seen so far; 1.0 while none has been seen

    def _on_add(self, index: int) -> None:
        self._td[index] = self._max_td

    def _check_td(self, td_errors: npt.ArrayLike, n: int) -> np.ndarray:
        return _td_array(td_errors, n, self.td_limit)

    def _on_add_batch(self, indices: np.ndarray, td_errors: np.ndarray | None) -> None:
        if td_errors is None:
            self._td[indices] = self._max_td
        else:
            self._td[indices] = td_errors
            if td_errors.size:
                self._max_td = max(self._max_td, float(td_errors.max()))

    @property
    def td_errors(self) -> np.ndarray:
        """The stored |δ| of every transition, by index (a read-only view)."""
        view = self._td[: self._size]
        view.flags.writeable = False
        return view

    @property
    def max_td_error(self) -> float:
        """The largest |δ| seen so far (1.0 before any): the error a new transition enters at."""
        return self._max_td

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

    def update_priorities(self, indices: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        """Store the new |δ| of the sampled transitions (a duplicated index: last one wins)."""
        idx = self._check_indices(indices)
        self._write_checked(idx, self._check_td(td_errors, idx.shape[0]))

    def _write_checked(self, idx: np.ndarray, td: np.ndarray) -> None:
        self._td[idx] = td
        if td.size:
            self._max_td = max(self._max_td, float(td.max()))


@numba.njit(cache=True, nogil=True)
def _priorities_from_td(td: np.ndarray, eps: float, alpha: float, out: np.ndarray) -> float:
    """p = (|δ| + ε)^α; returns max p."""
    best = 0.0
    for k in range(td.shape[0]):
        p = (td[k] + eps) ** alpha
        out[k] = p
        best = max(best, p)
    return best


class _AnnealedBeta:
    """The importance-sampling exponent of both prioritized memories: β grows linearly from
    ``beta`` to ``beta_final`` over ``beta_steps`` calls of ``sample``, then stays."""

    beta_schedule: LinearSchedule
    sample_calls: int

    def _init_beta(self, beta: float, beta_final: float, beta_steps: int) -> None:
        for name, value in (("beta", beta), ("beta_final", beta_final)):
            if not 0.0 <= real(value, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        steps = positive_int(beta_steps, "beta_steps")
        self.beta_schedule = LinearSchedule(float(beta), float(beta_final), steps)
        self.sample_calls = 0

    beta0 = property(lambda self: self.beta_schedule.start, doc="β at the first sample call")
    beta_final = property(lambda self: self.beta_schedule.end, doc="β after beta_steps calls")
    beta_steps = property(lambda self: self.beta_schedule.steps, doc="calls β anneals over")

    @property
    def beta(self) -> float:
        """The β the next ``sample`` call uses: ``beta_schedule(sample_calls)``."""
        return self.beta_schedule(self.sample_calls)

    def anneal_to(self, fraction: float) -> None:
        """Put β where its schedule is after ``fraction`` (clipped to [0, 1]) of its sample
        calls: for a loop that cannot count its calls in advance (apex's free learner anneals
        by the run's env steps instead)."""
        self.sample_calls = int(min(1.0, max(0.0, float(fraction))) * self.beta_schedule.steps)


class PrioritizedReplay(_Refreshable, _AnnealedBeta, _RingBuffer):
    """Proportional prioritized experience replay (Schaul et al., 2016) on a SumTree.

    * priority p_i = (|δ_i| + ε)^α; a new transition gets the largest priority seen so far
      (1.0 while none has been seen), so it is replayed soon at least once;
    * P(i) = p_i / Σ_k p_k, drawn by stratified sampling: B equal segments of [0, Σp), one
      uniform value in each, searched in the tree (O(log N) each);
    * importance-sampling weight w_i = (N·P(i))^-β / max_j w_j, N = len(self), so every
      weight is in (0, 1]; the max uses the min priority kept by the tree (no O(N) scan);
    * β grows linearly from ``beta`` to ``beta_final`` over ``beta_steps`` calls of
      ``sample`` (one call = one step; one gradient step in the training loop), then stays.

    A priority must stay at most ``tree.priority_limit`` (the largest float64 / the number of
    leaves): a |δ| whose priority would exceed it is refused, naming ``td_errors``.

    Args:
        capacity: how many transitions to keep.
        alpha: α >= 0, how strongly to prioritise (0 = uniform).
        beta: β0 in [0, 1], the initial importance-sampling exponent.
        beta_final: β in [0, 1] reached after ``beta_steps`` samples.
        beta_steps: number of ``sample`` calls over which β anneals (> 0).
        eps: ε > 0 added to |δ| so no transition has priority 0.
        seed: seed of the memory's own random generator (None or an integer >= 0).
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
        alpha = real(alpha, "alpha")
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self._init_beta(beta, beta_final, beta_steps)
        eps = real(eps, "eps")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.tree = SumTree(self.capacity)
        limit = self.tree.priority_limit
        if alpha * math.log(eps) > math.log(limit):  # ε^α, the smallest priority, too large
            raise ValueError(
                f"eps must give a priority ε^α <= {limit:.6g} (the tree's priority_limit), "
                f"got eps={eps} with alpha={alpha}"
            )
        self.alpha = alpha
        self.eps = eps
        self.max_priority = 1.0  # running max of p; never an O(N) scan

    def _on_add(self, index: int) -> None:
        self.tree._set_one(index, self.max_priority)

    def sample(self, batch_size: int) -> Batch:
        """Stratified proportional sample of ``batch_size`` transitions with IS weights."""
        batch_size = self._check_can_sample(batch_size)
        if not self.tree._sums[1] > 0.0:  # only if every priority underflowed to 0
            raise ValueError("cannot sample: every stored priority (|δ|+ε)^α is 0")
        uniforms = self._rng.random(batch_size)
        idx, weights = self.tree._stratified_sample(uniforms, self.beta)
        self.sample_calls += 1
        return self._gather(idx, weights)

    def update_priorities(self, indices: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        """Set p_i = (|δ_i| + ε)^α for exactly the given (sampled) indices."""
        idx = self._check_indices(indices)
        pri = self._check_td(td_errors, idx.shape[0])
        self._write_checked(idx, pri)

    def _check_td(self, td_errors: npt.ArrayLike, n: int) -> np.ndarray:
        """The priorities (|δ|+ε)^α of n |δ| values, each checked against the tree's limit."""
        td = _td_array(td_errors, n)
        pri = np.empty_like(td)
        best = _priorities_from_td(td, self.eps, self.alpha, pri)
        limit = self.tree.priority_limit
        if not best <= limit:
            k = int(np.flatnonzero(~(pri <= limit))[0])
            raise ValueError(
                f"td_errors must give priorities (|δ|+ε)^α <= {limit:.6g} (the tree's "
                f"priority_limit), got |δ| = {float(td[k])!r} → {float(pri[k])!r} (td_errors[{k}])"
            )
        return pri

    def _write_checked(self, idx: np.ndarray, pri: np.ndarray) -> None:
        self.tree._update_unchecked(idx, pri)
        if pri.size:
            self.max_priority = max(self.max_priority, float(pri.max()))

    def _on_add_batch(self, indices: np.ndarray, priorities: np.ndarray | None) -> None:
        if priorities is None:  # as if added one by one: the running max
            priorities = np.full(indices.shape[0], self.max_priority)
        self._write_checked(indices, priorities)

    def probabilities(self) -> np.ndarray:
        """P(i) for every stored transition (O(N): for tests and plots, not the hot path)."""
        p = self.tree.priorities(np.arange(self._size))
        return p / p.sum()


@numba.njit(cache=True, nogil=True)
def _rank_sample_kernel(
    cum: np.ndarray,
    n: int,
    uniforms: np.ndarray,
    alpha_beta: float,
    ranks: np.ndarray,
    weights: np.ndarray,
) -> None:
    """Stratified draw of 0-based ranks from P(r) ∝ (r+1)^-α, and their IS weights.

    ``cum[k]`` = Σ_{j<=k} (j+1)^-α. Draw j lands in segment j of B equal-mass segments of
    [0, cum[n-1]) and is inverted exactly there (the paper picks uniformly inside a segment;
    this keeps P(r) itself). w = (N·P(r))^-β / max w = ((r+1)/N)^(αβ), since the largest
    weight belongs to rank N, the smallest probability.
    """
    b = uniforms.shape[0]
    total = cum[n - 1]
    for j in range(b):
        u = (j + uniforms[j]) / b * total
        r = np.searchsorted(cum[:n], u, side="right")
        r = min(r, n - 1)  # u rounding up onto the total
        ranks[j] = r
        weights[j] = ((r + 1) / n) ** alpha_beta


class RankBasedReplay(_Refreshable, _AnnealedBeta, _RingBuffer):
    """Rank-based prioritized experience replay (Schaul et al., 2016, §3.3), exactly.

    * rank(i) orders the stored transitions by |δ_i|, largest first (rank 1); a new
      transition has not been replayed yet and enters at rank 1; equal |δ|: the later
      written ranks first;
    * priority p_i = 1 / rank(i), and P(i) = p_i^α / Σ_k p_k^α = rank(i)^-α / Σ_{k=1}^N k^-α:
      a power law that depends on the order of the errors only, not on their size, so an
      outlier |δ| cannot take over the batch;
    * stratified sampling: B segments of equal probability mass of the rank distribution,
      precomputed for every N at construction (one cumulative sum over 1..capacity), one
      exact inverse-CDF draw in each segment;
    * importance-sampling weight w_i = (N·P(i))^-β / max_j w_j = (rank(i)/N)^(αβ), β annealed
      from ``beta`` to ``beta_final`` over ``beta_steps`` calls of ``sample``, as in
      ``PrioritizedReplay``.

    No approximation: the transitions are kept *exactly* sorted in a ``RankTree`` (a treap:
    an order-statistics tree), where the paper keeps an approximately sorted binary heap and
    re-sorts it now and then. ``probabilities()`` is therefore the distribution ``sample``
    really draws from. Costs: ``add`` O(log N), ``update_priorities`` O(B log N) and
    ``sample`` O(B log N), all expected over the treap's random heap priorities (expected
    depth ≤ 2·ln N + O(1), whatever the |δ|); ``probabilities()`` O(N).

    Args:
        capacity: how many transitions to keep.
        alpha: α >= 0, how strongly to prioritise (0 = uniform; the paper's 0.7).
        beta: β0 in [0, 1] (the paper's 0.5 for rank-based).
        beta_final: β in [0, 1] reached after ``beta_steps`` samples.
        beta_steps: number of ``sample`` calls over which β anneals (> 0).
        seed: seed of the memory's own random generator (None or an integer >= 0).
    """

    def __init__(
        self,
        capacity: int,
        alpha: float = 0.7,
        beta: float = 0.5,
        beta_final: float = 1.0,
        beta_steps: int = 100_000,
        seed: int | None = None,
    ) -> None:
        super().__init__(capacity, seed)
        alpha = real(alpha, "alpha")
        if not 0 <= alpha <= 50:  # beyond 50, 2^-α vanishes beside 1 in float64: rank 1 only
            raise ValueError(f"alpha must lie in [0, 50], got {alpha}")
        self._init_beta(beta, beta_final, beta_steps)
        self.alpha = alpha
        # cum[k] = Σ_{j<=k} (j+1)^-α, for every N at once: segment bounds are cum[:N] slices
        self._cum = np.cumsum(np.arange(1, self.capacity + 1, dtype=np.float64) ** -alpha)
        self.tree = RankTree(self.capacity, self._rng)
        self._one = np.empty(1, dtype=np.int64)
        self._inf = np.full(1, np.inf)

    def _on_add(self, index: int) -> None:
        self._one[0] = index
        self.tree.set_keys(self._one, self._inf)  # rank 1 until replayed

    def _on_add_batch(self, indices: np.ndarray, td_errors: np.ndarray | None) -> None:
        keys = np.full(indices.shape[0], np.inf) if td_errors is None else td_errors
        self.tree.set_keys(indices, keys)  # in order: a later write ranks first on ties

    def sample(self, batch_size: int) -> Batch:
        """Stratified rank-based sample of ``batch_size`` transitions with IS weights."""
        batch_size = self._check_can_sample(batch_size)
        uniforms = self._rng.random(batch_size)
        ranks = np.empty(batch_size, dtype=np.int64)
        weights = np.empty(batch_size, dtype=np.float64)
        _rank_sample_kernel(self._cum, self._size, uniforms, self.alpha * self.beta, ranks,
                            weights)  # fmt: skip
        self.sample_calls += 1
        return self._gather(self.tree.select(ranks), weights)

    def update_priorities(self, indices: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        """Re-rank the given (sampled) transitions by their new |δ| (last write wins)."""
        idx = self._check_indices(indices)
        self._write_checked(idx, self._check_td(td_errors, idx.shape[0]))

    def _write_checked(self, idx: np.ndarray, td: np.ndarray) -> None:
        self.tree.set_keys(idx, td)  # in order: a later write ranks first on ties

    def ranks(self) -> np.ndarray:
        """rank(i) (1 = largest |δ|) of every stored transition, by index. O(N)."""
        return self.tree.ranks() + 1

    def probabilities(self) -> np.ndarray:
        """P(i) for every stored transition, the distribution ``sample`` draws from. O(N)."""
        if self._size == 0:
            return np.zeros(0)
        return self.ranks().astype(np.float64) ** -self.alpha / self._cum[self._size - 1]


@functools.cache
def warm_up_kernels() -> None:
    """Compile (or load from numba's cache) every memory's kernels once per process, on
    throwaway memories, so that one-time JIT work is not billed to the replay memory's share of
    training time. Touches no memory of the caller and no global random state."""
    for cls in (UniformReplay, TDErrorListReplay, PrioritizedReplay, RankBasedReplay):
        scratch = cls(2, seed=0)
        scratch.add(np.zeros(1), 0, 0.0, np.zeros(1), False)
        scratch.add_batch(np.zeros((1, 1)), [0], [0.0], np.zeros((1, 1)), [False], [1.0])
        batch = scratch.sample(1)
        scratch.update_priorities(batch.indices, np.ones(1))
