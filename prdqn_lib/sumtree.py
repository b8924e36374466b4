"""An array-backed sum tree (with a min tree beside it) for proportional prioritized replay.

The kernels are plain loops compiled by numba (``cache=True``: compiled once per machine, then
loaded from ``__pycache__``). They are written to read like the textbook algorithm; the Python
methods around them only convert and validate arguments.
"""

from __future__ import annotations

from typing import cast

import numba
import numpy as np
import numpy.typing as npt

from ._checks import (
    FLOAT64_MAX,
    first_bad_value,
    float_array,
    index_array,
    positive_int,
    real,
)

__all__ = ["SumTree"]


# --------------------------------------------------------------------------------------------
# Kernels. ``sums`` and ``mins`` are 1-based heaps of length 2 * n_leaves: node 1 is the root,
# node k has children 2k and 2k + 1, and leaf i lives at node n_leaves + i.
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _write_leaf(
    sums: np.ndarray, mins: np.ndarray, n_leaves: int, index: int, priority: float
) -> None:
    """Set one leaf and recompute its ancestors from their children.

    Recomputing ``parent = left + right`` (rather than adding the change) means every node is
    always exactly the floating-point sum of its two children: rounding errors cannot pile up
    over millions of updates, so the root never drifts away from the sum of the leaves.
    The min tree counts a leaf of priority 0 as +inf: it can never be sampled, so it must not
    set the smallest priority that normalises the importance weights.
    """
    node = n_leaves + index
    sums[node] = priority
    mins[node] = priority if priority > 0.0 else np.inf
    node >>= 1
    while node >= 1:
        left = 2 * node
        sums[node] = sums[left] + sums[left + 1]
        mins[node] = min(mins[left], mins[left + 1])
        node >>= 1


@numba.njit(cache=True, nogil=True)
def _update_kernel(
    sums: np.ndarray,
    mins: np.ndarray,
    n_leaves: int,
    capacity: int,
    limit: float,
    indices: np.ndarray,
    priorities: np.ndarray,
) -> int:
    """Validate the whole batch first (so a bad batch changes nothing), then write in order.

    Returns 0 on success, 2 for a bad priority (the callers check the indices first). Writing
    in order makes the last write win for a duplicated index.
    """
    if first_bad_value(priorities, limit) >= 0:
        return 2
    for k in range(indices.shape[0]):
        _write_leaf(sums, mins, n_leaves, indices[k], priorities[k])
    return 0


@numba.njit(cache=True, nogil=True, inline="always")
def _descend(sums: np.ndarray, n_leaves: int, value: float) -> int:
    """Walk from the root to the leaf whose prefix-sum interval holds ``value``.

    Invariant: the current node has positive mass. Go left when the value falls inside the left
    child's mass, or when the right child is empty; otherwise subtract the left mass and go
    right. Both moves keep the invariant, so the leaf reached always has a positive priority,
    even when rounding puts ``value`` at or past the right edge of a subtree.
    """
    node = 1
    while node < n_leaves:
        left = 2 * node
        if value < sums[left] or sums[left + 1] <= 0.0:
            node = left
        else:
            value -= sums[left]
            node = left + 1
    return node - n_leaves


@numba.njit(cache=True, nogil=True)
def _find_kernel(sums: np.ndarray, n_leaves: int, values: np.ndarray, out: np.ndarray) -> int:
    """Vectorised prefix-sum search. Returns -1, or the position of a value outside [0, total]
    (then nothing is searched)."""
    total = sums[1]
    for k in range(values.shape[0]):
        v = values[k]
        if not (v >= 0.0 and v <= total):  # False for NaN too
            return k
    for k in range(values.shape[0]):
        out[k] = _descend(sums, n_leaves, values[k])
    return -1


@numba.njit(cache=True, nogil=True)
def _stratified_sample_kernel(
    sums: np.ndarray,
    mins: np.ndarray,
    n_leaves: int,
    uniforms: np.ndarray,
    beta: float,
    out_idx: np.ndarray,
    out_w: np.ndarray,
) -> None:
    """Stratified proportional sampling with importance-sampling weights.

    Segment k of [0, total) is [k·total/B, (k+1)·total/B); value_k = (k + u_k)·total/B.
    P(i) = p_i / total and w_i = (N·P(i))^-β / max_j w_j, where the largest weight belongs to
    the smallest positive priority p_min (the root of the min tree), so
    w_i = (N·p_i/total)^-β / (N·p_min/total)^-β = (p_i / p_min)^-β: N and the total cancel,
    and the ratio form cannot underflow to 0/0 however far apart the priorities are.
    """
    total = sums[1]
    batch = uniforms.shape[0]
    segment = total / batch
    p_min = mins[1]
    for k in range(batch):
        value = min((k + uniforms[k]) * segment, total)
        leaf = _descend(sums, n_leaves, value)
        out_idx[k] = leaf
        out_w[k] = (sums[n_leaves + leaf] / p_min) ** -beta


@numba.njit(cache=True, nogil=True)
def _first_bad_uniform(uniforms: np.ndarray) -> int:
    """Position of the first value outside [0, 1) (NaN included), or -1."""
    for k in range(uniforms.shape[0]):
        if not (uniforms[k] >= 0.0 and uniforms[k] < 1.0):
            return k
    return -1


# --------------------------------------------------------------------------------------------


class SumTree:
    """A complete binary tree whose leaves hold priorities and whose nodes hold sums.

    Capacity 5 is padded to 8 leaves (padding leaves hold 0 and are never returned)::

                              [ 13.0 ]                    node 1 = total
                      /                   \\
                [ 10.0 ]                  [ 3.0 ]         nodes 2, 3
               /        \\               /        \\
           [ 4.0 ]     [ 6.0 ]       [ 3.0 ]     [ 0.0 ]  nodes 4..7
           /    \\      /    \\       /    \\      /    \\
         3.0   1.0   2.0   4.0    3.0   0.0   0.0   0.0   leaves 0..7 (nodes 8..15)
         [0,3) [3,4) [4,6) [6,10) [10,13)                  the prefix-sum interval of each leaf

    ``find(v)`` returns the leaf i with cumsum[i-1] <= v < cumsum[i], by walking down from the
    root: go left if v < left sum, else subtract the left sum and go right. For v = 7.5:
    7.5 < 10 → left; 7.5 >= 4 → right with 3.5; 3.5 >= 2 → right with 1.5 → leaf 3.

    Both ``update`` and ``find`` are O(log N) per element and vectorised over whole batches.
    Beside the sums, the tree keeps the smallest *positive* priority (a min tree in which
    never-written and zero leaves count as +inf), which prioritized replay needs to normalise
    importance weights without an O(N) scan.

    Every priority must be finite, >= 0 and at most ``priority_limit`` (the largest float64
    divided by the number of leaves), so no sum in the tree can overflow to inf.

    Args:
        capacity: number of leaves (any positive integer, not only powers of two).
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = positive_int(capacity, "capacity")
        self._n_leaves = 1 << max(0, (self._capacity - 1).bit_length())
        self._sums = np.zeros(2 * self._n_leaves, dtype=np.float64)
        self._mins = np.full(2 * self._n_leaves, np.inf, dtype=np.float64)
        # n_leaves · limit is the largest float64, and every partial sum is a sum of at most
        # n_leaves leaves in a power-of-two tree: the root stays finite
        self._limit = FLOAT64_MAX / self._n_leaves

    @property
    def capacity(self) -> int:
        """Number of leaves."""
        return self._capacity

    @property
    def priority_limit(self) -> float:
        """The largest priority a leaf may hold: the largest float64 / the number of leaves."""
        return self._limit

    def __len__(self) -> int:
        return self._capacity

    @property
    def total(self) -> float:
        """Sum of all priorities (the root)."""
        return float(self._sums[1])

    @property
    def min(self) -> float:
        """Smallest *positive* priority among the leaves (+inf while none is positive).

        Leaves of priority 0 are left out: they are never sampled, so they must not set the
        largest importance weight.
        """
        return float(self._mins[1])

    def update(self, indices: npt.ArrayLike, priorities: npt.ArrayLike) -> None:
        """Set ``priorities[k]`` at leaf ``indices[k]`` for every k.

        A duplicated index takes its last priority. Raises ValueError (TypeError for
        non-numbers), leaving the tree exactly as it was, if any index is outside
        [0, capacity) or any priority is negative, NaN, infinite or above ``priority_limit``.
        """
        idx = index_array(indices, self._capacity)
        pri = float_array(priorities, "priorities")
        if idx.shape != pri.shape:
            raise ValueError(
                f"indices and priorities must have the same length, got {idx.size} and {pri.size}"
            )
        code = _update_kernel(
            self._sums, self._mins, self._n_leaves, self._capacity, self._limit, idx, pri
        )
        if code == 2:
            k = first_bad_value(pri, self._limit)
            raise ValueError(
                f"priorities must be finite, >= 0 and <= priority_limit={self._limit:.6g}, "
                f"got {float(pri[k])!r} (priorities[{k}])"
            )

    def _update_unchecked(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """``update`` for arguments the caller has already validated (int64 / float64 arrays)."""
        _update_kernel(
            self._sums, self._mins, self._n_leaves, self._capacity, self._limit, indices, priorities
        )

    def find(self, values: npt.ArrayLike) -> np.ndarray:
        """Return, for each value v, the leaf i with cumsum[i-1] <= v < cumsum[i].

        Values must lie in [0, total]; v == total maps to the last leaf with positive priority.
        A leaf with priority 0 is never returned. Raises ValueError if the tree is empty (total
        0) or a value lies outside [0, total].
        """
        vals = float_array(values, "values")
        if not self._sums[1] > 0.0:
            raise ValueError("cannot search a tree whose total priority is 0")
        out = np.empty(vals.shape[0], dtype=np.int64)
        k = _find_kernel(self._sums, self._n_leaves, vals, out)
        if k >= 0:
            bad = float(vals[k])
            raise ValueError(
                f"values must lie in [0, total={self.total!r}], got {bad!r} (values[{k}])"
            )
        return out

    def priorities(self, indices: npt.ArrayLike) -> np.ndarray:
        """Priorities stored at the given leaves."""
        idx = index_array(indices, self._capacity)
        return self._sums[self._n_leaves + idx]

    def __getitem__(self, indices: npt.ArrayLike) -> float | np.ndarray:
        if np.isscalar(indices):
            # np.isscalar narrows to numpy's scalar union, which includes memoryview
            return float(self.priorities(cast("npt.ArrayLike", [indices]))[0])
        return self.priorities(indices)

    def stratified_sample(self, uniforms: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """Stratified sampling of ``len(uniforms)`` leaves with importance-sampling weights.

        Split [0, total) into B equal segments and search value (k + uniforms[k])·total/B in
        segment k. Returns ``(indices, weights)`` with w_i = (N·P(i))^-β / max w, where
        P(i) = p_i/total, N the number of stored transitions and max w = (N·p_min/total)^-β
        with p_min the smallest positive priority, so every weight is in (0, 1]: N cancels,
        w_i = (p_i/p_min)^-β, so the tree needs no N.

        Raises ValueError if ``uniforms`` is empty or has a value outside [0, 1), if the tree's
        total is 0, or β lies outside [0, 1].
        """
        u = float_array(uniforms, "uniforms")
        if u.size == 0:
            raise ValueError("uniforms must hold one value per draw, got none")
        beta = real(beta, "beta")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        k = _first_bad_uniform(u)
        if k >= 0:
            raise ValueError(f"uniforms must lie in [0, 1), got {float(u[k])!r} (uniforms[{k}])")
        if not self._sums[1] > 0.0:
            raise ValueError("cannot sample from a tree whose total priority is 0")
        return self._stratified_sample(u, beta)

    def _stratified_sample(
        self, uniforms: np.ndarray, beta: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``stratified_sample`` for arguments the caller has already validated."""
        idx = np.empty(uniforms.shape[0], dtype=np.int64)
        w = np.empty(uniforms.shape[0], dtype=np.float64)
        _stratified_sample_kernel(self._sums, self._mins, self._n_leaves, uniforms, beta, idx, w)
        return idx, w

    def _set_one(self, index: int, priority: float) -> None:
        """Unchecked single-leaf write for the replay memory's hot ``add`` path."""
        _write_leaf(self._sums, self._mins, self._n_leaves, index, priority)

    def __repr__(self) -> str:
        return f"SumTree(capacity={self._capacity}, total={self.total:.6g})"
