"""The three replay memories: sampling frequencies, IS weights, ring buffer, bad input."""

import numpy as np
import pytest
from scipy.stats import chisquare

from prdqn_lib import Batch, PrioritizedReplay, TDErrorListReplay, UniformReplay

MEMORIES = [UniformReplay, TDErrorListReplay, PrioritizedReplay]


def fill(memory, n, obs_dim=4):
    """Add n transitions whose obs[0] records their insertion order."""
    for t in range(n):
        obs = np.full(obs_dim, t, dtype=np.float32)
        memory.add(obs, t % 2, float(t), obs + 1, t % 10 == 9)
    return memory


def counts_of(memory, batch_size, n_batches):
    counts = np.zeros(len(memory))
    for _ in range(n_batches):
        np.add.at(counts, memory.sample(batch_size).indices, 1)
    return counts


def assert_frequencies_match(counts, probs):
    """Chi-square goodness of fit; a fixed seed makes it deterministic, a real bias fails it."""
    expected = probs / probs.sum() * counts.sum()
    assert expected.min() >= 5, "too few draws for a chi-square test"
    p_value = chisquare(counts, expected).pvalue
    assert p_value > 1e-3, f"sampling frequencies differ from P(i): p = {p_value:.2e}"


# ---------------------------------------------------------------------------- sampling


def test_uniform_frequencies():
    memory = fill(UniformReplay(64, seed=0), 50)
    assert_frequencies_match(counts_of(memory, 32, 2000), np.full(50, 1 / 50))


@pytest.mark.parametrize("batch_size", [1, 32])
def test_td_list_frequencies_follow_abs_td_plus_eps(batch_size):
    memory = fill(TDErrorListReplay(64, eps=0.05, seed=1), 40)
    td = np.random.default_rng(2).exponential(size=40)
    td[::5] = 0.0  # zero error: only ε keeps these in play
    memory.update_priorities(np.arange(40), td)
    probs = (td + 0.05) / (td + 0.05).sum()
    np.testing.assert_allclose(memory.probabilities(), probs)
    assert_frequencies_match(counts_of(memory, batch_size, 64_000 // batch_size), probs)


@pytest.mark.parametrize("batch_size", [1, 32])
def test_per_frequencies_follow_priority_to_the_alpha(batch_size):
    memory = fill(PrioritizedReplay(61, alpha=0.7, eps=0.02, seed=3), 45)
    td = np.random.default_rng(4).exponential(size=45)
    td[::6] = 0.0
    memory.update_priorities(np.arange(45), td)
    probs = (td + 0.02) ** 0.7
    probs /= probs.sum()
    np.testing.assert_allclose(memory.probabilities(), probs)
    assert_frequencies_match(counts_of(memory, batch_size, 64_000 // batch_size), probs)


def test_per_alpha_zero_is_uniform():
    memory = fill(PrioritizedReplay(50, alpha=0.0, seed=5), 50)
    memory.update_priorities(np.arange(50), np.linspace(0, 9, 50))
    assert_frequencies_match(counts_of(memory, 25, 1000), np.full(50, 1 / 50))
    assert np.allclose(memory.sample(25).weights, 1.0)


def test_td_list_returns_the_chosen_index_not_the_next_one():
    """The source's scan appends the index after incrementing it; ours returns the one chosen."""
    memory = fill(TDErrorListReplay(10, eps=1e-6, seed=6), 10)
    td = np.zeros(10)
    td[3] = 100.0
    memory.update_priorities(np.arange(10), td)
    assert (memory.sample(200).indices == 3).mean() > 0.99


def test_per_stratified_batch_has_one_draw_per_segment():
    memory = fill(PrioritizedReplay(8, alpha=1.0, eps=1e-9, seed=7), 8)
    memory.update_priorities(np.arange(8), np.ones(8))  # equal priorities
    # 8 equal leaves and 8 segments: each segment is one leaf, so each leaf comes out once
    np.testing.assert_array_equal(memory.sample(8).indices, np.arange(8))


# ---------------------------------------------------------------------------- IS weights


def test_per_importance_weights_follow_the_formula():
    n, beta0 = 30, 0.4
    memory = fill(PrioritizedReplay(40, alpha=0.6, beta=beta0, beta_steps=10, seed=8), n)
    td = np.random.default_rng(9).uniform(0.0, 3.0, n)
    memory.update_priorities(np.arange(n), td)
    probs = memory.probabilities()
    for call in range(12):
        beta = beta0 + min(1.0, call / 10) * (1.0 - beta0)
        assert memory.beta == pytest.approx(beta)
        batch = memory.sample(16)
        w_all = (n * probs) ** -beta
        expected = w_all[batch.indices] / w_all.max()
        np.testing.assert_allclose(batch.weights, expected, rtol=1e-10)
        assert (batch.weights <= 1.0).all() and (batch.weights > 0).all()
    assert memory.beta == 1.0  # annealed, then held


def test_per_weight_normaliser_ignores_empty_slots():
    """The first source takes the min probability over all leaves, empty ones included."""
    memory = fill(PrioritizedReplay(1000, seed=10), 20)  # 980 empty slots
    memory.update_priorities(np.arange(20), np.linspace(0.1, 2.0, 20))
    batch = memory.sample(64)
    probs = memory.probabilities()
    w_all = (20 * probs) ** -memory.beta0
    np.testing.assert_allclose(batch.weights, w_all[batch.indices] / w_all.max())
    assert batch.weights.max() > 0.5  # normalised by stored transitions, not by empty ones


def test_uniform_and_list_weights_are_one():
    for cls in (UniformReplay, TDErrorListReplay):
        batch = fill(cls(10, seed=0), 10).sample(7)
        np.testing.assert_array_equal(batch.weights, np.ones(7))


# ---------------------------------------------------------------------------- priorities


def test_per_new_transitions_enter_at_the_running_max_priority():
    memory = fill(PrioritizedReplay(10, alpha=0.5, eps=0.01, seed=11), 3)
    np.testing.assert_array_equal(memory.tree[[0, 1, 2]], [1.0, 1.0, 1.0])  # 1.0 when empty
    memory.update_priorities([0, 1], [8.99, 0.0])
    assert memory.max_priority == pytest.approx(3.0)  # (8.99 + 0.01) ** 0.5
    memory.update_priorities([0], [0.0])  # the max is a running max: it does not fall
    fill(memory, 1)
    assert memory.tree[3] == pytest.approx(3.0)


def test_per_update_writes_exactly_the_given_indices():
    memory = fill(PrioritizedReplay(16, alpha=0.6, eps=0.01, seed=12), 16)
    batch = memory.sample(4)
    before = memory.tree[np.arange(16)].copy()
    td = np.array([0.5, 1.5, 2.5, 3.5])
    memory.update_priorities(batch.indices, td)
    after = memory.tree[np.arange(16)]
    untouched = np.setdiff1d(np.arange(16), batch.indices)
    np.testing.assert_array_equal(after[untouched], before[untouched])
    # duplicates: the last write wins
    last = {i: t for i, t in zip(batch.indices, td, strict=True)}
    for i, t in last.items():
        assert after[i] == pytest.approx((t + 0.01) ** 0.6)


def test_td_list_new_transitions_enter_at_the_max_error():
    memory = fill(TDErrorListReplay(10, seed=13), 2)
    np.testing.assert_array_equal(memory.td_errors, [1.0, 1.0])
    memory.update_priorities([0, 1], [5.0, 0.2])
    fill(memory, 1)
    np.testing.assert_array_equal(memory.td_errors, [5.0, 0.2, 5.0])


def test_td_list_refresh_recomputes_every_error():
    memory = fill(TDErrorListReplay(100, seed=14), 70)
    seen = []

    def td_fn(batch: Batch):
        seen.append(len(batch))
        return batch.obs[:, 0] * 0.5  # depends on the transition, so order matters

    memory.refresh_td_errors(td_fn, chunk_size=32)
    assert seen == [32, 32, 6]
    np.testing.assert_allclose(memory.td_errors, np.arange(70) * 0.5)


# ---------------------------------------------------------------------------- storage


@pytest.mark.parametrize("cls", MEMORIES)
def test_ring_buffer_overwrites_the_oldest(cls):
    memory = fill(cls(5, seed=0), 7)
    assert len(memory) == 5
    batch = memory._gather(np.arange(5), np.ones(5))
    # slots 0 and 1 were overwritten by transitions 5 and 6
    np.testing.assert_array_equal(batch.obs[:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(batch.rewards, [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(batch.next_obs[:, 0], [6, 7, 3, 4, 5])
    np.testing.assert_array_equal(batch.actions, [1, 0, 0, 1, 0])


@pytest.mark.parametrize("cls", MEMORIES)
def test_batch_fields(cls):
    memory = fill(cls(20, seed=0), 20)
    batch = memory.sample(8)
    assert batch.obs.shape == (8, 4) and batch.obs.dtype == np.float32
    assert batch.next_obs.shape == (8, 4)
    assert batch.actions.dtype == np.int64 and batch.terminated.dtype == bool
    np.testing.assert_array_equal(batch.rewards, batch.obs[:, 0])  # rows stay together
    np.testing.assert_array_equal(batch.terminated, batch.obs[:, 0] % 10 == 9)
    assert batch.indices.shape == (8,) and batch.weights.shape == (8,)


@pytest.mark.parametrize("cls", MEMORIES)
def test_same_seed_same_samples(cls):
    a, b = fill(cls(50, seed=42), 50), fill(cls(50, seed=42), 50)
    for _ in range(5):
        np.testing.assert_array_equal(a.sample(10).indices, b.sample(10).indices)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize("capacity", [0, -1, 3.0, None])
def test_bad_capacity(cls, capacity):
    with pytest.raises(ValueError, match="capacity"):
        cls(capacity)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize("batch_size", [0, -4, 2.5])
def test_bad_batch_size(cls, batch_size):
    memory = fill(cls(10), 5)
    with pytest.raises(ValueError, match="batch_size"):
        memory.sample(batch_size)


@pytest.mark.parametrize("cls", MEMORIES)
def test_sampling_an_empty_memory(cls):
    with pytest.raises(ValueError, match="empty"):
        cls(10).sample(4)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize(
    ("indices", "td", "match"),
    [
        ([0, 1], [0.5, -0.1], "td_errors"),
        ([0, 1], [np.nan, 0.1], "td_errors"),
        ([0, 1], [0.1, np.inf], "td_errors"),
        ([0, 5], [0.1, 0.1], "indices"),  # 5 transitions stored: 5 is out of range
        ([-1], [0.1], "indices"),
        ([0, 1], [0.1], "one value per index"),
    ],
)
def test_bad_priority_updates_raise_and_change_nothing(cls, indices, td, match):
    memory = fill(cls(10, seed=0), 5)
    state = lambda m: (  # noqa: E731
        m.tree._sums.copy()
        if isinstance(m, PrioritizedReplay)
        else getattr(m, "_td", np.zeros(1)).copy()
    )
    before = state(memory)
    with pytest.raises(ValueError, match=match):
        memory.update_priorities(indices, td)
    np.testing.assert_array_equal(state(memory), before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": np.nan}, "alpha"),
        ({"beta": -0.01}, "beta"),
        ({"beta": 1.5}, "beta"),
        ({"beta_final": 1.01}, "beta_final"),
        ({"beta_final": np.nan}, "beta_final"),
        ({"beta_steps": 0}, "beta_steps"),
        ({"eps": 0.0}, "eps"),
        ({"eps": -1.0}, "eps"),
    ],
)
def test_bad_per_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PrioritizedReplay(10, **kwargs)


def test_bad_list_eps():
    with pytest.raises(ValueError, match="eps"):
        TDErrorListReplay(10, eps=0.0)


def test_list_refresh_rejects_bad_errors():
    memory = fill(TDErrorListReplay(10), 5)
    with pytest.raises(ValueError, match="td_errors"):
        memory.refresh_td_errors(lambda b: -np.ones(len(b)))
    with pytest.raises(ValueError, match="one value per index"):
        memory.refresh_td_errors(lambda b: np.ones(1))


@pytest.mark.parametrize("cls", MEMORIES)
def test_obs_shape_mismatch(cls):
    memory = fill(cls(10), 2)
    with pytest.raises(ValueError, match="shape"):
        memory.add(np.zeros(3), 0, 0.0, np.zeros(3), False)


def test_only_capacity_is_needed():
    for cls in MEMORIES:
        memory = cls(8)
        fill(memory, 3, obs_dim=6)
        assert memory.sample(2).obs.shape == (2, 6)
