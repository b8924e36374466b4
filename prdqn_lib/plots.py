"""Learning-curve plots: one run, several seeds as mean ± band, several variants on one axis."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.typing import ColorType, LineStyleType

from .recorder import History
from .stats import SOLVED_RETURN
from .variants import OKABE_ITO, variants

__all__ = [
    "OKABE_ITO",
    "VARIANT_STYLE",
    "eval_matrix",
    "moving_average",
    "plot_learning_curve",
    "plot_seeds",
    "plot_variants",
    "variant_style",
]


class _VariantStyles(Mapping[str, dict[str, Any]]):
    """name → colour and line style, read live from the variant registry (so a variant
    registered later has its style too), plus the peers the benchmarks draw (sb3-dqn)."""

    _PEERS: dict[str, dict[str, Any]] = {
        "sb3-dqn": {"color": OKABE_ITO["black"], "ls": (0, (1, 1))}
    }

    def _all(self) -> dict[str, dict[str, Any]]:
        return {**{v.name: v.style for v in variants()}, **self._PEERS}

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# One colour and line style per variant in every plot of the project (never by position).
VARIANT_STYLE: Mapping[str, dict[str, Any]] = _VariantStyles()


def variant_style(name: str) -> dict[str, Any]:
    """Colour and line style of a variant (grey, solid for a name not in VARIANT_STYLE)."""
    return dict(VARIANT_STYLE.get(name, {"color": "grey", "ls": "-"}))


def moving_average(x: npt.ArrayLike, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (shorter at the start)."""
    x = np.asarray(x, dtype=float)
    c = np.concatenate([[0.0], np.cumsum(x)])
    end = np.arange(1, x.size + 1)
    start = np.maximum(0, end - window)
    return (c[end] - c[start]) / (end - start)


def _legend_below(ax: Axes, ncol: int = 3) -> None:
    """Legend under the axes, where it can never hide a curve."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=8, frameon=False)


def _solved_line(ax: Axes) -> None:
    ax.axhline(SOLVED_RETURN, color="grey", ls="--", lw=1, label=f"solved ({SOLVED_RETURN:.0f})")


def plot_learning_curve(
    history: History,
    title: str = "",
    window: int = 20,
    ax: Axes | None = None,
    variant: str | None = None,
) -> Axes:
    """Episode returns (faint), their moving average, the greedy evaluations (dots) and the
    best evaluation (★, the checkpoint kept as ``best_agent``), in the variant's colour."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    color = variant_style(variant)["color"] if variant else OKABE_ITO["blue"]
    steps = [e["env_steps"] for e in history.episodes]
    returns = [e["episode_return"] for e in history.episodes]
    ax.plot(steps, returns, color=color, alpha=0.25, lw=0.8, label="episode return")
    ax.plot(steps, moving_average(returns, window), color=color, lw=2,
            label=f"moving average ({window} episodes)")  # fmt: skip
    if history.evals:
        ax.plot(history.eval_steps, history.eval_returns, "o-", color=OKABE_ITO["black"], ms=3,
                lw=1, label="greedy evaluation (mean of 10)")  # fmt: skip
        best = history.best_eval
        assert best is not None  # there are evaluations
        best_step, best_return = best
        ax.plot([best_step], [best_return], "*", color=OKABE_ITO["vermillion"], ms=14,
                label=f"best evaluation ({best_return:.0f} at {best_step:,})")  # fmt: skip
    solve = history.steps_to_solve()
    if solve is not None:
        ax.axvline(solve, color=OKABE_ITO["bluish green"], lw=1, label=f"solved at {solve:,} steps")
    _solved_line(ax)
    ax.set(xlabel="environment steps", ylabel="return", title=title, ylim=(0, 520))
    _legend_below(ax)
    return ax


def eval_matrix(histories: Sequence[History]) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation returns of several runs on their common evaluation steps: (steps, R[run, k])."""
    n = min(len(h.evals) for h in histories)
    steps = histories[0].eval_steps[:n]
    return steps, np.stack([h.eval_returns[:n] for h in histories])


def plot_seeds(
    histories: Sequence[History],
    label: str = "",
    color: ColorType | None = None,
    ls: LineStyleType | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Median evaluation return over seeds with its interquartile band (25th–75th percentile).

    The band and its centre line are the same statistic family (quantiles), so the line always
    lies inside the band; a mean line could leave it when a few seeds collapse.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    style = variant_style(label)
    steps, r = eval_matrix(histories)
    (line,) = ax.plot(steps, np.median(r, axis=0), color=color or style["color"],
                      ls=ls or style["ls"], lw=2,
                      label=f"{label} (median of {len(histories)} seeds)".strip())  # fmt: skip
    ax.fill_between(steps, *np.percentile(r, [25, 75], axis=0), color=line.get_color(), alpha=0.2)
    ax.set(xlabel="environment steps", ylabel="greedy evaluation return", ylim=(0, 520))
    return ax


def plot_variants(
    runs: Mapping[str, Sequence[History]], title: str = "", ax: Axes | None = None
) -> Axes:
    """Several variants on one axis, each as median and interquartile band over its seeds."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    for name, histories in runs.items():
        plot_seeds(histories, label=name, ax=ax)
    _solved_line(ax)
    ax.set_title(title)
    _legend_below(ax, ncol=2)
    return ax


def plot_solve_points(
    solves: Mapping[str, Sequence[int | None]], budget: int, ax: Axes | None = None, seed: int = 0
) -> Axes:
    """Steps to solve of every seed as a point (unsolved seeds above the budget line), with
    each variant's median and its bootstrap 95% confidence interval."""
    from .stats import bootstrap_ci

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    rng = np.random.default_rng(seed)
    unsolved_y = budget * 1.06

    def clip(v: float) -> float:  # an ∞ bound is drawn at the top
        return min(v, unsolved_y)

    for k, (name, values) in enumerate(solves.items()):
        style = variant_style(name)
        x = np.array([np.inf if v is None else float(v) for v in values])
        shown = np.where(np.isfinite(x), x, unsolved_y)
        jitter = rng.uniform(-0.18, 0.18, size=x.size)
        ax.scatter(k + jitter, shown, s=16, color=style["color"], alpha=0.7, lw=0)
        med = float(np.median(x))
        low, high = bootstrap_ci(x, np.median, seed=seed)
        ax.errorbar(k + 0.32, clip(med), yerr=[[clip(med) - clip(low)], [clip(high) - clip(med)]],
                    fmt="D", color=style["color"], ms=6, capsize=4, lw=1.5)  # fmt: skip
    ax.axhline(budget, color="grey", ls="--", lw=1)
    ax.text(-0.45, unsolved_y * 1.01, "not solved ↓", ha="left", va="bottom", fontsize=8,
            color="grey")  # fmt: skip
    ax.set_xlim(-0.5, len(solves) - 0.3)
    ax.set_xticks(range(len(solves)), list(solves), fontsize=9)
    ax.set(ylabel="environment steps to solve", ylim=(0, budget * 1.15),
           title="steps to solve: every seed, median ◆ with 95% CI")  # fmt: skip
    return ax
