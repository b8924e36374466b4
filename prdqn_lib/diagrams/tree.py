"""Notebook 04's drawings of an array-backed binary tree: a sum tree and the min tree beside it.

Both take the tree as notebook 04 (and :class:`prdqn_lib.SumTree`) stores it: a 1-based heap of
length ``2 * n_leaves``, node 1 the root, node k with children 2k and 2k + 1, leaf i at node
``n_leaves + i``. Edges run between box centres underneath the boxes, and every label sits
below its leaf, so no line crosses a label or a box.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["draw_sum_and_min_trees", "draw_tree", "find_path"]

_INNER = "#cde"  # inner nodes
_LEAF = "#fdb"  # leaves holding a priority
_EMPTY = "#eee"  # leaves holding none (padding, never written)
_PATH = "#d55e00"  # Okabe-Ito vermillion: the walk of find(v), or the path to the minimum


def find_path(sums: npt.ArrayLike, n_leaves: int, value: float) -> list[int]:
    """The nodes ``find(value)`` visits, root first, with the empty-subtree check of notebook 04."""
    s = np.asarray(sums, dtype=float)
    node, v, path = 1, float(value), [1]
    while node < n_leaves:
        left = 2 * node
        if v < s[left] or s[left + 1] == 0:
            node = left
        else:
            v -= s[left]
            node = left + 1
        path.append(node)
    return path


def _min_path(mins: np.ndarray, n_leaves: int) -> list[int]:
    """Root to the leaf holding the minimum: at each node, the child holding the same value."""
    node, path = 1, [1]
    while node < n_leaves:
        node = 2 * node if mins[2 * node] <= mins[2 * node + 1] else 2 * node + 1
        path.append(node)
    return path


def _label(x: float) -> str:
    return "∞" if np.isinf(x) else f"{x:g}"


def draw_tree(
    values: npt.ArrayLike,
    n_leaves: int,
    ax: Axes | None = None,
    title: str = "",
    kind: str = "sum",
    path: Sequence[int] = (),
) -> Axes:
    """Draw a sum tree (``kind="sum"``) or a min tree (``kind="min"``), one box per node.

    A sum tree's positive leaves carry their prefix-sum interval [c_{i-1}, c_i) below them; a
    min tree's empty leaves show ∞ (they must not set the minimum). The nodes in ``path`` (for
    example :func:`find_path`'s walk) are outlined and joined in vermillion; for a min tree an
    empty ``path`` draws the root's path down to the smallest leaf.
    """
    if kind not in ("sum", "min"):
        raise ValueError(f"kind must be 'sum' or 'min', got {kind!r}")
    vals = np.asarray(values, dtype=float)
    if vals.shape != (2 * n_leaves,):
        raise ValueError(f"values must be a heap of length 2·n_leaves = {2 * n_leaves}")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.4))
    if kind == "min" and not path and np.isfinite(vals[1]):
        path = _min_path(vals, n_leaves)
    on_path = set(path)
    depth = n_leaves.bit_length() - 1
    pos: dict[int, tuple[float, float]] = {}
    for node in range(1, 2 * n_leaves):
        level = node.bit_length() - 1
        first = 1 << level
        pos[node] = ((node - first + 0.5) / first, float(depth - level))
    for node in range(2, 2 * n_leaves):
        (x0, y0), (x1, y1) = pos[node // 2], pos[node]
        hot = node in on_path and node // 2 in on_path
        ax.plot([x0, x1], [y0, y1], color=_PATH if hot else "grey", lw=2.2 if hot else 1,
                zorder=1)  # fmt: skip
    leaves = vals[n_leaves:]
    cum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(leaves), leaves, 0.0))])
    for node, (x, y) in pos.items():
        leaf = node >= n_leaves
        empty = leaf and (vals[node] == 0 or np.isinf(vals[node]))
        face = _INNER if not leaf else (_EMPTY if empty else _LEAF)
        hot = node in on_path
        ax.text(x, y, _label(vals[node]), ha="center", va="center", zorder=2, fontsize=11,
                bbox={"boxstyle": "round", "fc": face, "ec": _PATH if hot else "grey",
                      "lw": 2.2 if hot else 1})  # fmt: skip
        if leaf:
            i = node - n_leaves
            if kind == "sum" and not empty:
                note = f"leaf {i}\n[{cum[i]:g}, {cum[i + 1]:g})"
            else:
                note = f"leaf {i}" + ("\nempty" if empty else "")
            ax.text(x, y - 0.42, note, ha="center", va="top", fontsize=9, zorder=2)
    ax.set(xlim=(0, 1), ylim=(-1.25, depth + 0.45))
    ax.set_title(title, fontsize=11)
    ax.axis("off")
    return ax


def draw_sum_and_min_trees(
    sums: npt.ArrayLike, mins: npt.ArrayLike, n_leaves: int, title: str = ""
) -> Figure:
    """The sum tree above the min tree over the same leaves (two rows, 9 inches wide)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.6))
    draw_tree(sums, n_leaves, ax=top, kind="sum",
              title="sum tree: each node = left + right; the root is the total")  # fmt: skip
    draw_tree(mins, n_leaves, ax=bottom, kind="min",
              title="min tree: each node = min(left, right), an empty leaf = ∞; "
                    "the root is the smallest stored priority")  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig
