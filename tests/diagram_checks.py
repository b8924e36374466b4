"""What the drawing tests check on a drawn figure (prdqn_lib.diagrams), in display pixels: the
arrows as segments, the texts and boxes as their window extents, whether a segment crosses a box
or another segment, and the smallest font once JupyterLab has shrunk the figure to its width.

A drawing marks its pieces with gids: arrows ``arrow:…`` (Annotations), boxes ``box:…`` and
labels ``label:…`` (Texts).
"""

from __future__ import annotations

import numpy as np
from matplotlib.text import Annotation

JUPYTERLAB_WIDTH_PX = 900  # JupyterLab shrinks a wider image to fit its output area
MIN_FONT_PX = 10


def segments(ax) -> dict[str, np.ndarray]:
    """Each arrow (an Annotation whose gid starts with ``arrow:``) as its start and end point."""
    return {a.get_gid(): ax.transData.transform([a.xyann, a.xy]) for a in ax.texts
            if isinstance(a, Annotation) and str(a.get_gid()).startswith("arrow:")}  # fmt: skip


def text_boxes(ax) -> dict[str, object]:
    """The window extent of every label and box (a box's rounded frame included)."""
    renderer = ax.figure.canvas.get_renderer()
    return {t.get_gid(): (t.get_bbox_patch() or t).get_window_extent(renderer)
            for t in ax.texts if not isinstance(t, Annotation) and t.get_text()}  # fmt: skip


def crosses(seg: np.ndarray, box, margin: float = 1.0) -> bool:
    """Whether the segment passes through ``box`` (grown by ``margin`` pixels)."""
    points = seg[0] + np.linspace(0, 1, 400)[:, None] * (seg[1] - seg[0])
    x, y = points[:, 0], points[:, 1]
    return bool(np.any((x > box.x0 - margin) & (x < box.x1 + margin)
                       & (y > box.y0 - margin) & (y < box.y1 + margin)))  # fmt: skip


def intersect(p: np.ndarray, q: np.ndarray) -> bool:
    """Whether two segments cross properly (touching at an end, as a bus's joints do, is not)."""

    def orient(a, b, c) -> float:
        return float(np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))

    return (orient(p[0], p[1], q[0]) * orient(p[0], p[1], q[1]) < 0
            and orient(q[0], q[1], p[0]) * orient(q[0], q[1], p[1]) < 0)  # fmt: skip


def smallest_font_shown_px(ax) -> float:
    """The smallest text of ``ax`` (title included) in pixels as JupyterLab shows the figure."""
    fig = ax.figure
    shown = min(1.0, JUPYTERLAB_WIDTH_PX / (fig.get_figwidth() * fig.dpi))
    sizes = [t.get_fontsize() for t in [*ax.texts, ax.title] if t.get_text()]
    return min(sizes) * fig.dpi / 72 * shown
