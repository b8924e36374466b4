"""Notebook 06's compiled loop: uniform replay on the Blind Cliffwalk until Q is learned.

    from prdqn_lib.cliffwalk import uniform_updates_to_learn

Uniform replay needs millions of updates on the largest chains (about 2 million at n = 16), too
many for a Python loop in a notebook cell. This is the notebook's own replay loop (its
``updates_to_learn``) with the memory's draw replaced by a uniform random index, compiled with
numba. Everything else, the chain, the memory, the prioritized strategies and the oracle, is
written out in the notebook, where the learner reads it.

Q is stored as weights ``w[a, :]``, one row per action over the features
``phi(s) = (one-hot(s), 1)``: ``Q(s, a) = w[a, s] + w[a, n]`` for the linear Q of the paper's
Appendix B.1, and ``Q(s, a) = w[a, s]`` for the table (the last column is then ignored).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["uniform_updates_to_learn"]


@numba.njit(cache=True, nogil=True)
def _uniform_loop(
    states: npt.NDArray[np.int64],
    actions: npt.NDArray[np.int64],
    rewards: npt.NDArray[np.float64],
    terminated: npt.NDArray[np.bool_],
    w: npt.NDArray[np.float64],
    shared: float,
    gamma: float,
    q_star: npt.NDArray[np.float64],
    budget: int,
    seed: int,
    eta: float,
    tolerance: float,
) -> int:
    # numba compiles only the legacy global generator (np.random.seed / randint), not
    # np.random.Generator: its stream is numba's own, seeded here on every call
    np.random.seed(seed)  # noqa: NPY002
    n = q_star.shape[0]
    for k in range(1, budget + 1):
        i = np.random.randint(0, states.shape[0])  # noqa: NPY002
        s, a = states[i], actions[i]
        target = rewards[i]
        if not terminated[i]:
            q0 = w[0, s + 1] + shared * w[0, n]
            q1 = w[1, s + 1] + shared * w[1, n]
            target += gamma * max(q0, q1)
        delta = target - (w[a, s] + shared * w[a, n])
        w[a, s] += eta * delta  # the gradient of Q(s, a) is phi(s) in row a
        w[a, n] += shared * eta * delta  # ... whose last entry is the constant feature 1
        err = 0.0
        for t in range(n):
            for b in range(2):
                err += (w[b, t] + shared * w[b, n] - q_star[t, b]) ** 2
        if err / (2 * n) < tolerance:
            return k
    return -1


def uniform_updates_to_learn(
    states: npt.ArrayLike,
    actions: npt.ArrayLike,
    rewards: npt.ArrayLike,
    terminated: npt.ArrayLike,
    w: npt.NDArray[np.float64],
    *,
    linear: bool,
    gamma: float,
    q_star: npt.ArrayLike,
    budget: int,
    seed: int,
    eta: float = 0.25,
    tolerance: float = 1e-3,
) -> int | None:
    """Replay uniformly drawn stored transitions, one Q-learning update each, until the mean
    squared error of Q against ``q_star`` (shape ``(n, 2)``) falls below ``tolerance``.

    ``states, actions, rewards, terminated`` are the memory's transitions (the next state of a
    transition from ``s`` is ``s + 1``); ``w`` (shape ``(2, n + 1)``, float64) is updated in
    place. Returns the number of updates, or None if ``budget`` updates were not enough.
    """
    w_arr = np.asarray(w)
    if w_arr.dtype != np.float64 or w_arr.ndim != 2 or w_arr.shape[0] != 2:
        raise ValueError(f"w must be a float64 array of shape (2, n + 1), got {w_arr.shape}")
    q = np.ascontiguousarray(q_star, dtype=np.float64)
    if w_arr.shape[1] != q.shape[0] + 1 or q.shape[1:] != (2,):
        raise ValueError(f"q_star must have shape (n, 2) with w of shape (2, n + 1): {q.shape}")
    k = _uniform_loop(
        np.ascontiguousarray(states, dtype=np.int64),
        np.ascontiguousarray(actions, dtype=np.int64),
        np.ascontiguousarray(rewards, dtype=np.float64),
        np.ascontiguousarray(terminated, dtype=np.bool_),
        w_arr,
        1.0 if linear else 0.0,
        float(gamma),
        q,
        int(budget),
        int(seed),
        float(eta),
        float(tolerance),
    )
    return int(k) if k > 0 else None
