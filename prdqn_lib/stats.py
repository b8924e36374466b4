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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "iqm",
    "bootstrap_ci",
    "difference_ci",
    "solve_index",
    "stability",
    "summarize",
    "Interval",
    "end_return",
    "ends_solved",
    "proportion_ci",
    "holm",
    "primary_comparisons",
    "PairedDifference",
    "paired_difference",
    "hodges_lehmann",
    "McNemarResult",
    "mcnemar_exact",
    "KMCurve",
    "km_curve",
    "restricted_mean_time",
    "LogRankResult",
    "logrank_test",
    "probability_of_improvement",
    "PerformanceProfile",
    "performance_profile",
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

        bounds = self.bounds
        if bounds is None:
            return f"{f(self.point)} (no interval: {self.reason})"
        return f"{f(self.point)} [{f(bounds[0])}, {f(bounds[1])}]"


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
        return Interval(
            point,
            None,
            None,
            confidence,
            method,
            True,
            f"the statistic is undefined (NaN, e.g. ∞ − ∞) on {share:.0%} of the resamples",
        )
    if np.all(dist == dist[0]):
        return Interval(
            point,
            None,
            None,
            confidence,
            method,
            True,
            f"all {dist.size} resamples give {_fmt(dist[0])} (all or nearly all runs "
            "at one value, e.g. the 500 ceiling or unsolved = ∞): the bootstrap has "
            "no spread, which is not evidence that the value is exact",
        )
    low, high = _percentile(dist, 100 * alpha), _percentile(dist, 100 * (1 - alpha))
    if low == high:
        share = float((dist == low).mean())
        return Interval(
            point,
            None,
            None,
            confidence,
            method,
            True,
            f"the {confidence:.0%} interval has zero width: {share:.1%} of the "
            f"resamples give {_fmt(low)} (a ceiling or a tied majority); report how "
            "many runs sit there, with proportion_ci",
        )
    return Interval(point, low, high, confidence, method)


def iqm(x: ArrayLike) -> float:
    """Interquartile mean: the mean of the middle 50% of the values (25% trimmed each side).

    Unlike the median it uses half the data; unlike the mean one outlier cannot move it much.
    ``inf`` values (e.g. "not solved within the budget") are allowed and sort last.
    """
    from scipy.stats import trim_mean

    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return float("nan")
    return float(trim_mean(x, 0.25))


@overload
def bootstrap_ci(
    x: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: Literal[False] = ...,
) -> tuple[float, float]: ...
@overload
def bootstrap_ci(
    x: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: Literal[True],
) -> Interval: ...
@overload
def bootstrap_ci(
    x: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: bool,
) -> tuple[float, float] | Interval: ...
def bootstrap_ci(
    x: ArrayLike,
    statistic: Callable[[np.ndarray], float] = np.median,
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

    Args:
        x: one value per run (∞ allowed, e.g. unsolved).
        statistic: a function of a 1-D array (np.median, iqm, np.mean, …).
        confidence: the interval's level.
        n_resamples: bootstrap resamples.
        seed: seeds the resampling.
        details: return an Interval (with the degenerate marker) instead of the tuple.

    Returns:
        (low, high), or an Interval if ``details``.
    """
    x = np.asarray(x, dtype=float)
    point, dist, scipy_ci, method = _bootstrap_distribution(
        x, statistic, confidence, n_resamples, seed
    )
    if details:
        return _interval_of(point, dist, confidence, method, x.size)
    return _old_bounds(point, dist, scipy_ci, confidence)


def _bootstrap_distribution(
    x: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    confidence: float,
    n_resamples: int,
    seed: int,
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
        return Interval(
            point, None, None, confidence, method, True, f"{n} value(s): nothing to resample"
        )
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


@overload
def difference_ci(
    x: ArrayLike,
    y: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: Literal[False] = ...,
) -> tuple[float, float, float]: ...
@overload
def difference_ci(
    x: ArrayLike,
    y: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: Literal[True],
) -> Interval: ...
@overload
def difference_ci(
    x: ArrayLike,
    y: ArrayLike,
    statistic: Callable[[np.ndarray], float] = ...,
    confidence: float = ...,
    n_resamples: int = ...,
    seed: int = ...,
    *,
    details: bool,
) -> tuple[float, float, float] | Interval: ...
def difference_ci(
    x: ArrayLike,
    y: ArrayLike,
    statistic: Callable[[np.ndarray], float] = np.median,
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

    Args:
        x, y: the runs of the two variants (not paired).
        statistic: applied to each sample; the difference is statistic(x) − statistic(y).
        confidence, n_resamples, seed: as in :func:`bootstrap_ci`.
        details: return an Interval of the difference instead of the tuple.

    Returns:
        (difference, low, high), or an Interval if ``details``.
    """
    import warnings

    from scipy.stats import bootstrap

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def diff(a: np.ndarray, b: np.ndarray) -> float:
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


def solve_index(
    returns: Iterable[float], threshold: float = SOLVED_RETURN, consecutive: int = 2
) -> int | None:
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


def summarize(values: ArrayLike, seed: int = 0) -> dict[str, Any]:
    """Median and IQM with bootstrap 95% CIs of one measure over seeds (inf allowed).

    ``median_ci``/``iqm_ci`` are (low, high) as before; ``median_ci_degenerate`` and
    ``median_ci_reason`` (likewise ``iqm_ci_…``) say when that tuple is no interval at all
    (see :func:`bootstrap_ci` with ``details=True``): show the reason, not the tuple, then.

    Args:
        values: one value per seed (∞ = unsolved).
        seed: seeds the bootstrap.

    Returns:
        {"n", "median", "median_ci", "median_ci_degenerate", "median_ci_reason", "iqm",
        "iqm_ci", "iqm_ci_degenerate", "iqm_ci_reason"}.
    """
    x = np.asarray(values, dtype=float)
    out: dict[str, Any] = {"n": int(x.size)}
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


# ------------------------------------------------------------------ end of training, shares


def end_return(eval_returns: Sequence[float], last: int = 5) -> float:
    """End-of-training return: the mean of the last ``last`` evaluation returns.

    ``mean(eval_returns[-last:])``. One evaluation is noisy (a run can collapse and recover
    between two); the mean of the last five is the end state the series reports. Raises
    ValueError with fewer than ``last`` evaluations: a mean of two is not comparable to a mean
    of five.

    Args:
        eval_returns: the run's evaluation returns in training order.
        last: how many of the last evaluations to average.

    Returns:
        The mean of the last ``last`` returns.
    """
    r = np.asarray(eval_returns, dtype=float)
    if last < 1:
        raise ValueError(f"last must be ≥ 1, got {last}")
    if r.size < last:
        raise ValueError(f"{r.size} evaluation(s), fewer than last={last}")
    return float(r[-last:].mean())


def ends_solved(
    eval_returns: Sequence[float], threshold: float = SOLVED_RETURN, last: int = 5
) -> bool:
    """Whether a run ends solved: ``end_return(eval_returns, last) ≥ threshold`` (475).

    The mean of the last five evaluations, not each of them: a run whose last five read 500,
    500, 500, 500, 374 (mean 474.8) has not ended solved.

    Args:
        eval_returns: the run's evaluation returns in training order.
        threshold: the solved return (475 for CartPole-v1).
        last: how many of the last evaluations to average.

    Returns:
        True if the mean of the last ``last`` evaluations is ≥ threshold.
    """
    return end_return(eval_returns, last) >= threshold


def proportion_ci(k: int, n: int, confidence: float = 0.95, method: str = "wilson") -> Interval:
    """A share of seeds (k of n, e.g. solved 18/20) with its binomial confidence interval.

    ``method="wilson"`` (Wilson 1927): the score interval,
    (k + z²/2 ± z·sqrt(k(n−k)/n + z²/4)) / (n + z²); ``"exact"``: Clopper & Pearson (1934),
    [Beta⁻¹(α/2; k, n−k+1), Beta⁻¹(1−α/2; k+1, n−k)], never below its nominal coverage.
    Both stay informative at 0/n and n/n (unlike a bootstrap, which collapses to [1, 1]).
    Computed by ``scipy.stats.binomtest(k, n).proportion_ci``. n = 0 gives no interval.

    Args:
        k: seeds with the outcome (e.g. solved).
        n: seeds in all.
        confidence: the interval's level.
        method: "wilson", "exact" (Clopper–Pearson) or "wilsoncc".

    Returns:
        Interval with point k/n; degenerate only when n = 0.
    """
    from scipy.stats import binomtest

    k, n = int(k), int(n)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 ≤ k ≤ n, got k={k}, n={n}")
    if method not in ("wilson", "exact", "wilsoncc"):
        raise ValueError(f"method must be 'wilson', 'exact' or 'wilsoncc', got {method!r}")
    name = {
        "wilson": "Wilson score",
        "exact": "Clopper–Pearson exact",
        "wilsoncc": "Wilson score, continuity-corrected",
    }[method]
    if n == 0:
        return Interval(float("nan"), None, None, confidence, name, True, "no runs (n = 0)")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method=method)
    return Interval(k / n, float(ci.low), float(ci.high), confidence, name)


# ----------------------------------------------------------------------- multiple comparisons


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni step-down adjusted p-values (Holm 1979), in the input order.

    With the m p-values sorted, p_(1) ≤ … ≤ p_(m):
    p̃_(i) = min(1, max_{j ≤ i} (m − j + 1) · p_(j)).
    The running max makes the adjusted values monotone in the raw ones, so rejecting
    "p̃_i ≤ α" is exactly Holm's procedure: reject H_(1), H_(2), … while
    p_(j) ≤ α / (m − j + 1), stop at the first that fails. Controls the family-wise error
    rate at α under any dependence. The values of statsmodels'
    ``multipletests(method="holm")`` (checked on hand-worked cases).

    Args:
        pvalues: the raw p-values of one family, each in [0, 1].

    Returns:
        The Holm-adjusted p-values, in the order of ``pvalues``.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError("pvalues must be one-dimensional")
    if np.isnan(p).any() or ((p < 0) | (p > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def primary_comparisons(tests: Mapping[str, float], alpha: float = 0.05) -> list[dict[str, Any]]:
    """The declared-in-advance family of primary comparisons, Holm-adjusted together.

    ``tests`` maps each comparison's name to its raw p-value; declare the family before
    looking at the data. Returns one row per comparison, in the given order:
    ``{"comparison", "p", "p_holm", "supported", "family"}`` with supported = p_holm ≤ α
    (Holm 1979). Any other test a notebook runs is exploratory: the caller labels it so and
    claims nothing from it.

    Args:
        tests: comparison name → raw p-value, the whole primary family.
        alpha: the family-wise error rate.

    Returns:
        A list of rows (dicts), one per comparison in the given order.
    """
    if not tests:
        raise ValueError("the primary family is empty: declare at least one comparison")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    names = list(tests)
    raw = [float(tests[k]) for k in names]
    adjusted = holm(raw)
    family = f"primary (Holm over {len(names)}, α = {alpha:g})"
    return [
        {
            "comparison": name,
            "p": p,
            "p_holm": float(a),
            "supported": bool(a <= alpha),
            "family": family,
        }
        for name, p, a in zip(names, raw, adjusted, strict=True)
    ]


# ------------------------------------------------------------------------ paired by seed


@dataclass(frozen=True)
class PairedDifference:
    """Result of :func:`paired_difference` (x[i] and y[i] share seed i)."""

    n: int  # pairs
    n_zero: int  # pairs with x[i] == y[i]
    test: str  # which test and how its p-value was computed
    p_value: float
    exact: bool  # exact enumeration, not Monte Carlo or an approximation
    estimate: Interval  # mean difference (sign-flip) or Hodges–Lehmann estimate (wilcoxon)
    note: str  # what ties and zeros did


def _signed_sums(a: np.ndarray) -> np.ndarray:
    """All 2^len(a) sums Σ ±a_i."""
    sums = np.zeros(1)
    for v in a:
        sums = np.concatenate([sums + v, sums - v])
    return sums


def _sign_flip_pvalue(d: np.ndarray, n_resamples: int, seed: int) -> tuple[float, bool]:
    """Two-sided sign-flip permutation p-value of the mean difference: the share of the 2^n
    sign assignments with |Σ s_i d_i| ≥ |Σ d_i| (exact for n ≤ 40 by meeting in the middle;
    Monte Carlo (b + 1)/(B + 1) beyond)."""
    a = np.abs(d)
    t = abs(float(d.sum()))
    tol = 1e-9 * max(1.0, float(a.sum()))
    if t <= tol:
        return 1.0, True
    n = a.size
    if n <= 40:
        left, right = _signed_sums(a[: n // 2]), np.sort(_signed_sums(a[n // 2 :]))
        ge = right.size - np.searchsorted(right, t - tol - left, side="left")
        le = np.searchsorted(right, -t + tol - left, side="right")
        return min(1.0, float((ge + le).sum()) / 2.0**n), True
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_resamples, n))
    hits = int((np.abs(signs @ a) >= t - tol).sum())
    return (hits + 1) / (n_resamples + 1), False


def _signed_rank_null(ranks2: np.ndarray) -> np.ndarray:
    """Exact null distribution of T⁺ = Σ_{d_i>0} rank_i under random signs, over the doubled
    (integer) ranks: probs[s] = P(2·T⁺ = s). Ties keep their average ranks (conditional
    permutation distribution)."""
    probs = np.zeros(int(ranks2.sum()) + 1)
    probs[0] = 1.0
    for r in ranks2.astype(int):
        shifted = np.zeros_like(probs)
        shifted[r:] = probs[: probs.size - r]
        probs = (probs + shifted) / 2.0
    return probs


def _wilcoxon_pvalue(d: np.ndarray) -> float:
    """Two-sided exact signed-rank p-value, zeros dropped (Wilcoxon's convention), ties at
    average ranks with the exact conditional null: 2·min(P(T⁺ ≤ t), P(T⁺ ≥ t)), at most 1.
    Without ties or zeros this is scipy's ``wilcoxon(d, method="exact")``."""
    from scipy.stats import rankdata

    d = d[d != 0]
    if d.size == 0:
        return 1.0
    ranks2 = np.rint(2 * rankdata(np.abs(d))).astype(int)
    t2 = int(ranks2[d > 0].sum())
    probs = _signed_rank_null(ranks2)
    cdf = probs[: t2 + 1].sum()
    sf = probs[t2:].sum()
    return float(min(1.0, 2.0 * min(cdf, sf)))


def hodges_lehmann(d: ArrayLike, confidence: float = 0.95) -> Interval:
    """Hodges–Lehmann estimate of the median paired difference with its exact interval.

    Estimate: the median of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i ≤ j (Hodges &
    Lehmann 1963). Interval: [W_(c+1), W_(N−c)] of the sorted Walsh averages, c the largest
    integer with P(T⁺ ≤ c) ≤ α/2 under the exact signed-rank null of n (Hollander & Wolfe,
    *Nonparametric Statistical Methods*, §3.3): the shifts θ that the exact two-sided Wilcoxon
    test of d − θ does not reject. Exact for continuous differences; with ties it is the
    usual approximation. No interval when n is too small for the level (n ≤ 5 at 95%) or when
    the interval has zero width (all differences tied).

    Args:
        d: the paired differences x_i − y_i.
        confidence: the interval's level.

    Returns:
        Interval with the HL estimate as its point.
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    method = "Hodges–Lehmann, exact signed-rank interval"
    if n == 0:
        return Interval(float("nan"), None, None, confidence, method, True, "no pairs")
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2.0)
    point = float(np.median(walsh))
    alpha = 1.0 - confidence
    cdf = np.cumsum(_signed_rank_null(2 * np.arange(1, n + 1))[::2])  # P(T⁺ ≤ c), c = 0, 1, …
    ok = np.flatnonzero(cdf <= alpha / 2 + 1e-12)
    if ok.size == 0:
        return Interval(
            point,
            None,
            None,
            confidence,
            method,
            True,
            f"{n} pairs: the exact test cannot reach the {confidence:.0%} level "
            f"(smallest two-sided p is {2 * 0.5**n:.3g})",
        )
    c = int(ok[-1])
    low, high = float(walsh[c]), float(walsh[walsh.size - c - 1])
    if low == high:
        return Interval(
            point,
            None,
            None,
            confidence,
            method,
            True,
            f"zero-width interval: the Walsh averages there are all {_fmt(low)} (tied differences)",
        )
    return Interval(point, low, high, confidence, method)


def paired_difference(
    x: ArrayLike,
    y: ArrayLike,
    *,
    test: str = "sign-flip",
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedDifference:
    """Compare two variants run on the same seeds, pair by pair: d_i = x_i − y_i.

    Runs that share a seed share start states and first episodes, so the pairs are compared,
    not the two samples apart. Choose the test before looking at the data:

    * ``"sign-flip"`` (default): exact permutation test of the mean difference: under H0 each
      d_i is as likely −d_i, p = #{s ∈ {±1}ⁿ: |Σ s_i d_i| ≥ |Σ d_i|} / 2ⁿ (Fisher 1935;
      Good, *Permutation Tests*). Exact for n ≤ 40 (enumerated by meeting in the middle),
      Monte Carlo (b + 1)/(B + 1) with ``n_resamples`` beyond. Zeros and ties change nothing:
      a zero adds 0 whatever its sign. Estimate: mean difference with a percentile bootstrap
      over seed pairs (no interval where it degenerates, e.g. all d_i equal).
    * ``"wilcoxon"``: signed-rank test (Wilcoxon 1945), zeros dropped (Wilcoxon's "wilcox"
      convention), ties at average ranks, p-value from the exact conditional null (equal to
      ``scipy.stats.wilcoxon(d, method="exact")`` without ties or zeros). Estimate:
      :func:`hodges_lehmann` with its exact interval.

    Values must be finite: unsolved runs (∞) belong in :func:`km_curve`/:func:`logrank_test`
    or, as solved yes/no, in :func:`mcnemar_exact`.

    Args:
        x, y: one finite value per seed; x[i] and y[i] come from the same seed.
        test: "sign-flip" or "wilcoxon", chosen before seeing the data.
        confidence: the level of the estimate's interval.
        n_resamples: bootstrap resamples (and Monte Carlo sign flips beyond 40 pairs).
        seed: seeds the resampling.

    Returns:
        PairedDifference: n, zeros, the test's name, two-sided p-value, exactness, the
        estimate with its interval, and what ties/zeros did.
    """
    from scipy.stats import bootstrap

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"x and y must be 1-D of one length (one value per seed), got {x.shape} and {y.shape}"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(
            "paired_difference needs finite values; for unsolved (∞) runs use "
            "km_curve/logrank_test or mcnemar_exact"
        )
    if x.size == 0:
        raise ValueError("no pairs")
    d = x - y
    n_zero = int((d == 0).sum())
    ties = int(d.size - np.unique(np.abs(d[d != 0])).size - n_zero)
    if test == "sign-flip":
        p, exact = _sign_flip_pvalue(d, n_resamples, seed)
        how = "exact, all 2^n sign flips" if exact else f"Monte Carlo, {n_resamples} flips"
        name = f"sign-flip permutation test of the mean difference ({how})"
        method = f"mean difference, percentile bootstrap over seed pairs ({n_resamples})"
        if d.size < 2:
            estimate = Interval(
                float(d.mean()), None, None, confidence, method, True, "1 pair: nothing to resample"
            )
        else:
            res = bootstrap(
                (d,),
                np.mean,
                n_resamples=n_resamples,
                method="percentile",
                rng=np.random.default_rng(seed),
            )
            estimate = _judge_bootstrap(
                float(d.mean()), res.bootstrap_distribution, confidence, method
            )
        note = (
            f"{n_zero} zero and {ties} tied difference(s): neither changes a sign-flip "
            "test (a zero adds 0 under either sign)"
        )
    elif test == "wilcoxon":
        p, exact = _wilcoxon_pvalue(d), True
        name = (
            "Wilcoxon signed-rank test, exact"
            if ties == 0 and n_zero == 0
            else "Wilcoxon signed-rank test, exact conditional null (ties at average ranks)"
        )
        estimate = hodges_lehmann(d, confidence)
        note = (
            f"{n_zero} zero difference(s) dropped from the test (kept in the "
            f"Hodges–Lehmann estimate); {ties} tied |difference|(s) at average ranks"
        )
    else:
        raise ValueError(f"test must be 'sign-flip' or 'wilcoxon', got {test!r}")
    return PairedDifference(int(d.size), n_zero, name, float(p), exact, estimate, note)


@dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar_exact`: the 2×2 table of paired yes/no outcomes and p."""

    n: int
    both: int
    only_x: int  # x yes, y no (b)
    only_y: int  # x no, y yes (c)
    neither: int
    p_value: float
    note: str | None = None


def mcnemar_exact(x: ArrayLike, y: ArrayLike) -> McNemarResult:
    """McNemar's exact test for a yes/no outcome paired by seed (e.g. ends solved).

    Only the discordant seeds carry information: with b = #(x yes, y no) and
    c = #(x no, y yes), under H0 b ~ Binomial(b + c, 1/2), and the two-sided p-value is
    ``scipy.stats.binomtest(b, b + c, 0.5).pvalue`` = min(1, 2·P(B ≤ min(b, c)))
    (McNemar 1947; the exact form: Fay 2010). No discordant seed: p = 1 with a note.

    Args:
        x, y: one yes/no outcome per seed; x[i] and y[i] come from the same seed.

    Returns:
        McNemarResult with the 2×2 counts and the two-sided exact p-value.
    """
    from scipy.stats import binomtest

    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D of one length (one outcome per seed)")
    for v in (x, y):
        if not np.isin(v, [0, 1]).all():
            raise ValueError("outcomes must be booleans (or 0/1)")
    x, y = x.astype(bool), y.astype(bool)
    b, c = int((x & ~y).sum()), int((~x & y).sum())
    both, neither = int((x & y).sum()), int((~x & ~y).sum())
    if b + c == 0:
        return McNemarResult(
            int(x.size),
            both,
            b,
            c,
            neither,
            1.0,
            "no discordant seed: the data cannot tell the two apart",
        )
    p = float(binomtest(b, b + c, 0.5).pvalue)
    return McNemarResult(int(x.size), both, b, c, neither, min(1.0, p))


# ----------------------------------------------------------------- time to solve, censored


@dataclass(frozen=True)
class KMCurve:
    """Share of seeds solved by each step, from :func:`km_curve`.

    ``steps`` are the observed times (solves and censoring), ``solved`` = 1 − S(step) just
    after each, ``low``/``high`` the pointwise band (NaN where its formula is undefined, e.g.
    where S = 0: every seed solved). For a plot, draw ``solved`` as a step function (where
    "post") from (0, 0) to (budget, solved[-1]).
    """

    steps: np.ndarray
    solved: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    n_solved: int
    confidence: float
    ci_method: str
    reason: str | None = None


def _censored(
    steps_to_solve: Sequence[int | None], budget: int | Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(uncensored solve steps, right-censoring steps) with checks; None = not solved by its
    budget."""
    steps = list(steps_to_solve)
    budgets = np.broadcast_to(np.asarray(budget, dtype=float), (len(steps),))
    solved, censored = [], []
    for s, b in zip(steps, budgets, strict=True):
        if s is None or (isinstance(s, float) and np.isinf(s)):
            censored.append(float(b))
        else:
            v = float(s)
            if not 0 <= v <= b:
                raise ValueError(f"a solve step must lie in [0, budget], got {v} > {b}")
            solved.append(v)
    if not steps:
        raise ValueError("no runs")
    return np.array(solved), np.array(censored)


def km_curve(
    steps_to_solve: Sequence[int | None],
    budget: int | Sequence[int],
    confidence: float = 0.95,
    ci_method: str = "log-log",
) -> KMCurve:
    """Kaplan–Meier curve of the share of seeds solved, censored at the budget.

    A seed that has not solved by its budget (None, or ∞) is right-censored there, not
    counted as solved at the budget nor dropped; ``budget`` may be one number or one per seed
    (runs of different lengths). S(t) = Π_{t_i ≤ t} (1 − d_i / n_i), d_i solves at t_i, n_i
    seeds still unsolved and observed just before (Kaplan & Meier 1958), by
    ``scipy.stats.ecdf(scipy.stats.CensoredData(uncensored=…, right=…)).sf``; share solved
    = 1 − S. Band: ``ci_method="log-log"`` (default; Kalbfleisch & Prentice: stays inside
    [0, 1]) or ``"linear"`` (Greenwood's variance, clipped), both pointwise, from scipy's
    ``confidence_interval``.

    Args:
        steps_to_solve: per seed, the env step of the solve, or None (∞) if not solved.
        budget: the env-step budget, one for all seeds or one per seed.
        confidence: the band's pointwise level.
        ci_method: "log-log" or "linear".

    Returns:
        KMCurve (steps, share solved, band low/high, counts).
    """
    import warnings

    from scipy.stats import CensoredData, ecdf

    if ci_method not in ("log-log", "linear"):
        raise ValueError(f"ci_method must be 'log-log' or 'linear', got {ci_method!r}")
    solved, censored = _censored(steps_to_solve, budget)
    n = solved.size + censored.size
    if solved.size == 0:
        empty = np.array([])
        return KMCurve(
            empty,
            empty,
            empty,
            empty,
            n,
            0,
            confidence,
            ci_method,
            "no seed solved within its budget: the curve is 0 throughout",
        )
    sf = ecdf(CensoredData(uncensored=solved, right=censored)).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined where S = 0: NaN, kept
        ci = sf.confidence_interval(confidence, method=ci_method)
    return KMCurve(
        steps=np.asarray(sf.quantiles, dtype=float),
        solved=1.0 - np.asarray(sf.probabilities, dtype=float),
        low=1.0 - np.asarray(ci.high.probabilities, dtype=float),
        high=1.0 - np.asarray(ci.low.probabilities, dtype=float),
        n=n,
        n_solved=int(solved.size),
        confidence=confidence,
        ci_method=ci_method,
    )


def restricted_mean_time(
    steps_to_solve: Sequence[int | None], budget: int | Sequence[int], tau: float | None = None
) -> float:
    """Restricted mean time to solve: RMST(τ) = ∫₀^τ S(t) dt, the area under the Kaplan–Meier
    curve of "not yet solved" up to τ (default: the smallest budget).

    The expected steps to solve when a run that never solves counts as τ: with every seed
    observed to τ it equals mean(min(T_i, τ)) (Royston & Parmar 2013). Unlike a median it is
    finite and uses every seed even when several never solve.

    Args:
        steps_to_solve: per seed, the env step of the solve, or None (∞) if not solved.
        budget: the env-step budget, one for all seeds or one per seed.
        tau: the horizon (≤ the largest budget); default the smallest budget.

    Returns:
        RMST(τ) in env steps.
    """
    from scipy.stats import CensoredData, ecdf

    solved, censored = _censored(steps_to_solve, budget)
    budgets = np.broadcast_to(np.asarray(budget, dtype=float), (solved.size + censored.size,))
    tau = float(budgets.min()) if tau is None else float(tau)
    if not 0 < tau <= budgets.max():
        raise ValueError(f"tau must lie in (0, largest budget], got {tau}")
    if solved.size == 0:
        return tau
    sf = ecdf(CensoredData(uncensored=solved, right=censored)).sf
    t = np.asarray(sf.quantiles, dtype=float)
    s = np.asarray(sf.probabilities, dtype=float)
    keep = t < tau
    edges = np.concatenate([[0.0], t[keep], [tau]])
    heights = np.concatenate([[1.0], s[keep]])  # S on [edges[k], edges[k + 1])
    return float(np.sum(heights * np.diff(edges)))


@dataclass(frozen=True)
class LogRankResult:
    """Result of :func:`logrank_test`."""

    statistic: float  # z: (O − E) / sqrt(V) for the first group
    p_value: float
    n: tuple[int, int]
    solved: tuple[int, int]
    note: str | None = None


def logrank_test(
    a: Sequence[int | None],
    b: Sequence[int | None],
    budget: int | Sequence[int],
    budget_b: int | Sequence[int] | None = None,
) -> LogRankResult:
    """Log-rank test of two time-to-solve curves censored at the budget (Mantel 1966).

    At each solve time t_k: O − E = d_ak − n_ak·d_k/n_k, V = Σ n_ak n_bk d_k (n_k − d_k) /
    (n_k² (n_k − 1)); z = Σ(O − E)/sqrt(ΣV), two-sided p from the normal. By
    ``scipy.stats.logrank``. It treats the groups as independent: seeds shared between them
    are not used as pairs (for solved-by-the-budget yes/no paired by seed use
    :func:`mcnemar_exact`).

    Args:
        a, b: per seed of each variant, the solve step or None (∞) if not solved.
        budget: a's budget (one or one per seed); also b's unless ``budget_b`` is given.
        budget_b: b's budget.

    Returns:
        LogRankResult: z (positive: a solves sooner than expected under H0), two-sided p,
        counts.
    """
    from scipy.stats import CensoredData, logrank

    budget_b = budget if budget_b is None else budget_b
    sa, ca = _censored(a, budget)
    sb, cb = _censored(b, budget_b)
    if sa.size + sb.size == 0:
        return LogRankResult(
            0.0,
            1.0,
            (sa.size + ca.size, sb.size + cb.size),
            (0, 0),
            "no seed of either group solved: nothing to compare",
        )
    res = logrank(CensoredData(uncensored=sa, right=ca), CensoredData(uncensored=sb, right=cb))
    if not np.isfinite(res.statistic):  # ΣV = 0: e.g. every run of both solves at one step
        return LogRankResult(
            0.0,
            1.0,
            (sa.size + ca.size, sb.size + cb.size),
            (sa.size, sb.size),
            "zero variance (ΣV = 0): nothing to compare",
        )
    return LogRankResult(
        float(res.statistic),
        float(res.pvalue),
        (sa.size + ca.size, sb.size + cb.size),
        (sa.size, sb.size),
    )


# --------------------------------------------- probability of improvement, performance profiles


def _as_runs_by_tasks(scores: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(scores, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must be (runs,) or (runs, tasks) and non-empty, got {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    return a


def _poi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + ½P(X = Y) over the last two axes' pairs, x (..., n), y (..., m)."""
    gt = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
    eq = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
    return gt + 0.5 * eq


def probability_of_improvement(
    x: ArrayLike,
    y: ArrayLike,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Probability of improvement of X over Y with a stratified-bootstrap interval.

    Per task m: P(X_m > Y_m) = U_m / (n·k) = (1/(n·k)) Σ_i Σ_j [x_im > y_jm] + ½[x_im = y_jm],
    the Mann–Whitney U statistic of X's n runs against Y's k runs; averaged over tasks
    (Agarwal et al. 2021, rliable's ``probability_of_improvement``). ``x``/``y`` are
    (runs,) or (runs, tasks). Interval: percentile bootstrap resampling X's and Y's runs
    independently within each task (rliable's stratified bootstrap), ``degenerate`` where it
    has no spread (e.g. every run of X beats every run of Y: [1, 1] is not certainty). The
    runs are treated as unpaired; for seeds shared by X and Y see :func:`paired_difference`.

    Args:
        x, y: scores, (runs,) or (runs, tasks); the run counts may differ.
        confidence: the interval's level.
        n_resamples: bootstrap resamples.
        seed: seeds the resampling.

    Returns:
        Interval with P(X > Y) as its point.
    """
    xs, ys = _as_runs_by_tasks(x, "x"), _as_runs_by_tasks(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"x and y need the same tasks, got {xs.shape[1]} and {ys.shape[1]}")
    point = float(np.mean(_poi(xs.T, ys.T)))
    rng = np.random.default_rng(seed)
    n, k = xs.shape[0], ys.shape[0]
    dist = np.zeros(n_resamples)
    chunk = max(1, 2_000_000 // (n * k))
    for task in range(xs.shape[1]):
        for start in range(0, n_resamples, chunk):
            b = min(chunk, n_resamples - start)
            rx = xs[rng.integers(0, n, size=(b, n)), task]
            ry = ys[rng.integers(0, k, size=(b, k)), task]
            dist[start : start + b] += _poi(rx, ry)
    dist /= xs.shape[1]
    method = f"stratified percentile bootstrap over runs ({n_resamples} resamples)"
    return _judge_bootstrap(point, dist, confidence, method)


@dataclass(frozen=True)
class PerformanceProfile:
    """Fraction of runs with score > τ over a grid of τ, from :func:`performance_profile`.

    ``low``/``high`` are NaN where the interval is degenerate (``degenerate[i]``; e.g. a
    bootstrap at a τ that every run, or none, exceeds).
    """

    taus: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray
    degenerate: np.ndarray
    method: str
    confidence: float


def performance_profile(
    scores: ArrayLike,
    taus: ArrayLike,
    confidence: float = 0.95,
    method: str = "wilson",
    n_resamples: int = 2000,
    seed: int = 0,
) -> PerformanceProfile:
    """Performance profile (run-score distribution): F(τ) = fraction of runs with score > τ.

    F(τ) = (1/(N·M)) Σ_runs Σ_tasks [score > τ] (Agarwal et al. 2021; rliable's
    ``run_score_deviation``), for each τ of ``taus``. Pointwise intervals:
    ``method="wilson"`` (one task: F(τ) is a binomial share of independent runs; Wilson 1927,
    informative at 0 and 1) or ``"bootstrap"`` (rliable's stratified percentile bootstrap over
    runs within each task; several tasks need it), degenerate where every resample agrees.

    Args:
        scores: (runs,) or (runs, tasks).
        taus: the thresholds τ.
        confidence: the pointwise level.
        method: "wilson" (one task) or "bootstrap".
        n_resamples: bootstrap resamples.
        seed: seeds the resampling.

    Returns:
        PerformanceProfile (taus, fraction, low, high, degenerate per τ).
    """
    a = _as_runs_by_tasks(scores, "scores")
    taus = np.asarray(taus, dtype=float)
    if taus.ndim != 1:
        raise ValueError("taus must be one-dimensional")
    fraction = np.array([(a > t).mean() for t in taus])
    low, high = np.full(taus.size, np.nan), np.full(taus.size, np.nan)
    degenerate = np.zeros(taus.size, dtype=bool)
    if method == "wilson":
        if a.shape[1] != 1:
            raise ValueError("method='wilson' needs one task (runs,): use method='bootstrap'")
        name = "Wilson score interval per τ"
        for i, t in enumerate(taus):
            ci = proportion_ci(int((a[:, 0] > t).sum()), a.shape[0], confidence, "wilson")
            low[i], high[i] = ci.low, ci.high
    elif method == "bootstrap":
        name = f"stratified percentile bootstrap over runs ({n_resamples} resamples)"
        rng = np.random.default_rng(seed)
        n = a.shape[0]
        dist = np.zeros((n_resamples, taus.size))
        for task in range(a.shape[1]):
            r = a[rng.integers(0, n, size=(n_resamples, n)), task]
            dist += (r[:, :, None] > taus[None, None, :]).mean(axis=1)
        dist /= a.shape[1]
        for i in range(taus.size):
            ci = _judge_bootstrap(float(fraction[i]), dist[:, i], confidence, name)
            if ci.degenerate:
                degenerate[i] = True
            else:
                low[i], high[i] = ci.low, ci.high
    else:
        raise ValueError(f"method must be 'wilson' or 'bootstrap', got {method!r}")
    return PerformanceProfile(taus, fraction, low, high, degenerate, name, confidence)
