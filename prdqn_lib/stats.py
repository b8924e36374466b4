"""Run statistics: solve step, stability after solving, and bootstrap confidence intervals.

The summaries of a set of seeds follow Agarwal et al. (2021), "Deep RL at the edge of the
statistical precipice": report the median and the interquartile mean (IQM, the mean of the
middle 50% of runs) with bootstrap 95% confidence intervals, and show every seed's point.
The bootstrap is scipy's (``scipy.stats.bootstrap``, percentile method), not hand-rolled.

An interval is only shown where its method works. A percentile bootstrap whose resamples are
all equal (every seed at the 500 ceiling, every seed unsolved = ∞) or whose interval has zero
width says nothing about uncertainty: ``bootstrap_ci(..., details=True)``, ``difference_ci(...,
details=True)`` and the new functions return an :class:`Interval` with ``degenerate=True``, no
bounds and a ``reason``; ``summarize`` adds ``median_ci_degenerate``/``median_ci_reason`` (and
the same for the IQM) beside the old tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "iqm",
    "bootstrap_ci",
    "difference_ci",
    "solve_index",
    "stability",
    "summarize",
    "Interval",
]

SOLVED_RETURN = 475.0  # CartPole-v1's reward threshold


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval, or an explicit "no interval".

    ``low``/``high`` are None when ``degenerate`` is True; ``reason`` then says why the method
    cannot give an interval here (e.g. every bootstrap resample equal). An infinite bound is a
    real bound ("not solved within the budget" cannot be excluded), not a degenerate one.
    """

    point: float
    low: float | None
    high: float | None
    confidence: float
    method: str
    degenerate: bool = False
    reason: str | None = None

    @property
    def bounds(self) -> tuple[float, float] | None:
        """(low, high), or None where the method gives no interval."""
        if self.degenerate or self.low is None or self.high is None:
            return None
        return self.low, self.high

    def format(self, digits: int = 0) -> str:
        """'12,500 [10,500, 15,000]', or '500 (no interval: <reason>)'."""

        def f(v: float) -> str:
            return "∞" if v == np.inf else "−∞" if v == -np.inf else f"{v:,.{digits}f}"

        if self.bounds is None:
            return f"{f(self.point)} (no interval: {self.reason})"
        return f"{f(self.point)} [{f(self.low)}, {f(self.high)}]"


def _percentile(values: np.ndarray, q: float) -> float:
    """np.percentile (linear), but inf-safe: numpy's interpolation gives NaN next to an inf
    (np.percentile([1, 2, inf], 50) is NaN, not 2)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        v = float(np.percentile(values, q))
    if not np.isnan(v) or np.isnan(values).any():
        return v
    a = np.sort(values)
    h = (a.size - 1) * q / 100.0
    lo, hi = int(np.floor(h)), int(np.ceil(h))
    frac = h - lo
    if frac == 0.0 or a[lo] == a[hi]:
        return float(a[lo])
    return float(a[lo] + (a[hi] - a[lo]) * frac)


def _fmt(v: float) -> str:
    return "∞" if v == np.inf else "−∞" if v == -np.inf else f"{v:g}"


def _judge_bootstrap(
    point: float, dist: np.ndarray, confidence: float, method: str = "percentile bootstrap"
) -> Interval:
    """The percentile interval of a bootstrap distribution, or a degenerate marker."""
    dist = np.asarray(dist, dtype=float).ravel()
    alpha = (1.0 - confidence) / 2.0
    if np.isnan(dist).any():
        share = float(np.isnan(dist).mean())
        return Interval(point, None, None, confidence, method, True,
                        f"the statistic is undefined (NaN, e.g. ∞ − ∞) on {share:.0%} of the "
                        "resamples")  # fmt: skip
    if np.all(dist == dist[0]):
        return Interval(point, None, None, confidence, method, True,
                        f"all {dist.size} resamples give {_fmt(dist[0])} (all or nearly all runs "
                        "at one value, e.g. the 500 ceiling or unsolved = ∞): the bootstrap has "
                        "no spread, which is not evidence that the value is exact")  # fmt: skip
    low, high = _percentile(dist, 100 * alpha), _percentile(dist, 100 * (1 - alpha))
    if low == high:
        share = float((dist == low).mean())
        return Interval(point, None, None, confidence, method, True,
                        f"the {confidence:.0%} interval has zero width: {share:.1%} of the "
                        f"resamples give {_fmt(low)} (a ceiling or a tied majority); report how "
                        "many runs sit there, with proportion_ci")  # fmt: skip
    return Interval(point, low, high, confidence, method)


def iqm(x) -> float:
    """Interquartile mean: the mean of the middle 50% of the values (25% trimmed each side).

    Unlike the median it uses half the data; unlike the mean one outlier cannot move it much.
    ``inf`` values (e.g. "not solved within the budget") are allowed and sort last.
    """
    from scipy.stats import trim_mean

    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return float("nan")
    return float(trim_mean(x, 0.25))


def bootstrap_ci(
    x,
    statistic=np.median,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
    *,
    details: bool = False,
) -> tuple[float, float] | Interval:
    """Percentile bootstrap confidence interval of ``statistic`` over the runs ``x``.

    Returns (low, high). With fewer than 2 values, or a statistic that is the same on every
    resample, the interval collapses to the point estimate. With ``details=True`` it returns
    an :class:`Interval` instead, which marks those cases ``degenerate`` (no bounds, a reason)
    rather than showing [v, v] as if it were evidence; also degenerate: a zero-width interval
    (e.g. 19 of 20 seeds at the 500 ceiling) and a statistic undefined on some resamples.

    Bounds next to an ∞ are computed exactly (numpy's interpolation gives NaN there; such a
    bound used to be replaced by the point estimate).
    """
    x = np.asarray(x, dtype=float)
    point, dist, scipy_ci, method = _bootstrap_distribution(
        x, statistic, confidence, n_resamples, seed
    )
    if details:
        return _interval_of(point, dist, confidence, method, x.size)
    return _old_bounds(point, dist, scipy_ci, confidence)


def _bootstrap_distribution(
    x: np.ndarray, statistic: Callable, confidence: float, n_resamples: int, seed: int
) -> tuple[float, np.ndarray | None, tuple[float, float] | None, str]:
    """statistic(x), scipy's percentile-bootstrap distribution and interval (None if < 2
    values), and the method's name."""
    import warnings

    from scipy.stats import bootstrap

    method = f"percentile bootstrap over runs ({n_resamples} resamples)"
    if x.size < 2:
        return (float(statistic(x)) if x.size else float("nan")), None, None, method
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # inf (unsolved) values make some resample spreads NaN: harmless for percentiles
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bootstrap(
            (x,),
            statistic,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            vectorized=False,
            rng=np.random.default_rng(seed),
        )
    dist = np.asarray(res.bootstrap_distribution, dtype=float)
    ci = (float(res.confidence_interval.low), float(res.confidence_interval.high))
    return float(statistic(x)), dist, ci, method


def _interval_of(
    point: float, dist: np.ndarray | None, confidence: float, method: str, n: int
) -> Interval:
    if dist is None:
        return Interval(point, None, None, confidence, method, True,
                        f"{n} value(s): nothing to resample")  # fmt: skip
    return _judge_bootstrap(point, dist, confidence, method)


def _old_bounds(
    point: float,
    dist: np.ndarray | None,
    scipy_ci: tuple[float, float] | None,
    confidence: float,
) -> tuple[float, float]:
    """bootstrap_ci's historical (low, high): scipy's bounds, a NaN bound (an interpolation
    next to ∞) recomputed inf-safely, the point where there is no distribution."""
    if dist is None or scipy_ci is None:
        return point, point
    alpha = (1.0 - confidence) / 2.0
    low, high = scipy_ci
    if np.isnan(low):
        low = _percentile(dist, 100 * alpha)
    if np.isnan(high):
        high = _percentile(dist, 100 * (1 - alpha))
    # a degenerate bootstrap distribution gives NaN bounds: the interval is the point
    low = point if np.isnan(low) else float(low)
    high = point if np.isnan(high) else float(high)
    return low, high


def difference_ci(
    x,
    y,
    statistic=np.median,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
    *,
    details: bool = False,
) -> tuple[float, float, float] | Interval:
    """statistic(x) − statistic(y) and its percentile-bootstrap CI, resampling x and y apart.

    Returns (difference, low, high). A CI that contains 0 means the data cannot tell the two
    apart at this confidence: say "no detectable difference", not "A beats B". With
    ``details=True``: an :class:`Interval` of the difference, ``degenerate`` where every
    resample gives the same difference, the interval has zero width, or the difference is
    undefined on some resamples (∞ − ∞). For runs that share seeds use
    :func:`paired_difference`, which pairs them.
    """
    import warnings

    from scipy.stats import bootstrap

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def diff(a, b):
        return statistic(a) - statistic(b)

    with np.errstate(invalid="ignore"):
        point = float(diff(x, y))
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bootstrap((x, y), diff, confidence_level=confidence, n_resamples=n_resamples,
                        method="percentile", vectorized=False,
                        rng=np.random.default_rng(seed))  # fmt: skip
    if details:
        method = f"percentile bootstrap, x and y resampled apart ({n_resamples} resamples)"
        return _judge_bootstrap(point, res.bootstrap_distribution, confidence, method)
    low, high = res.confidence_interval
    return point, float(low), float(high)


def solve_index(returns: Sequence[float], threshold: float = SOLVED_RETURN, consecutive: int = 2):
    """Index of the first of ``consecutive`` evaluations in a row ≥ threshold, or None."""
    run = 0
    for k, r in enumerate(returns):
        run = run + 1 if r >= threshold else 0
        if run == consecutive:
            return k - consecutive + 1
    return None


def stability(
    returns: Sequence[float], threshold: float = SOLVED_RETURN, consecutive: int = 2
) -> tuple[int, int]:
    """(evaluations ≥ threshold, evaluations counted) after the solve.

    Counting starts at the third evaluation after the solve began: the ``consecutive``
    evaluations that *define* the solve are ≥ threshold by construction and are not counted.
    (0, 0) if the run never solved or ended right after solving.
    """
    k = solve_index(returns, threshold, consecutive)
    if k is None:
        return 0, 0
    later = np.asarray(returns[k + consecutive :], dtype=float)
    return int((later >= threshold).sum()), int(later.size)


def summarize(values, seed: int = 0) -> dict:
    """Median and IQM with bootstrap 95% CIs of one measure over seeds (inf allowed).

    ``median_ci``/``iqm_ci`` are (low, high) as before; ``median_ci_degenerate`` and
    ``median_ci_reason`` (likewise ``iqm_ci_…``) say when that tuple is no interval at all
    (see :func:`bootstrap_ci` with ``details=True``): show the reason, not the tuple, then.
    """
    x = np.asarray(values, dtype=float)
    out: dict = {"n": int(x.size)}
    for name, stat in (("median", np.median), ("iqm", iqm)):
        point, dist, scipy_ci, method = _bootstrap_distribution(x, stat, 0.95, 10_000, seed)
        detail = _interval_of(point, dist, 0.95, method, x.size)
        if name == "median":
            out["median"] = float(np.median(x)) if x.size else float("nan")
        else:
            out["iqm"] = iqm(x)
        out[f"{name}_ci"] = _old_bounds(point, dist, scipy_ci, 0.95)
        out[f"{name}_ci_degenerate"] = detail.degenerate
        out[f"{name}_ci_reason"] = detail.reason
    return out
