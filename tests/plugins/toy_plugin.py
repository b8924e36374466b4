"""A replay memory and two variants defined outside prdqn_lib, as CONTRIBUTING.md describes.

``RecentReplay`` is written from scratch (no base class of the library): it keeps a ring buffer
and samples uniformly from the newest half of it, a crude "favour recent experience" memory.
Importing this module registers ``toy-recent`` (the new memory, Double DQN) and ``per-alpha1``
(a variant that reuses SumTree PER with α = 1). tests/test_registry.py trains both through
``train()`` and through the command line (``--plugin tests/plugins/toy_plugin.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from prdqn_lib.replay import Batch
from prdqn_lib.variants import Variant, proportional_memory, register, variant_names


class RecentReplay:
    """Uniform over the newest ⌈N/2⌉ of the N stored transitions."""

    def __init__(self, capacity: int, seed: int | None = None) -> None:
        if not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = capacity
        self._rng = np.random.default_rng(seed)
        self._pos = self._size = 0
        self._data: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return self._size

    def add(self, obs, action, reward, next_obs, terminated) -> int:
        idx = self.add_batch(np.asarray(obs)[None], [action], [reward], np.asarray(next_obs)[None],
                             [terminated])  # fmt: skip
        return int(idx[0])

    def add_batch(self, obs, actions, rewards, next_obs, terminated, td_errors=None) -> np.ndarray:
        cols = [np.asarray(obs, np.float32), np.asarray(actions, np.int64),
                np.asarray(rewards, np.float32), np.asarray(next_obs, np.float32),
                np.asarray(terminated, bool)]  # fmt: skip
        n = len(cols[1])
        if any(len(c) != n for c in cols):
            raise ValueError(f"every field must hold n={n} values")
        if self._data is None:
            self._data = [np.zeros((self.capacity, *c.shape[1:]), c.dtype) for c in cols]
        idx = (self._pos + np.arange(n)) % self.capacity
        for store, col in zip(self._data, cols, strict=True):
            store[idx] = col
        self._pos = (self._pos + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        return idx

    def _recent(self) -> np.ndarray:
        k = (self._size + 1) // 2
        return (self._pos - 1 - np.arange(k)) % self.capacity

    def sample(self, batch_size: int) -> Batch:
        if self._size == 0:
            raise ValueError("cannot sample from an empty memory")
        idx = self._rng.choice(self._recent(), size=batch_size)
        return self.transitions(idx)

    def update_priorities(self, indices, td_errors) -> None:
        pass  # no priorities

    def transitions(self, indices=None) -> Batch:
        idx = np.arange(self._size) if indices is None else np.asarray(indices, np.int64)
        assert self._data is not None
        obs, actions, rewards, next_obs, terminated = (d[idx] for d in self._data)
        return Batch(obs, actions, rewards, next_obs, terminated, np.ones(len(idx)), idx)

    def probabilities(self) -> np.ndarray:
        p = np.zeros(self._size)
        p[self._recent()] = 1.0 / len(self._recent())
        return p


if "toy-recent" not in variant_names():  # importable twice (a test, then the CLI in-process)
    register(Variant(
        name="toy-recent",
        description="uniform over the newest half of the memory + Double DQN",
        memory=lambda cfg: RecentReplay(cfg.buffer_size, seed=cfg.seed),
        memory_label="`RecentReplay` (tests/plugins)",
    ))  # fmt: skip
    register(Variant(
        name="per-alpha1",
        description="SumTree PER with α = 1 + Double DQN",
        memory=lambda cfg: proportional_memory(dataclasses.replace(cfg, alpha=1.0)),
        memory_label="`PrioritizedReplay`, α = 1",
    ))  # fmt: skip
