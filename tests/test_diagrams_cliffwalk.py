"""Notebook 06's drawing (prdqn_lib.diagrams.cliffwalk): the chain shows the alternating right
action, no arrow crosses a label, a state or another arrow, and the text stays legible at the
width JupyterLab shows a figure (about 900 px)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from diagram_checks import (  # noqa: E402
    MIN_FONT_PX,
    crosses,
    intersect,
    segments,
    smallest_font_shown_px,
    text_boxes,
)

from prdqn_lib.diagrams.cliffwalk import draw_chain  # noqa: E402


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
    assert len(segments(ax)) == 10


def test_no_arrow_crosses_a_label_or_a_state(ax):
    boxes = text_boxes(ax)
    for gid, seg in segments(ax).items():
        for name, box in boxes.items():
            assert not crosses(seg, box), f"{gid} crosses {name}"


def test_no_two_arrows_cross_and_no_two_texts_overlap(ax):
    segs = segments(ax)
    for (g1, s1), (g2, s2) in itertools.combinations(segs.items(), 2):
        assert not intersect(s1, s2), f"{g1} crosses {g2}"
    for (g1, b1), (g2, b2) in itertools.combinations(text_boxes(ax).items(), 2):
        assert not b1.overlaps(b2), f"{g1} overlaps {g2}"


def test_a_wrong_length_of_right_is_refused():
    with pytest.raises(ValueError):
        draw_chain(3, right=[1, 0])


def test_legible_at_jupyterlab_width(ax):
    assert smallest_font_shown_px(ax) >= MIN_FONT_PX
