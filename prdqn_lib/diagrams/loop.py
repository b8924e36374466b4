"""Notebook 01's drawings: the DQN loop and the replay memory's ring buffer.

    from prdqn_lib.diagrams.loop import draw_dqn_loop, draw_ring
    draw_dqn_loop(); plt.show()

Both return the Axes they drew on. No arrow crosses a label or a box (tests/test_diagrams_loop.py
checks it on the rendered figure).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from ..variants import OKABE_ITO

__all__ = ["draw_dqn_loop", "draw_ring"]

_BOX = {"boxstyle": "round,pad=0.45", "ec": "grey"}

# name: (x, y, text, face colour), in data units of a 12.6 × 5 canvas. The five roles sit on a
# diamond (environment, online network, memory, loss) and a triangle (online network, target
# network, loss): every arrow is an edge of one of the two, so no arrow has to cross another.
_NODES = {
    "online": (4.6, 4.2, "online network $\\theta$\n$\\varepsilon$-greedy action", "#dfd"),
    "env": (1.3, 2.5, "environment\nCartPole-v1", "#eee"),
    "memory": (4.6, 0.8, "replay memory\nlast $N$ transitions", "#cde"),
    "loss": (7.9, 2.5, "minibatch of $B$\nloss $L(y - Q_\\theta(s, a))$", "#fdb"),
    "target": (10.7, 4.2, "target network $\\theta^-$\ncomputes $y$", "#eee"),
}

_Y = "$y = r + \\gamma\\,\\mathrm{max}_{a'}\\, Q_{\\theta^-}(s', a')$"

# (from, to, label, label position, horizontal alignment, extra arrow properties)
_EDGES: list[tuple[str, str, str, tuple[float, float], str, dict[str, object]]] = [
    ("online", "env", "1 · action $a$", (2.6, 3.65), "right", {}),
    (
        "env",
        "memory",
        "2 · store\n$(s, a, r, s', \\mathrm{terminated})$",
        (2.75, 1.25),
        "right",
        {},
    ),
    ("memory", "loss", "3 · sample $B$", (6.55, 1.35), "left", {}),
    ("loss", "online", "4 · gradient\nstep on $\\theta$", (5.55, 3.0), "center", {}),
    (
        "target",
        "loss",
        _Y,
        (9.3, 2.85),
        "left",
        {},
    ),
    (
        "online",
        "target",
        "5 · copy $\\theta \\to \\theta^-$\nevery $K$ updates",
        (7.65, 4.62),
        "center",
        {"ls": "--", "color": OKABE_ITO["vermillion"]},
    ),
]


def _edge_point(
    box: Bbox, inside: tuple[float, float], toward: tuple[float, float], gap: float
) -> tuple[float, float]:
    """Where the segment from ``inside`` (the box's centre) to ``toward`` leaves ``box``, moved
    ``gap`` further along it (all in display pixels)."""
    (x0, y0), (x1, y1) = inside, toward
    dx, dy = x1 - x0, y1 - y0
    ts = [
        t
        for d, lo, hi, o in ((dx, box.x0, box.x1, x0), (dy, box.y0, box.y1, y0))
        if d
        for t in ((lo - o) / d, (hi - o) / d)
        if t > 0
    ]
    t = min(ts) + gap / float(np.hypot(dx, dy))
    return x0 + t * dx, y0 + t * dy


def draw_dqn_loop(ax: Axes | None = None) -> Axes:
    """The DQN loop: who acts, what is stored and sampled, which network learns, which is copied.

    Boxes are the five roles, arrows what flows between them, numbered in the order of one
    environment step (the target's ``y`` has no number: it is read during step 4).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9.2, 4.1))
    ax.set(xlim=(0, 12.6), ylim=(0.1, 5.1))
    ax.axis("off")
    boxes: dict[str, Text] = {}
    for name, (x, y, text, fc) in _NODES.items():
        boxes[name] = ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=10,
            bbox={**_BOX, "fc": fc},
            gid=f"box:{name}",
        )
    # arrows run between the boxes' outlines, which are known only once the text is laid out
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    outline = {}
    for name, t in boxes.items():
        t.update_bbox_position_size(renderer)
        outline[name] = t.get_bbox_patch().get_window_extent(renderer)  # type: ignore[union-attr]
    to_data = ax.transData.inverted()
    for a, b, label, (lx, ly), ha, kw in _EDGES:
        ca, cb = ax.transData.transform(_NODES[a][:2]), ax.transData.transform(_NODES[b][:2])
        start = _edge_point(outline[a], tuple(ca), tuple(cb), gap=3)
        end = _edge_point(outline[b], tuple(cb), tuple(ca), gap=3)
        props: dict[str, object] = {
            "arrowstyle": "-|>",
            "lw": 1.4,
            "color": "black",
            "mutation_scale": 14,
            "shrinkA": 0,
            "shrinkB": 0,
        }
        props.update(kw)
        (x1, y1), (x0, y0) = to_data.transform(end), to_data.transform(start)
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=props, gid=f"arrow:{a}->{b}")
        color = str(kw.get("color", "black"))
        ax.text(lx, ly, label, ha=ha, va="center", fontsize=10, color=color, gid=f"label:{a}->{b}")
    ax.set_title(
        "DQN: act, store, sample, learn, and copy the online network to the target", fontsize=11
    )
    return ax


def draw_ring(values: Sequence[float], pos: int, ax: Axes | None = None) -> Axes:
    """A ring buffer's slots: what each holds (``t`` = when it was added), the overwritten slots
    in blue, and an arrow at ``pos``, the slot the next write takes (the oldest once full)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 1.7))
    n = len(values)
    for i, v in enumerate(values):
        fc = OKABE_ITO["sky blue"] if v >= n else "#eee"  # written after the memory was full
        ax.add_patch(Rectangle((i, 0), 0.95, 0.8, fc=fc, ec="grey"))
        ax.text(i + 0.47, 0.4, f"t = {v:.0f}", ha="center", va="center", fontsize=11)
        ax.text(i + 0.47, -0.25, f"slot {i}", ha="center", fontsize=10, color="dimgrey")
    ax.annotate(
        "next write (the oldest)",
        (pos + 0.47, 0.85),
        (pos + 0.47, 1.5),
        ha="center",
        fontsize=11,
        arrowprops={"arrowstyle": "->"},
    )
    ax.set(xlim=(-0.2, n + 0.2), ylim=(-0.5, 1.85))
    ax.axis("off")
    return ax
