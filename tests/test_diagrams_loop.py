"""Notebook 01's drawings (prdqn_lib.diagrams.loop): no arrow crosses a label, a box or another
arrow, and the text stays legible at the width JupyterLab shows a figure (about 900 px)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from diagram_checks import (  # noqa: E402
    MIN_FONT_PX,
    crosses,
    intersect,
    segments,
    smallest_font_shown_px,
    text_boxes,
)

from prdqn_lib.diagrams.loop import draw_dqn_loop, draw_ring  # noqa: E402


@pytest.fixture
def loop_ax():
    ax = draw_dqn_loop()
    ax.figure.canvas.draw()
    yield ax
    plt.close(ax.figure)


def test_the_loop_has_five_boxes_six_arrows_and_a_label_per_arrow(loop_ax):
    boxes = [g for g in text_boxes(loop_ax) if g.startswith("box:")]
    labels = [g for g in text_boxes(loop_ax) if g.startswith("label:")]
    assert len(boxes) == 5
    assert len(segments(loop_ax)) == len(labels) == 6


def test_no_arrow_crosses_a_label_or_a_box(loop_ax):
    texts = text_boxes(loop_ax)
    for gid, seg in segments(loop_ax).items():
        for name, box in texts.items():
            assert not crosses(seg, box), f"{gid} crosses {name}"


def test_no_two_arrows_cross(loop_ax):
    for (g1, s1), (g2, s2) in itertools.combinations(segments(loop_ax).items(), 2):
        assert not intersect(s1, s2), f"{g1} crosses {g2}"


def test_no_two_texts_overlap(loop_ax):
    for (g1, b1), (g2, b2) in itertools.combinations(text_boxes(loop_ax).items(), 2):
        assert not b1.overlaps(b2), f"{g1} overlaps {g2}"


def test_the_check_catches_an_arrow_through_a_box(loop_ax):
    texts, seg = text_boxes(loop_ax), segments(loop_ax)["arrow:env->memory"]
    through = np.array([seg[0], loop_ax.transData.transform([4.6, 0.8])])  # into memory's centre
    assert crosses(through, texts["box:memory"])
    assert not crosses(seg, texts["box:memory"])


@pytest.mark.parametrize("draw", [draw_dqn_loop, lambda: draw_ring([5, 6, 2, 3, 4], 2)])
def test_legible_at_jupyterlab_width(draw):
    ax = draw()
    assert smallest_font_shown_px(ax) >= MIN_FONT_PX
    plt.close(ax.figure)
