"""Notebook 07's drawing (prdqn_lib.diagrams.apex): no arrow crosses a label, a box or another
arrow, every actor gets the weights, and the text stays legible at JupyterLab's width (~900 px)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from prdqn_lib.diagrams.apex import draw_apex  # noqa: E402

JUPYTERLAB_WIDTH_PX = 900
MIN_FONT_PX = 10


def segments(ax) -> dict[str, np.ndarray]:
    """Each arrow or bus segment as its start and end point, in display pixels."""
    return {a.get_gid(): ax.transData.transform([a.xyann, a.xy]) for a in ax.texts
            if isinstance(a, Annotation) and str(a.get_gid()).startswith("arrow:")}  # fmt: skip


def text_boxes(ax) -> dict[str, object]:
    """The window extent of every label and box (a box's rounded frame included)."""
    renderer = ax.figure.canvas.get_renderer()
    return {t.get_gid(): (t.get_bbox_patch() or t).get_window_extent(renderer)
            for t in ax.texts if not isinstance(t, Annotation) and t.get_text()}  # fmt: skip


def crosses(seg: np.ndarray, box, margin: float = 1.0) -> bool:
    points = seg[0] + np.linspace(0, 1, 400)[:, None] * (seg[1] - seg[0])
    inside = ((points[:, 0] > box.x0 - margin) & (points[:, 0] < box.x1 + margin)
              & (points[:, 1] > box.y0 - margin) & (points[:, 1] < box.y1 + margin))  # fmt: skip
    return bool(inside.any())


def intersect(p: np.ndarray, q: np.ndarray) -> bool:
    """Whether two segments cross properly (touching at an end, as a bus's joints do, is not)."""

    def orient(a, b, c) -> float:
        return float(np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))

    return (orient(p[0], p[1], q[0]) * orient(p[0], p[1], q[1]) < 0
            and orient(q[0], q[1], p[0]) * orient(q[0], q[1], p[1]) < 0)  # fmt: skip


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
    fig = ax.figure
    shown = min(1.0, JUPYTERLAB_WIDTH_PX / (fig.get_figwidth() * fig.dpi))
    sizes = [t.get_fontsize() for t in [*ax.texts, ax.title] if t.get_text()]
    assert min(sizes) * fig.dpi / 72 * shown >= MIN_FONT_PX
    plt.close(fig)


def test_refuses_a_number_of_actors_it_has_no_room_for():
    with pytest.raises(ValueError, match="n_actors must be 2, 3 or 4"):
        draw_apex(5)
