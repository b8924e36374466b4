"""Notebook 06's drawing (prdqn_lib.diagrams.cliffwalk): the chain shows the alternating right
action, no arrow crosses a label, a state or another arrow, and the text stays legible at the
width JupyterLab shows a figure (about 900 px)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from prdqn_lib.diagrams.cliffwalk import draw_chain  # noqa: E402

JUPYTERLAB_WIDTH_PX = 900
MIN_FONT_PX = 10


def _segments(ax) -> dict[str, np.ndarray]:
    return {a.get_gid(): ax.transData.transform([a.xyann, a.xy]) for a in ax.texts
            if isinstance(a, Annotation) and str(a.get_gid()).startswith("arrow:")}  # fmt: skip


def _text_boxes(ax) -> dict[str, object]:
    renderer = ax.figure.canvas.get_renderer()
    return {t.get_gid(): t.get_window_extent(renderer) for t in ax.texts
            if not isinstance(t, Annotation) and t.get_text()}  # fmt: skip


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def _crosses(seg: np.ndarray, box, margin: float = 1.0) -> bool:
    points = seg[0] + np.linspace(0, 1, 400)[:, None] * (seg[1] - seg[0])
    x, y = points[:, 0], points[:, 1]
    return bool(np.any((x > box.x0 - margin) & (x < box.x1 + margin)
                       & (y > box.y0 - margin) & (y < box.y1 + margin)))  # fmt: skip


@pytest.fixture
def ax():
    ax = draw_chain(5)
    ax.figure.canvas.draw()
    yield ax
    plt.close(ax.figure)


def test_the_right_action_alternates_and_each_arrow_is_labelled(ax):
    texts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_text()}
    assert [texts[f"label:right:{k}"] for k in range(5)] == [f"$a = {1 - k % 2}$" for k in range(5)]
    assert [texts[f"label:wrong:{k}"] for k in range(5)] == [f"$a = {k % 2}$" for k in range(5)]
    assert len(_segments(ax)) == 10


def test_no_arrow_crosses_a_label_or_a_state(ax):
    boxes = _text_boxes(ax)
    for gid, seg in _segments(ax).items():
        for name, box in boxes.items():
            assert not _crosses(seg, box), f"{gid} crosses {name}"


def test_no_two_arrows_cross_and_no_two_texts_overlap(ax):
    segs = _segments(ax)
    for (g1, s1), (g2, s2) in itertools.combinations(segs.items(), 2):
        d = _cross(s1[1] - s1[0], s2[1] - s2[0])
        t, u = _cross(s2[0] - s1[0], s2[1] - s2[0]), _cross(s2[0] - s1[0], s1[1] - s1[0])
        assert d == 0 or not (0 < t / d < 1 and 0 < u / d < 1), f"{g1} crosses {g2}"
    for (g1, b1), (g2, b2) in itertools.combinations(_text_boxes(ax).items(), 2):
        assert not b1.overlaps(b2), f"{g1} overlaps {g2}"


def test_a_wrong_length_of_right_is_refused():
    with pytest.raises(ValueError):
        draw_chain(3, right=[1, 0])


def test_legible_at_jupyterlab_width(ax):
    fig = ax.figure
    shown = min(1.0, JUPYTERLAB_WIDTH_PX / (fig.get_figwidth() * fig.dpi))
    sizes = [t.get_fontsize() for t in ax.texts if t.get_text()]
    assert min(sizes) * fig.dpi / 72 * shown >= MIN_FONT_PX
