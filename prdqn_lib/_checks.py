"""Argument checks shared by the library: each error names the argument and shows the bad value.

Wrong type → ``TypeError``; right type, bad value → ``ValueError``. Every check runs before the
caller changes anything, so a refused call leaves its object exactly as it was.
"""

from __future__ import annotations

import math
import operator
import reprlib

import numba
import numpy as np

FLOAT64_MAX = float(np.finfo(np.float64).max)
INT64_MAX = int(np.iinfo(np.int64).max)

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = _short.maxtuple = 6


def show(value: object) -> str:
    """A short repr of ``value`` for an error message (long sequences and strings cut)."""
    if isinstance(value, np.ndarray):
        return np.array2string(value.reshape(-1)[:6], threshold=6, separator=", ") + (
            "…" if value.size > 6 else ""
        )
    return _short.repr(value)


def positive_int(value: object, name: str) -> int:
    """``value`` as an int > 0; TypeError if it is not an integer (bools and floats included)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {show(value)}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def real(value: object, name: str) -> float:
    """``value`` as a finite float; TypeError if it is not a real number (bools and strings)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value.item()
    if isinstance(value, (bool, np.bool_, str, bytes)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be a real number, got {show(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def seed(value: object) -> int | None:
    """A seed for ``np.random.default_rng``: None or an integer >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"seed must be None or a non-negative integer, got {show(value)}")
    if value < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {value}")
    return int(value)


@numba.njit(cache=True, nogil=True)
def first_bad_index(indices: np.ndarray, upper: int) -> int:
    """Position of the first index outside [0, upper), or -1."""
    for k in range(indices.shape[0]):
        if indices[k] < 0 or indices[k] >= upper:
            return k
    return -1


@numba.njit(cache=True, nogil=True)
def first_bad_value(values: np.ndarray, limit: float) -> int:
    """Position of the first value that is negative, NaN or above ``limit``, or -1."""
    for k in range(values.shape[0]):
        v = values[k]
        if not (v >= 0.0 and v <= limit):  # False for NaN too
            return k
    return -1


def index_array(indices: object, upper: int, name: str = "indices", bound: str = "") -> np.ndarray:
    """``indices`` as a flat int64 array with every value in [0, upper).

    TypeError for non-integers (floats, bools, strings); ValueError for an integer outside the
    range, shown as the caller wrote it (a uint64 2**63 is not shown as a negative number).
    ``bound`` names the upper bound in the message (default: its value).
    """
    bound = bound or str(upper)
    arr = np.asarray(indices) if not isinstance(indices, np.ndarray) else indices
    kind = arr.dtype.kind
    if kind == "i" or (kind == "u" and arr.dtype.itemsize < 8):
        idx = np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)
    elif kind == "u":
        if arr.size and int(arr.max()) > INT64_MAX:
            raise ValueError(f"{name} must lie in [0, {bound}), got {int(arr.max())}")
        idx = np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)
    elif arr.size == 0:
        return np.empty(0, dtype=np.int64)
    else:  # floats, bools, objects (Python ints beyond int64 land here): find the culprit
        items = np.asarray(indices, dtype=object).reshape(-1)
        values = []
        for item in items:  # every type first, then every range
            try:
                if isinstance(item, (bool, np.bool_)):
                    raise TypeError
                values.append(operator.index(item))
            except TypeError:
                raise TypeError(f"{name} must be integers, got {show(item)}") from None
        for value in values:
            if not 0 <= value < upper:
                raise ValueError(f"{name} must lie in [0, {bound}), got {value}")
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    bad = first_bad_index(idx, upper)
    if bad >= 0:
        raise ValueError(f"{name} must lie in [0, {bound}), got {idx[bad]} ({name}[{bad}])")
    return idx


def float_array(values: object, name: str) -> np.ndarray:
    """``values`` as a flat contiguous float64 array; TypeError if they are not real numbers."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.dtype.kind not in "fiu":
        if arr.size == 0:
            return np.empty(0, dtype=np.float64)
        raise TypeError(f"{name} must be real numbers, got {show(values)}")
    return np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
