"""Notebook 06's drawing: the Blind Cliffwalk chain, with the action that is right in each state.

    from prdqn_lib.diagrams.cliffwalk import draw_chain
    draw_chain(5, right=[1, 0, 1, 0, 1]); plt.show()

Returns the Axes it drew on. Every label sits beside its arrow, never on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle

from ..variants import OKABE_ITO

__all__ = ["draw_chain"]

_STEP = 1.7  # distance between two states, in data units
_R = 0.3  # a state's radius


def draw_chain(n: int = 5, right: Sequence[int] | None = None, ax: Axes | None = None) -> Axes:
    """The chain of ``n`` states: in state ``s_k`` the action ``right[k]`` (solid arrow) moves on
    to ``s_{k+1}``, the other one (dashed, down the cliff) ends the episode with reward 0, and
    the right action in the last state (green) ends it with reward 1.

    ``right`` defaults to the alternation of the paper's Appendix B.1: action 1 in even states,
    action 0 in odd ones.
    """
    if right is None:
        right = [1 - k % 2 for k in range(n)]
    if len(right) != n or any(a not in (0, 1) for a in right):
        raise ValueError(f"right must hold n = {n} actions, each 0 or 1: {right!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(min(9.0, 1.5 + 1.5 * n), 2.3))
    green, red = OKABE_ITO["bluish green"], OKABE_ITO["vermillion"]
    for k, a in enumerate(right):
        x = k * _STEP
        last = k == n - 1
        ax.add_patch(Circle((x, 0), _R, fc="white", ec="black", lw=1.2))
        ax.text(x, 0, f"$s_{{{k}}}$", ha="center", va="center", fontsize=12, gid=f"state:{k}")
        color = green if last else "black"
        end = x + _STEP - (0.55 if last else _R)
        ax.annotate("", (end, 0), (x + _R, 0), gid=f"arrow:right:{k}",
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2,
                                "shrinkA": 0, "shrinkB": 0})  # fmt: skip
        ax.text(x + _STEP / 2, 0.12, f"$a = {a}$", ha="center", va="bottom", fontsize=11,
                color=color, gid=f"label:right:{k}")  # fmt: skip
        # the wrong action: down the cliff, its label to the right of the arrow's middle
        ax.annotate("", (x + 0.5, -1.0), (x + 0.14, -_R + 0.03), gid=f"arrow:wrong:{k}",
                    arrowprops={"arrowstyle": "-|>", "ls": "--", "color": red, "lw": 1.3,
                                "shrinkA": 0, "shrinkB": 0})  # fmt: skip
        ax.text(x + 0.5, -0.55, f"$a = {1 - a}$", ha="left", va="center", fontsize=11, color=red,
                gid=f"label:wrong:{k}")  # fmt: skip
    ax.text((n - 1) * _STEP + _STEP - 0.45, 0, "r = 1", ha="left", va="center", fontsize=12,
            color=green, gid="label:reward")  # fmt: skip
    ax.text(-_R, -1.3, "dashed: the wrong action, the episode ends with r = 0", ha="left",
            va="center", fontsize=11, color=red, gid="label:legend")  # fmt: skip
    ax.set(xlim=(-0.45, n * _STEP + 0.5), ylim=(-1.5, 0.55), aspect="equal")
    ax.axis("off")
    return ax
