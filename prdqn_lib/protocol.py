"""What the training loops, Ape-X's replay server and the diagnostics ask of a replay memory.

Any object with these methods can be trained with (register it in ``prdqn_lib.variants``); the
four memories of ``prdqn_lib.replay`` satisfy both protocols. See CONTRIBUTING.md, "Add a
replay memory".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .replay import Batch

__all__ = ["PrioritizedMemory", "RefreshableMemory", "ReplayMemory"]


@runtime_checkable
class ReplayMemory(Protocol):
    """A replay memory: stores transitions, samples batches, takes the new |δ| back."""

    capacity: int

    def __len__(self) -> int:
        """How many transitions are stored (at most ``capacity``)."""
        ...

    def add(self, obs: Any, action: Any, reward: Any, next_obs: Any, terminated: Any) -> int:
        """Store one transition (s, a, r, s', terminated); return where it is stored."""
        ...

    def add_batch(
        self,
        obs: Any,
        actions: Any,
        rewards: Any,
        next_obs: Any,
        terminated: Any,
        td_errors: Any = None,
    ) -> np.ndarray:
        """Store n transitions (one array per field), optionally with their |δ|."""
        ...

    def sample(self, batch_size: int) -> Batch:
        """Draw a batch, with importance-sampling weights (all 1 where there are none)."""
        ...

    def update_priorities(self, indices: Any, td_errors: Any) -> None:
        """The new |δ| of the transitions at ``indices`` (those of the last batch)."""
        ...

    def transitions(self, indices: Any = None) -> Batch:
        """The stored transitions at ``indices`` (default: all), weights all 1."""
        ...


@runtime_checkable
class PrioritizedMemory(ReplayMemory, Protocol):
    """A memory that can say which distribution it samples from (uniform too: 1/N)."""

    def probabilities(self) -> np.ndarray:
        """P(i) of every stored transition, by index; sums to 1."""
        ...


@runtime_checkable
class RefreshableMemory(ReplayMemory, Protocol):
    """A memory whose stored |δ| can be recomputed all at once (the list memory of 03)."""

    def refresh_td_errors(
        self, td_error_fn: Callable[[Batch], np.ndarray], chunk_size: int = 4096
    ) -> None:
        """Recompute every stored |δ| with ``td_error_fn`` (a Batch → its |δ|)."""
        ...
