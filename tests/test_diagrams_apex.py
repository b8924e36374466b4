"""Notebook 07's drawing (prdqn_lib.diagrams.apex): no arrow crosses a label, a box or another
arrow, every actor gets the weights, and the text stays legible at JupyterLab's width (~900 px)."""

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

from prdqn_lib.diagrams.apex import draw_apex  # noqa: E402


@pytest.fixture(params=[2, 3, 4], ids=lambda n: f"{n}actors")
def apex_ax(request):
    ax = draw_apex(request.param)
    ax.figure.canvas.draw()
    yield ax, request.param
    plt.close(ax.figure)


def test_every_role_and_flow_is_drawn(apex_ax):
    ax, n = apex_ax
    gids = set(text_boxes(ax)) | set(segments(ax))
    assert {f"box:actor{i}" for i in range(n)} | {"box:replay", "box:learner"} <= gids
    assert {f"arrow:actor{i}->replay" for i in range(n)} <= gids  # every actor sends blocks
    assert {f"arrow:bus->actor{i}" for i in range(n)} <= gids  # ... and receives weights
    assert {"arrow:replay->learner", "arrow:learner->replay"} <= gids
    assert {"label:blocks", "label:batches", "label:new-td", "label:weights"} <= gids


def test_no_arrow_crosses_a_label_or_a_box(apex_ax):
    ax, _ = apex_ax
    texts = text_boxes(ax)
    for gid, seg in segments(ax).items():
        for name, box in texts.items():
            assert not crosses(seg, box), f"{gid} crosses {name}"


def test_no_two_arrows_cross_and_no_two_texts_overlap(apex_ax):
    ax, _ = apex_ax
    for (g1, s1), (g2, s2) in itertools.combinations(segments(ax).items(), 2):
        assert not intersect(s1, s2), f"{g1} crosses {g2}"
    for (g1, b1), (g2, b2) in itertools.combinations(text_boxes(ax).items(), 2):
        assert not b1.overlaps(b2), f"{g1} overlaps {g2}"


def test_the_check_catches_an_arrow_through_a_label(apex_ax):
    ax, _ = apex_ax
    label = text_boxes(ax)["label:batches"]
    through = np.array([[label.x0 - 20, (label.y0 + label.y1) / 2],
                        [label.x1 + 20, (label.y0 + label.y1) / 2]])  # fmt: skip
    assert crosses(through, label)
    assert not crosses(segments(ax)["arrow:replay->learner"], label)


def test_legible_at_jupyterlab_width():
    ax = draw_apex()
    assert smallest_font_shown_px(ax) >= MIN_FONT_PX
    plt.close(ax.figure)


def test_refuses_a_number_of_actors_it_has_no_room_for():
    with pytest.raises(ValueError, match="n_actors must be 2, 3 or 4"):
        draw_apex(5)
