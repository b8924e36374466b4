"""Notebook 01's drawings (prdqn_lib.diagrams.loop): no arrow crosses a label, a box or another
arrow, and the text stays legible at the width JupyterLab shows a figure (about 900 px)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from prdqn_lib.diagrams.loop import draw_dqn_loop, draw_ring  # noqa: E402

JUPYTERLAB_WIDTH_PX = 900
MIN_FONT_PX = 10


def _segments(ax) -> dict[str, np.ndarray]:
    """Each arrow as its start and end point, in display pixels."""
    out = {}
    for a in ax.texts:
        if isinstance(a, Annotation) and str(a.get_gid()).startswith("arrow:"):
            out[a.get_gid()] = ax.transData.transform([a.xyann, a.xy])
    return out


def _text_boxes(ax) -> dict[str, object]:
    """The window extent of every label and box (a box's rounded frame included)."""
    renderer = ax.figure.canvas.get_renderer()
    out = {}
    for t in ax.texts:
        if isinstance(t, Annotation) or not t.get_text():
            continue
        patch = t.get_bbox_patch()
        out[t.get_gid()] = (patch or t).get_window_extent(renderer)
    return out


def _crosses(seg: np.ndarray, box, margin: float = 1.0) -> bool:
    points = seg[0] + np.linspace(0, 1, 400)[:, None] * (seg[1] - seg[0])
    return bool(
        np.any(
            (points[:, 0] > box.x0 - margin)
            & (points[:, 0] < box.x1 + margin)
            & (points[:, 1] > box.y0 - margin)
            & (points[:, 1] < box.y1 + margin)
        )
    )


def _intersect(p: np.ndarray, q: np.ndarray) -> bool:
    def orient(a, b, c) -> float:
        return float(np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))

    return (
        orient(p[0], p[1], q[0]) * orient(p[0], p[1], q[1]) < 0
        and orient(q[0], q[1], p[0]) * orient(q[0], q[1], p[1]) < 0
    )


@pytest.fixture
def loop_ax():
    ax = draw_dqn_loop()
    ax.figure.canvas.draw()
    yield ax
    plt.close(ax.figure)


def test_the_loop_has_five_boxes_six_arrows_and_a_label_per_arrow(loop_ax):
    boxes = [g for g in _text_boxes(loop_ax) if g.startswith("box:")]
    labels = [g for g in _text_boxes(loop_ax) if g.startswith("label:")]
    assert len(boxes) == 5
    assert len(_segments(loop_ax)) == len(labels) == 6


def test_no_arrow_crosses_a_label_or_a_box(loop_ax):
    texts = _text_boxes(loop_ax)
    for gid, seg in _segments(loop_ax).items():
        for name, box in texts.items():
            assert not _crosses(seg, box), f"{gid} crosses {name}"


def test_no_two_arrows_cross(loop_ax):
    for (g1, s1), (g2, s2) in itertools.combinations(_segments(loop_ax).items(), 2):
        assert not _intersect(s1, s2), f"{g1} crosses {g2}"


def test_no_two_texts_overlap(loop_ax):
    for (g1, b1), (g2, b2) in itertools.combinations(_text_boxes(loop_ax).items(), 2):
        assert not b1.overlaps(b2), f"{g1} overlaps {g2}"


def test_the_check_catches_an_arrow_through_a_box(loop_ax):
    texts, seg = _text_boxes(loop_ax), _segments(loop_ax)["arrow:env->memory"]
    through = np.array([seg[0], loop_ax.transData.transform([4.6, 0.8])])  # into memory's centre
    assert _crosses(through, texts["box:memory"])
    assert not _crosses(seg, texts["box:memory"])


@pytest.mark.parametrize("draw", [draw_dqn_loop, lambda: draw_ring([5, 6, 2, 3, 4], 2)])
def test_legible_at_jupyterlab_width(draw):
    ax = draw()
    fig = ax.figure
    width_px = fig.get_figwidth() * fig.dpi
    shown = min(1.0, JUPYTERLAB_WIDTH_PX / width_px)  # JupyterLab shrinks wider images to fit
    sizes = [t.get_fontsize() for t in [*ax.texts, ax.title] if t.get_text()]
    assert min(sizes) * fig.dpi / 72 * shown >= MIN_FONT_PX
    plt.close(fig)
