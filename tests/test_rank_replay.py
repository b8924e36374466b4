"""RankBasedReplay and its RankTree against brute force: sorting, (1/rank)^α, sampling
frequencies (chi-square), IS weights, ring overwrite, bad input.

The state-machine test of the memory (every call against a plain-Python model) is
``TestRankBasedReplay`` in tests/test_stateful.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from prdqn_lib import RankBasedReplay
from prdqn_lib.ranktree import RankTree


def filled(n: int, td: np.ndarray | None = None, **kwargs) -> RankBasedReplay:
    """A memory of n transitions (obs = [i]) whose |δ| are ``td`` (default: none replayed)."""
    memory = RankBasedReplay(n, **kwargs)
    for i in range(n):
        memory.add([float(i)], i % 2, 1.0, [float(i) + 1], False)
    if td is not None:
        memory.update_priorities(np.arange(n), td)
    return memory


# ------------------------------------------------------------------------------- RankTree

keys = st.sampled_from([0.0, 0.5, 1.0, 2.0, math.inf]) | st.floats(0, 3)  # ties on purpose
writes = st.lists(
    st.tuples(st.integers(0, 39), keys),
    min_size=1,
    max_size=200,
)


@settings(deadline=None)
@given(writes=writes, batch=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_tree_is_always_sorted_like_brute_force(writes, batch, seed):
    """After any sequence of batched writes (ties, repeats, +inf), the in-order walk, every
    subtree size, the heap order and select() agree with sorting by (-|δ|, -write number)."""
    tree = RankTree(40, np.random.default_rng(seed))
    key, seq, count = {}, {}, 0
    for start in range(0, len(writes), batch):
        chunk = writes[start : start + batch]
        tree.set_keys(np.array([n for n, _ in chunk]), np.array([k for _, k in chunk]))
        for n, k in chunk:
            key[n], seq[n] = k, count
            count += 1
    expected = sorted(key, key=lambda n: (-key[n], -seq[n]))
    assert tree.order().tolist() == expected
    assert tree.select(np.arange(len(expected))).tolist() == expected
    assert len(tree) == len(expected)

    def check(node) -> int:  # subtree sizes and heap order, recursively
        if node < 0:
            return 0
        for child in (tree._left[node], tree._right[node]):
            assert child < 0 or tree._heap[child] <= tree._heap[node]
        size = 1 + check(tree._left[node]) + check(tree._right[node])
        assert tree._size[node] == size
        return size

    assert check(tree._state[0]) == len(expected)


def test_tree_depth_is_logarithmic():
    """Sorted input is a plain binary search tree's worst case (depth N); the treap's random
    heap priorities keep it near 2·ln N whatever the order of the keys."""
    n = 1 << 16
    tree = RankTree(n, np.random.default_rng(0))
    tree.set_keys(np.arange(n), np.arange(n, dtype=np.float64))  # ascending: worst case for a BST
    assert tree.depth() <= 3 * math.log2(n)
    assert tree.order()[:3].tolist() == [n - 1, n - 2, n - 3]


# ------------------------------------------------------------------------ the distribution


def brute_force_probabilities(td: np.ndarray, alpha: float) -> np.ndarray:
    rank = np.empty(td.shape[0])
    rank[np.argsort(-td, kind="stable")] = np.arange(1, td.shape[0] + 1)
    p = rank**-alpha
    return p / p.sum()


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0, 2.5])
def test_probabilities_are_the_power_law_of_the_ranks(alpha):
    td = np.random.default_rng(1).permutation(np.linspace(0.01, 5, 300))  # distinct |δ|
    memory = filled(300, td, alpha=alpha)
    np.testing.assert_array_equal(memory.ranks(), np.argsort(np.argsort(-td)) + 1)
    np.testing.assert_allclose(memory.probabilities(), brute_force_probabilities(td, alpha),
                               rtol=1e-12)  # fmt: skip
    assert math.isclose(memory.probabilities().sum(), 1.0, rel_tol=1e-12)


def test_only_the_order_matters_not_the_size_of_the_errors():
    """Rank-based PER is robust to outliers: scaling one |δ| by 1e6 changes nothing."""
    td = np.array([3.0, 1.0, 2.0, 0.5])
    a = filled(4, td).probabilities()
    td[0] *= 1e6
    np.testing.assert_array_equal(filled(4, td).probabilities(), a)


def test_sampling_frequencies_match_the_reported_distribution():
    """Chi-square on 128,000 draws over 40 ranks; the stratified draw is less variable than a
    multinomial, so the multinomial test is conservative, not lax."""
    n, batch, calls = 40, 32, 4000
    td = np.random.default_rng(2).permutation(np.arange(1.0, n + 1))
    memory = filled(n, td, alpha=0.7, seed=3)
    counts = np.zeros(n)
    for _ in range(calls):
        np.add.at(counts, memory.sample(batch).indices, 1)
    expected = memory.probabilities() * batch * calls
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # and the probabilities really differ from uniform: a test that could not tell is useless
    assert stats.chisquare(counts).pvalue < 1e-12


def test_each_stratum_draws_from_its_own_segment():
    """Draw j of a batch of B lies in segment j of B equal-mass segments of the ranks: the
    batch's ranks are non-decreasing, and the first always falls among the top ranks."""
    memory = filled(1000, np.random.default_rng(4).random(1000), alpha=0.7, seed=5)
    rank = memory.ranks()
    p_top = memory.probabilities()[np.argsort(rank)].cumsum()
    first_segment_end = int(np.searchsorted(p_top, 1 / 8)) + 1
    for _ in range(50):
        r = rank[memory.sample(8).indices]
        assert (np.diff(r) >= 0).all()
        assert r[0] <= first_segment_end


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0])
def test_is_weights_against_their_definition(beta):
    td = np.random.default_rng(6).random(50)
    memory = filled(50, td, alpha=0.7, beta=beta, beta_final=beta, seed=7)
    p = memory.probabilities()
    w = (50 * p) ** -beta
    batch = memory.sample(16)
    np.testing.assert_allclose(batch.weights, w[batch.indices] / w.max(), rtol=1e-12)
    assert (batch.weights <= 1).all()


def test_beta_anneals_like_prioritized_replay():
    memory = filled(10, beta=0.5, beta_final=1.0, beta_steps=4)
    betas = []
    for _ in range(6):
        betas.append(memory.beta)
        memory.sample(2)
    assert betas == [0.5, 0.625, 0.75, 0.875, 1.0, 1.0]


# -------------------------------------------------------------------- ring buffer and input


def test_new_transitions_enter_at_rank_one_and_overwrite_the_oldest():
    memory = filled(5, np.array([5.0, 4.0, 3.0, 2.0, 1.0]))
    assert memory.ranks().tolist() == [1, 2, 3, 4, 5]
    for k in range(3):  # overwrite slots 0, 1, 2
        memory.add([10.0 + k], 0, 0.0, [0.0], True)
    assert len(memory) == 5 and len(memory.tree) == 5
    assert memory.ranks().tolist() == [3, 2, 1, 4, 5]  # newest first; old |δ| are gone
    batch = memory.sample(1)  # B = 1: one draw from the whole distribution
    assert batch.obs.shape == (1, 1)
    memory.update_priorities([2, 1, 0], [0.1, 0.2, 0.3])
    assert memory.ranks().tolist() == [3, 4, 5, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 51}, "alpha"),
        ({"alpha": math.nan}, "alpha"),
        ({"beta": 1.5}, "beta"),
        ({"beta_final": -0.1}, "beta_final"),
        ({"beta_steps": 0}, "beta_steps"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, name):
    args = {"capacity": 4, **kwargs}
    with pytest.raises(ValueError, match=name):
        RankBasedReplay(**args)


@pytest.mark.parametrize(
    ("indices", "td", "name"),
    [
        ([0, 1], [0.5, math.nan], "td_errors"),
        ([0, 1], [0.5, -1.0], "td_errors"),
        ([0, 1], [0.5, math.inf], "td_errors"),
        ([0, 9], [0.5, 0.5], "indices"),
        ([0, 1], [0.5], "one value per index"),
    ],
)
def test_a_refused_update_changes_nothing(indices, td, name):
    memory = filled(6, np.arange(6.0))
    before = memory.ranks().copy(), memory.tree.keys().copy()
    with pytest.raises(ValueError, match=name):
        memory.update_priorities(indices, td)
    np.testing.assert_array_equal(memory.ranks(), before[0])
    np.testing.assert_array_equal(memory.tree.keys(), before[1])


def test_empty_memory_refuses_to_sample():
    with pytest.raises(ValueError, match="empty"):
        RankBasedReplay(4).sample(2)
    assert RankBasedReplay(4).probabilities().shape == (0,)


# --------------------------------------------------------------------- the per-rank variant


def test_the_per_rank_variant_trains_on_a_rank_based_memory(tmp_path):
    """make_memory gives per-rank its RankBasedReplay with the Config's α and β; a short run
    through the command line writes the usual files and replays from that memory."""
    import json
    import subprocess
    import sys

    from prdqn_lib.config import Config
    from prdqn_lib.train import make_memory

    cfg = Config(variant="per-rank", rank_alpha=0.5, beta=0.2, beta_final=0.9)
    memory = make_memory(cfg)
    assert isinstance(memory, RankBasedReplay)
    assert (memory.alpha, memory.beta0, memory.beta_final) == (0.5, 0.2, 0.9)
    assert memory.beta_steps == cfg.gradient_steps
    with pytest.raises(ValueError, match="rank_alpha"):
        Config(variant="per-rank", rank_alpha=-1.0)

    out = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "prdqn_lib", "train", "--variant", "per-rank", "--seed", "2",
         "--steps", "1200", "--out", str(out), "--no-progress", "--set", "eval_every=600",
         "--set", "eval_episodes=2"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["variant"] == "per-rank"
    assert (out / "best_agent.pt").stat().st_size > 0
