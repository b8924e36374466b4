"""Notebook 03's picture of proportional sampling: every transition an interval of the prefix
sums, and one uniform draw picking the interval it lands in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

from ..plots import OKABE_ITO

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["draw_prefix_sums"]


def draw_prefix_sums(
    td_errors: npt.ArrayLike, eps: float, u: float
) -> tuple[Figure, np.ndarray, int]:
    """Draw the masses m_i = |δ_i| + ε end to end on [0, S), their prefix sums c_i below the bar
    and the draw ``u`` as an arrow onto the interval [c_{i-1}, c_i) that holds it (outlined).

    Returns the figure, the prefix sums c (c[-1] = S) and the index of the interval hit.
    """
    mass = np.abs(np.asarray(td_errors, dtype=np.float64)) + eps
    c = np.cumsum(mass)
    if not 0 <= u < c[-1]:
        raise ValueError(f"u must lie in [0, S) = [0, {c[-1]:.4g}), got {u}")
    hit = int(np.searchsorted(c, u, side="right"))  # the i with c[i-1] <= u < c[i]
    fig, ax = plt.subplots(figsize=(9, 2.6))
    fig.subplots_adjust(left=0.02, right=0.98)  # the bar uses the figure's whole width
    shades = [OKABE_ITO["sky blue"], OKABE_ITO["orange"]]
    for i, (lo, m) in enumerate(zip(c - mass, mass, strict=True)):
        ax.barh(0, m, left=lo, height=0.5, color=shades[i % 2], ec="black",
                lw=3 if i == hit else 1)  # fmt: skip
        label = f"i = {i}\nm = {m:.2f}" if m > 0.5 else f"{i}"  # a sliver gets its index only
        ax.text(lo + m / 2, 0, label, ha="center", va="center", fontsize=10.5)
    # the arrow comes down from above the bar and stops short of it: it crosses no label
    arrow = {"arrowstyle": "->", "color": OKABE_ITO["vermillion"], "lw": 2}
    ax.annotate(f"u = {u:.2f}", (u, 0.28), (u, 0.85), ha="center", fontsize=12,
                arrowprops=arrow)  # fmt: skip
    ticks = np.concatenate([[0.0], c])
    for k, t in enumerate(ticks):  # the prefix sums, staggered where two are close
        low = k > 0 and t - ticks[k - 1] < 0.35
        ax.plot([t, t], [-0.25, -0.4 - 0.25 * low], color="black", lw=0.8)
        ax.text(t, -0.47 - 0.25 * low, f"{t:.2f}", ha="center", va="top", fontsize=10)
    ax.text(0, 0.42, "0", ha="center", fontsize=12)
    ax.text(c[-1], 0.42, "S", ha="center", fontsize=12)
    ax.set(xlim=(-0.1, c[-1] + 0.1), ylim=(-1.0, 1.15))
    ax.set_title("prefix sums $c_i$ below the bar; a uniform draw $u$ on $[0, S)$ picks an "
                 "interval", fontsize=12)  # fmt: skip
    ax.axis("off")
    return fig, c, hit
