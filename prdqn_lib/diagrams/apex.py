"""Notebook 07's drawing: Ape-X's roles and what flows between them.

    from prdqn_lib.diagrams.apex import draw_apex
    draw_apex(); plt.show()

Actors in a column on the left, the replay in the middle, the learner on the right; blocks flow
from the actors into the replay, batches and |δ| between the replay and the learner, and the
learner's weights back to every actor along a bus drawn below and to the left of everything, so
that no arrow crosses a label, a box or another arrow (tests/test_diagrams_apex.py checks it on
the rendered figure).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.text import Text

from ..variants import OKABE_ITO
from .loop import _edge_point

__all__ = ["draw_apex"]

_BOX = {"boxstyle": "round,pad=0.45", "ec": "grey"}
_ARROW = {"arrowstyle": "-|>", "lw": 1.4, "color": "black", "mutation_scale": 14,
          "shrinkA": 0, "shrinkB": 0}  # fmt: skip
_WIRE = {**_ARROW, "arrowstyle": "-"}  # a bus segment: a line without a head
_WEIGHTS = {"ls": "--", "color": OKABE_ITO["vermillion"]}

# canvas (data units) and where the roles sit
_W, _H = 13.0, 5.6
_ACTOR_X, _REPLAY, _LEARNER = 1.75, (6.2, 2.9), (11.4, 2.9)
_BUS_X, _BUS_Y = 0.3, 0.45  # the weights bus: left of the actors, below every box


def _actor_text(i: int, eps: float) -> str:
    return f"actor {i}\n$\\varepsilon_{{{i}}} = {eps:.2g}$\nenv + network copy"


def draw_apex(
    n_actors: int = 3, block: int = 50, sync_every: int = 50, ax: Axes | None = None
) -> Axes:
    """Ape-X's actors, replay and learner, and the four flows between them.

    Args:
        n_actors: actors drawn (2 to 4), each with its ε_i for that N (``actor_epsilons``).
        block: env steps per block an actor sends (``Config.apex_block``), for the label.
        sync_every: learner updates between weight publications (``Config.apex_sync_every``).
        ax: the Axes to draw on (None: a new 10 × 4.3 inch figure).

    Returns:
        the Axes. Boxes carry the gid ``box:<role>``, arrows ``arrow:<from>-><to>`` (a bus
        segment ``arrow:bus<k>``) and labels ``label:<flow>``.
    """
    from ..apex import actor_epsilons  # the drawing shows the library's own ε_i

    if not 2 <= n_actors <= 4:
        raise ValueError(f"n_actors must be 2, 3 or 4 (the drawing's room), got {n_actors}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 4.3))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.92)
    ax.set(xlim=(0, _W), ylim=(-0.25, _H))
    ax.axis("off")
    eps = actor_epsilons(n_actors)
    top, bottom = 4.55, 1.35
    ys = [top - k * (top - bottom) / (n_actors - 1) for k in range(n_actors)]
    nodes: dict[str, tuple[float, float, str, str]] = {
        f"actor{i}": (_ACTOR_X, y, _actor_text(i, float(eps[i])), "#fdb") for i, y in enumerate(ys)
    }
    nodes["replay"] = (*_REPLAY, "replay (a Ray actor)\nPrioritizedReplay, FIFO ring\n"
                       "$p = (|\\delta| + \\epsilon)^{\\alpha}$", "#cde")  # fmt: skip
    nodes["learner"] = (*_LEARNER, "learner (this process)\nn-step double Q, dueling\n"
                        "IS weights $w$, Adam", "#dfd")  # fmt: skip
    boxes: dict[str, Text] = {}
    for name, (x, y, text, fc) in nodes.items():
        boxes[name] = ax.text(x, y, text, ha="center", va="center", fontsize=10,
                              bbox={**_BOX, "fc": fc}, gid=f"box:{name}")  # fmt: skip
    # arrows run between the boxes' outlines, known only once the text is laid out
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    outline = {}
    for name, t in boxes.items():
        t.update_bbox_position_size(renderer)
        outline[name] = t.get_bbox_patch().get_window_extent(renderer)  # type: ignore[union-attr]
    to_px, to_data = ax.transData.transform, ax.transData.inverted().transform

    def arrow(gid: str, start: tuple[float, float], end: tuple[float, float], **kw: object) -> None:
        ax.annotate("", end, start, arrowprops={**_ARROW, **kw}, gid=gid)

    def label(gid: str, x: float, y: float, text: str, **kw: object) -> None:
        ax.text(x, y, text, fontsize=10, va="center", gid=f"label:{gid}", **kw)  # type: ignore[arg-type]

    # 1. each actor sends its blocks to the replay, straight at the replay's centre
    centre = tuple(to_px(_REPLAY))
    for i in range(n_actors):
        a = tuple(to_px(nodes[f"actor{i}"][:2]))
        start = to_data(_edge_point(outline[f"actor{i}"], a, centre, gap=3))
        end = to_data(_edge_point(outline["replay"], centre, a, gap=3))
        arrow(f"arrow:actor{i}->replay", tuple(start), tuple(end))
    blocks_x = to_data((outline["actor0"].x1 + 12, 0))[0]
    label("blocks", blocks_x, ys[0] + 0.3, f"blocks of {block} env steps:\nn-step transitions "
          "+ their $|\\delta|$", ha="left")  # fmt: skip
    # 2. batches one way, new |δ| the other, on two parallel lines between replay and learner
    r_box, l_box = outline["replay"], outline["learner"]
    x0 = to_data((r_box.x1 + 3, 0))[0]
    x1 = to_data((l_box.x0 - 3, 0))[0]
    hi, lo = _REPLAY[1] + 0.25, _REPLAY[1] - 0.25
    arrow("arrow:replay->learner", (x0, hi), (x1, hi))
    arrow("arrow:learner->replay", (x1, lo), (x0, lo))
    mid = (x0 + x1) / 2
    label("batches", mid, hi + 0.33, "batches, 4 per call", ha="center")
    label("new-td", mid, lo - 0.33, "new $|\\delta|$ back", ha="center")
    # 3. weights: down from the learner, along the bottom, up the left, into every actor
    down_from = to_data((0, l_box.y0 - 3))[1]
    bus = [(_LEARNER[0], down_from), (_LEARNER[0], _BUS_Y), (_BUS_X, _BUS_Y),
           (_BUS_X, ys[0])]  # fmt: skip
    for k, (p, q) in enumerate(zip(bus, bus[1:], strict=False)):
        ax.annotate("", q, p, arrowprops={**_WIRE, **_WEIGHTS}, gid=f"arrow:bus{k}")
    for i, y in enumerate(ys):
        left = to_data((outline[f"actor{i}"].x0 - 3, 0))[0]
        arrow(f"arrow:bus->actor{i}", (_BUS_X, y), (left, y), **_WEIGHTS)
    label("weights", (_BUS_X + _LEARNER[0]) / 2, _BUS_Y - 0.38,
          f"weights $\\theta, \\theta^-$ every {sync_every} updates "
          "(free mode: published to the replay, handed back with each block)",
          ha="center", color=_WEIGHTS["color"])  # fmt: skip
    ax.set_title(f"Ape-X: {n_actors} actors shown, one prioritized replay, one learner",
                 fontsize=11)  # fmt: skip
    return ax
