"""prdqn_lib.cliffwalk: notebook 06's compiled uniform-replay loop is the notebook's Python loop
(same updates, same stopping rule), deterministic per seed, and refuses mis-shaped input."""

from __future__ import annotations

import numpy as np
import pytest

from prdqn_lib.cliffwalk import uniform_updates_to_learn


def chain(n: int):
    """Every transition of the 2^n action sequences; action 1 - s % 2 is right in state s."""
    rows = []
    for seq in range(2**n):
        for s in range(n):
            on = (seq >> s) & 1
            right = 1 - s % 2
            last = s == n - 1
            rows.append((s, right if on else 1 - right, float(on and last), (not on) or last))
            if (not on) or last:
                break
    states, actions, rewards, terminated = (np.array(c) for c in zip(*rows, strict=True))
    gamma = 1 - 1 / n
    q_star = np.zeros((n, 2))
    q_star[np.arange(n), 1 - np.arange(n) % 2] = gamma ** (n - 1 - np.arange(n))
    return states, actions, rewards, terminated, gamma, q_star


def python_loop(states, actions, rewards, terminated, w, linear, gamma, q_star, rng, budget):
    shared = 1.0 if linear else 0.0
    for k in range(1, budget + 1):
        i = rng.integers(len(states))
        q = (w[:, :-1] + shared * w[:, -1:]).T
        s, a = states[i], actions[i]
        target = rewards[i] + (0.0 if terminated[i] else gamma * q[s + 1].max())
        delta = target - q[s, a]
        w[a, s] += 0.25 * delta
        w[a, -1] += shared * 0.25 * delta
        if np.mean(((w[:, :-1] + shared * w[:, -1:]).T - q_star) ** 2) < 1e-3:
            return k
    return None


def learn(data, w, *, linear, budget, seed):
    """``uniform_updates_to_learn`` on ``chain(n)``'s transitions."""
    *transitions, gamma, q_star = data
    return uniform_updates_to_learn(*transitions, w, linear=linear, gamma=gamma, q_star=q_star,
                                    budget=budget, seed=seed)  # fmt: skip


@pytest.mark.parametrize("linear", [False, True])
def test_compiled_loop_matches_the_python_loop_in_distribution(linear):
    data = chain(5)
    states, actions, rewards, terminated, gamma, q_star = data
    compiled, python = [], []
    for seed in range(30):
        w0 = np.random.default_rng(seed).normal(0, 0.1, (2, 6))
        if not linear:
            w0[:, -1] = 0.0
        compiled.append(learn(data, w0.copy(), linear=linear, budget=100_000, seed=seed))
        python.append(python_loop(states, actions, rewards, terminated, w0.copy(), linear, gamma,
                                  q_star, np.random.default_rng(1000 + seed), 100_000))  # fmt: skip
    assert None not in compiled and None not in python
    assert abs(np.median(compiled) / np.median(python) - 1) < 0.2


def test_deterministic_per_seed_and_none_out_of_budget():
    data = chain(4)
    w0 = np.random.default_rng(0).normal(0, 0.1, (2, 5))
    runs = [learn(data, w0.copy(), linear=True, budget=10**6, seed=3) for _ in range(2)]
    assert runs[0] == runs[1] and isinstance(runs[0], int)
    assert learn(data, w0.copy(), linear=True, budget=5, seed=3) is None


def test_mis_shaped_weights_or_values_are_refused():
    data = chain(3)
    with pytest.raises(ValueError):
        learn(data, np.zeros((2, 3)), linear=False, budget=10, seed=0)
    with pytest.raises(ValueError):
        learn(data, np.zeros((2, 4), np.float32), linear=False, budget=10, seed=0)
