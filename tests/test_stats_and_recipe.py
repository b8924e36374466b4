"""Run statistics against brute force, the learning-rate schedule, best checkpoints, palette."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from prdqn_lib.agent import Agent
from prdqn_lib.config import Config
from prdqn_lib.plots import VARIANT_STYLE
from prdqn_lib.stats import bootstrap_ci, difference_ci, iqm, solve_index, stability, summarize
from prdqn_lib.train import History, train
from prdqn_lib.variants import variant_names


def brute_iqm(x):
    """Mean of the middle half: drop floor(n/4) from each end (scipy's trim_mean rule)."""
    x = np.sort(np.asarray(x, float))
    k = int(0.25 * x.size)
    return x[k : x.size - k].mean()


@settings(deadline=None)  # the first call imports scipy
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40))
def test_iqm_is_the_mean_of_the_middle_half(values):
    assert iqm(values) == pytest.approx(brute_iqm(values), rel=1e-9, abs=1e-6)


def test_iqm_ignores_an_outlier_the_mean_does_not():
    x = [10, 11, 12, 13, 14, 15, 16, 1e9]
    assert iqm(x) == pytest.approx(13.5)
    assert np.mean(x) > 1e8


def brute_stability(returns, threshold=475.0):
    """Straight from the definition: find the solve, skip its two evaluations, count."""
    for k in range(len(returns) - 1):
        if returns[k] >= threshold and returns[k + 1] >= threshold:
            later = returns[k + 2 :]
            return sum(r >= threshold for r in later), len(later)
    return 0, 0


@settings(deadline=None)
@given(st.lists(st.sampled_from([9.0, 300.0, 474.9, 475.0, 500.0]), max_size=30))
def test_stability_counts_from_the_third_evaluation_after_the_solve(returns):
    assert stability(returns) == brute_stability(returns)


def test_stability_on_a_hand_made_run():
    # solve at index 1 (500, 480); counted: 100, 500, 490 → 2 of 3
    assert stability([10, 500, 480, 100, 500, 490]) == (2, 3)
    assert solve_index([10, 500, 480, 100]) == 1
    assert stability([500, 10, 500]) == (0, 0)  # never two in a row


def test_bootstrap_ci_brackets_the_median_and_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small = rng.normal(100, 10, size=10)
    large = rng.normal(100, 10, size=400)
    lo_s, hi_s = bootstrap_ci(small, np.median, n_resamples=2000)
    lo_l, hi_l = bootstrap_ci(large, np.median, n_resamples=2000)
    assert lo_s <= np.median(small) <= hi_s
    assert lo_l <= np.median(large) <= hi_l
    assert hi_l - lo_l < hi_s - lo_s


def test_summarize_keeps_unsolved_runs_as_infinity():
    s = summarize([9000, 10000, np.inf, np.inf, np.inf])
    assert s["median"] == np.inf and s["n"] == 5
    s = summarize([9000, 10000, 11000, np.inf])
    assert s["median"] == 10500 and s["median_ci"][0] >= 9000


def test_learning_rate_decays_linearly_to_its_floor_and_stays():
    cfg = Config(total_steps=3000, learning_starts=1000, train_every=2, lr=1e-3, lr_final_frac=0.1)
    assert cfg.gradient_steps == 1000
    assert cfg.learning_rate(0) == pytest.approx(1e-3)
    assert cfg.learning_rate(500) == pytest.approx(0.55e-3)
    assert cfg.learning_rate(1000) == pytest.approx(1e-4)
    assert cfg.learning_rate(5000) == pytest.approx(1e-4)  # a floor, never 0
    early = Config(total_steps=50_000, learning_starts=1000, lr_final_frac=0.5,
                   lr_decay_steps=3000)  # fmt: skip
    assert early.learning_rate(500) == pytest.approx(0.75 * early.lr)  # half of 1000 updates
    assert early.learning_rate(1000) == early.learning_rate(20_000) == pytest.approx(early.lr / 2)
    with pytest.raises(ValueError, match="lr_final_frac"):
        Config(lr_final_frac=0.0)


def test_agent_follows_the_learning_rate_schedule():
    from prdqn_lib.replay import UniformReplay

    cfg = Config(total_steps=1010, learning_starts=1000, train_every=1, lr_final_frac=0.2)
    agent = Agent(4, 2, cfg)
    memory = UniformReplay(100, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        memory.add(rng.normal(size=4), 0, 1.0, rng.normal(size=4), False)
    lrs = []
    for _ in range(12):
        agent.update(memory.sample(8))
        lrs.append(agent.optimizer.param_groups[0]["lr"])
    expected = [cfg.learning_rate(k) for k in range(12)]
    np.testing.assert_allclose(lrs, expected)
    assert lrs[-1] == pytest.approx(cfg.lr * 0.2)


def test_best_eval_ties_go_to_the_latest():
    h = History(evals=[{"env_steps": s, "eval_return": r} for s, r in
                       [(1000, 10), (2000, 500), (3000, 200), (4000, 500), (5000, 9)]])  # fmt: skip
    assert h.best_eval == (4000, 500.0)
    assert History().best_eval is None


def test_training_keeps_the_best_evaluations_weights():
    cfg = Config(variant="per-sumtree", seed=3, total_steps=3000, eval_every=500,
                 learning_starts=500)  # fmt: skip
    result = train(cfg, progress=False)
    best_step, best_return = result.history.best_eval
    # re-evaluate both agents the way training did: the best agent reproduces its return
    from prdqn_lib.train import Evaluator

    k = [int(r["env_steps"]) for r in result.history.evals].index(best_step)
    evaluator = Evaluator(cfg.env_id, cfg.eval_episodes, seed=cfg.seed + 10_000)
    # the evaluator continues its random streams: replay the first k evaluations to reach
    # the same start states as evaluation k
    for _ in range(k):
        evaluator(result.best_agent)
    assert evaluator(result.best_agent).mean() == pytest.approx(best_return)
    # a different network from the final one unless the last evaluation was the best
    if best_step != result.history.evals[-1]["env_steps"]:
        differs = any(
            not torch.equal(a, b)
            for a, b in zip(
                result.best_agent.online.parameters(), result.agent.online.parameters(), strict=True
            )  # fmt: skip
        )
        assert differs


def test_every_variant_has_its_own_colour_and_line_style():
    for v in (*variant_names(), "sb3-dqn"):
        assert v in VARIANT_STYLE
    for a, b in itertools.combinations(VARIANT_STYLE.values(), 2):
        assert a["color"] != b["color"] and a["ls"] != b["ls"]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5))
def test_summarize_median_ci_contains_the_median(seed):
    x = np.random.default_rng(seed).exponential(1000, size=15)
    s = summarize(x, seed=seed)
    assert s["median_ci"][0] <= s["median"] <= s["median_ci"][1]
    assert s["iqm_ci"][0] <= s["iqm"] <= s["iqm_ci"][1]


def test_difference_ci_separates_shifted_samples_and_not_identical_ones():
    rng = np.random.default_rng(1)
    a = rng.normal(100, 5, size=20)
    d, lo, hi = difference_ci(a + 50, a, n_resamples=2000)
    assert d == pytest.approx(50) and lo > 0
    d, lo, hi = difference_ci(a, rng.permutation(a), n_resamples=2000)
    assert d == 0 and lo < 0 < hi


def test_target_sync_period_grows_with_the_schedule():
    cfg = Config(total_steps=2200, learning_starts=200, train_every=1, target_update=10,
                 target_update_final=40)  # fmt: skip
    assert [cfg.target_period(u) for u in (0, 1000, 2000, 9999)] == [10, 25, 40, 40]
    assert Config(target_update_final=0).target_period(10**6) == 25  # 0: a fixed period

    from prdqn_lib.replay import UniformReplay

    agent = Agent(4, 2, cfg)
    memory = UniformReplay(64, seed=0)
    for _ in range(64):
        memory.add(np.zeros(4), 0, 1.0, np.zeros(4), False)
    syncs = []
    for _ in range(2000):
        agent.update(memory.sample(4))
        if agent._last_sync == agent.updates:
            syncs.append(agent.updates)
    gaps = np.diff([0, *syncs])
    # each gap is the period in force when the sync came due
    assert gaps[0] == 10 and gaps[-1] in (39, 40) and np.all(np.diff(gaps) >= 0)
