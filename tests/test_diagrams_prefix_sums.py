"""Notebook 03's prefix-sum picture (prdqn_lib.diagrams.prefix_sums): the right interval is hit,
every label sits inside its own interval, the arrow stops above the bar, the text is legible."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from prdqn_lib.diagrams.prefix_sums import draw_prefix_sums  # noqa: E402

TD, EPS, U = [0.5, 2.0, 0.3, 1.5, 0.05, 1.0], 0.05, 3.6  # notebook 03's example


def test_the_draw_hits_the_interval_that_holds_it():
    fig, c, hit = draw_prefix_sums(TD, EPS, U)
    np.testing.assert_allclose(c, np.cumsum(np.abs(TD) + EPS))
    assert c[-1] == pytest.approx(5.65) and hit == 3 and c[hit - 1] <= U < c[hit]
    for u in (0.0, 0.5499, 0.55, c[-1] - 1e-9):  # brute force at the edges
        _, _, k = draw_prefix_sums(TD, EPS, u)
        assert k == next(i for i in range(len(c)) if u < c[i])
    plt.close("all")


def test_labels_stay_in_their_intervals_and_the_arrow_above_the_bar():
    fig, c, hit = draw_prefix_sums(TD, EPS, U)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(TD) and bars[hit].get_linewidth() > bars[0].get_linewidth()
    inside = [t for t in ax.texts if not isinstance(t, Annotation) and t.get_position()[1] == 0]
    assert len(inside) == len(TD)
    for bar, label in zip(bars, inside, strict=True):
        box, text = bar.get_window_extent(renderer), label.get_window_extent(renderer)
        if bar.get_width() > 0.5:  # a sliver carries only its index, centred on it
            assert box.x0 <= text.x0 and text.x1 <= box.x1, label.get_text()
    (arrow,) = [t for t in ax.texts if isinstance(t, Annotation)]
    assert arrow.xy[1] > 0.25  # the bar's top: the arrow crosses no label inside it
    assert min(t.get_fontsize() for t in ax.texts) >= 10
    plt.close("all")


@pytest.mark.parametrize("u", [-0.1, 5.65, 7.0])
def test_a_draw_outside_the_total_is_refused(u):
    with pytest.raises(ValueError, match=r"u must lie in \[0, S\)"):
        draw_prefix_sums(TD, EPS, u)
