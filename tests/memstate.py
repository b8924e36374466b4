"""A replay memory's whole state, to check that a refused call changed nothing.

Generic on purpose (every attribute, recursively: arrays, the SumTree, the random generator's
state), so a new memory is covered without listing its fields.
"""

from __future__ import annotations

import numpy as np


def snapshot(obj, _depth: int = 0):
    """A deep, comparable copy of ``obj``'s state."""
    if isinstance(obj, np.ndarray):
        return ("array", obj.dtype.str, obj.shape, obj.tobytes())  # NaN-safe: compares bits
    if isinstance(obj, np.random.Generator):
        return ("rng", repr(obj.bit_generator.state))
    if isinstance(obj, (int, float, str, bool, type(None), tuple)):
        return obj if not isinstance(obj, float) else ("float", obj.hex())
    if isinstance(obj, (list, dict)) or hasattr(obj, "__dict__"):
        assert _depth < 5, "unexpectedly deep state"
        items = (
            obj.items()
            if isinstance(obj, dict)
            else enumerate(obj)
            if isinstance(obj, list)
            else vars(obj).items()
        )
        return (type(obj).__name__, {k: snapshot(v, _depth + 1) for k, v in items})
    return ("other", repr(obj))


def assert_same_state(after, before) -> None:
    """Equal snapshots; on failure, name the attribute that changed."""
    if after == before:
        return
    changed = sorted(
        k for k in set(after[1]) | set(before[1]) if after[1].get(k) != before[1].get(k)
    )
    raise AssertionError(f"the refused call changed {changed}")
