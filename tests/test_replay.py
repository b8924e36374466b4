"""The three replay memories: sampling frequencies, IS weights, ring buffer, bad input."""

import re

import numpy as np
import pytest
from memstate import assert_same_state, snapshot
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
@pytest.mark.parametrize(
    ("capacity", "error"), [(0, ValueError), (-1, ValueError), (3.0, TypeError), (None, TypeError)]
)
def test_bad_capacity(cls, capacity, error):
    with pytest.raises(error, match=f"capacity must be a positive integer, got {capacity}"):
        cls(capacity)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize(
    ("batch_size", "error"), [(0, ValueError), (-4, ValueError), (2.5, TypeError), ("8", TypeError)]
)
def test_bad_batch_size(cls, batch_size, error):
    memory = fill(cls(10), 5)
    with pytest.raises(error, match="batch_size must be a positive integer, got"):
        memory.sample(batch_size)


@pytest.mark.parametrize("cls", MEMORIES)
def test_sampling_an_empty_memory(cls):
    with pytest.raises(ValueError, match="empty"):
        cls(10).sample(4)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize(
    ("indices", "td", "match"),
    [
        ([0, 1], [0.5, -0.1], r"td_errors .* got -0\.1 \(td_errors\[1\]\)"),
        ([0, 1], [np.nan, 0.1], r"td_errors .* got nan \(td_errors\[0\]\)"),
        ([0, 1], [0.1, np.inf], r"td_errors .* got inf"),
        ([0, 5], [0.1, 0.1], r"indices must lie in \[0, len\(memory\)=5\), got 5"),  # 5 is out
        ([-1], [0.1], r"indices .* got -1"),
        (np.array([2**63], dtype=np.uint64), [0.1], "got 9223372036854775808$"),
        ([0, 1], [0.1], "one value per index"),
        ([0.0], [0.1], TypeError),
        ([0], ["x"], TypeError),
    ],
)
def test_bad_priority_updates_raise_and_change_nothing(cls, indices, td, match):
    memory = fill(cls(10, seed=0), 5)
    before = snapshot(memory)
    error = match if isinstance(match, type) else ValueError
    with pytest.raises(error, match=None if isinstance(match, type) else match):
        memory.update_priorities(indices, td)
    assert_same_state(snapshot(memory), before)


@pytest.mark.parametrize(
    "make",
    [lambda: TDErrorListReplay(10, seed=0), lambda: PrioritizedReplay(10, alpha=1.0, seed=0)],
)
def test_huge_td_errors_are_refused_by_name(make):
    """1e308 twice would overflow the total to inf (then PER samples NaN weights); the error
    names td_errors, what the caller passed, not the tree's priorities."""
    memory = fill(make(), 5)
    before = snapshot(memory)
    with pytest.raises(ValueError, match=r"td_errors .*1e\+308"):
        memory.update_priorities([0, 1], [1e308, 1e308])
    assert_same_state(snapshot(memory), before)
    memory.update_priorities([0, 1], [1e300, 1e300])  # large but within the limit
    batch = memory.sample(8)
    assert np.isfinite(batch.weights).all() and (batch.weights > 0).all()


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
        ({"eps": 1e308, "alpha": 1.0}, "eps must give a priority"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_per_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PrioritizedReplay(10, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"eps": "a"}, "eps must be a real number, got 'a'"),
        ({"alpha": "0.6"}, "alpha must be a real number, got '0.6'"),
        ({"beta": None}, "beta must be a real number, got None"),
        ({"beta_final": [1.0]}, "beta_final must be a real number, got [1.0]"),
        ({"beta_steps": 10.0}, "beta_steps must be a positive integer, got 10.0"),
        ({"seed": "x"}, "seed must be None or a non-negative integer, got 'x'"),
    ],
)
def test_per_parameters_of_the_wrong_type(kwargs, shown):
    with pytest.raises(TypeError, match=re.escape(shown)):
        PrioritizedReplay(10, **kwargs)


@pytest.mark.parametrize(
    ("eps", "error"), [(0.0, ValueError), (np.inf, ValueError), ("a", TypeError), (None, TypeError)]
)
def test_bad_list_eps(eps, error):
    with pytest.raises(error, match=f"eps must .*, got {eps!r}"):
        TDErrorListReplay(10, eps=eps)


def test_list_refresh_rejects_bad_errors():
    memory = fill(TDErrorListReplay(10), 5)
    with pytest.raises(ValueError, match="td_errors"):
        memory.refresh_td_errors(lambda b: -np.ones(len(b)))
    with pytest.raises(ValueError, match="one value per index"):
        memory.refresh_td_errors(lambda b: np.ones(1))
    with pytest.raises(TypeError, match="td_error_fn must be callable"):
        memory.refresh_td_errors(None)


def test_list_refresh_is_all_or_nothing():
    """A later chunk returning NaN (or raising) leaves the earlier chunks unwritten."""
    memory = fill(TDErrorListReplay(100, seed=0), 70)
    memory.update_priorities(np.arange(70), np.full(70, 0.25))
    before = snapshot(memory)

    def nan_in_third_chunk(batch):
        td = np.full(len(batch), 3.0)
        if batch.indices[0] >= 64:
            td[-1] = np.nan
        return td

    with pytest.raises(ValueError, match=r"td_errors .* got nan \(td_errors\[5\]\)"):
        memory.refresh_td_errors(nan_in_third_chunk, chunk_size=32)
    assert_same_state(snapshot(memory), before)

    def raises_in_second_chunk(batch):
        if batch.indices[0] >= 32:
            raise RuntimeError("network blew up")
        return np.full(len(batch), 3.0)

    with pytest.raises(RuntimeError):
        memory.refresh_td_errors(raises_in_second_chunk, chunk_size=32)
    assert_same_state(snapshot(memory), before)


@pytest.mark.parametrize("cls", MEMORIES)
def test_obs_shape_mismatch(cls):
    memory = fill(cls(10), 2)
    with pytest.raises(ValueError, match="shape"):
        memory.add(np.zeros(3), 0, 0.0, np.zeros(3), False)


OBS = np.arange(4, dtype=np.float32)
BAD_ADDS = [  # (obs, action, reward, next_obs, terminated), error, what the message shows
    ((OBS, float("nan"), 1.0, OBS, False), TypeError, "action must be an integer .*, got nan"),
    ((OBS, "x", 1.0, OBS, False), TypeError, "action .* got 'x'"),
    ((OBS, 2.7, 1.0, OBS, False), TypeError, "action .* got 2.7"),
    ((OBS, True, 1.0, OBS, False), TypeError, "action .* got True"),
    ((OBS, -3, 1.0, OBS, False), ValueError, "action must be a non-negative integer, got -3"),
    ((OBS, 2**64, 1.0, OBS, False), ValueError, "action .* got 18446744073709551616"),
    ((OBS, 1, "x", OBS, False), TypeError, "reward must be a real number, got 'x'"),
    ((OBS, 1, None, OBS, False), TypeError, "reward .* got None"),
    ((OBS, 1, float("inf"), OBS, False), ValueError, "reward must be finite, got inf"),
    ((OBS, 1, float("nan"), OBS, False), ValueError, "reward must be finite, got nan"),
    ((OBS, 1, 1e39, OBS, False), ValueError, r"reward must fit float32 .*, got 1e\+39"),
    ((OBS, 1, 1.0, OBS, "x"), TypeError, "terminated must be a bool, got 'x'"),
    ((OBS, 1, 1.0, OBS, 2), ValueError, "terminated .* got 2"),
    ((OBS, 1, 1.0, OBS, None), TypeError, "terminated .* got None"),
    (([0, np.nan, 0, 0], 1, 1.0, OBS, False), ValueError, "obs must be finite .*got nan at"),
    ((OBS, 1, 1.0, [0, 0, np.inf, 0], False), ValueError, "next_obs must be finite .*got inf"),
    ((None, 1, 1.0, OBS, False), TypeError, "obs must be an array of real numbers, got None"),
    ((OBS, 1, 1.0, "abcd", False), TypeError, "next_obs must be an array .* got 'abcd'"),
    ((OBS, 1, 1.0, [[1, 2], [3]], False), TypeError, "next_obs must be an array"),
    ((OBS[:3], 1, 1.0, OBS, False), ValueError, r"shape \(4,\), got \(3,\) and \(4,\)"),
]


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize(("args", "error", "shown"), BAD_ADDS)
def test_a_refused_add_changes_nothing(cls, args, error, shown):
    """On a full memory the refused add's slot is the oldest transition: it must survive."""
    memory = fill(cls(5, seed=0), 7)  # full, wrapped: the next add would overwrite slot 2
    before = snapshot(memory)
    with pytest.raises(error, match=shown):
        memory.add(*args)
    assert_same_state(snapshot(memory), before)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize(("args", "error", "shown"), BAD_ADDS[:-1])
def test_a_refused_first_add_allocates_nothing(cls, args, error, shown):
    memory = cls(5, seed=0)
    before = snapshot(memory)
    with pytest.raises(error, match=shown):
        memory.add(*args)
    assert_same_state(snapshot(memory), before)
    assert memory._obs is None  # the first good add still fixes the shape
    memory.add(np.zeros(2), 0, 0.0, np.zeros(2), False)
    assert memory.sample(1).obs.shape == (1, 2)


@pytest.mark.parametrize("cls", MEMORIES)
def test_add_takes_numpy_scalars_and_other_shapes(cls):
    memory = cls(4, seed=0)
    obs = np.ones((2, 3))  # float64, 2-D: stored as float32 rows
    memory.add(obs, np.int64(1), np.float32(0.5), obs * 2, np.bool_(True))
    memory.add(obs, np.uint8(0), 2, obs, 0)
    memory.add(obs, np.array(3), np.array(1.5), obs, 1.0)
    batch = memory._gather(np.arange(3), np.ones(3))
    assert batch.obs.shape == (3, 2, 3) and batch.obs.dtype == np.float32
    np.testing.assert_array_equal(batch.next_obs[0], obs * 2)
    np.testing.assert_array_equal(batch.actions, [1, 0, 3])
    np.testing.assert_array_equal(batch.rewards, [0.5, 2.0, 1.5])
    np.testing.assert_array_equal(batch.terminated, [True, False, True])


def test_only_capacity_is_needed():
    for cls in MEMORIES:
        memory = cls(8)
        fill(memory, 3, obs_dim=6)
        assert memory.sample(2).obs.shape == (2, 6)


@pytest.mark.parametrize("cls", MEMORIES)
@pytest.mark.parametrize("which", ["obs", "next_obs"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_refused_add_on_the_fast_path_changes_nothing(cls, which, bad):
    """What a gymnasium loop passes (float32 arrays of the stored shape, an int, a float, a
    bool) skips the checker and goes straight to the copying kernel: a NaN or inf there must
    still be refused before the slot (the oldest transition, on a full memory) is written."""
    memory = fill(cls(5, seed=0), 7)
    shape = memory.transitions([0]).obs.shape[1:]
    good = np.zeros(shape, dtype=np.float32)
    broken = good.copy()
    broken.reshape(-1)[-1] = bad
    args = {"obs": good, "next_obs": good, which: broken}
    before = snapshot(memory)
    with pytest.raises(ValueError, match=f"{which} must be finite"):
        memory.add(args["obs"], 1, 1.0, args["next_obs"], False)
    assert_same_state(snapshot(memory), before)
