"""The stabilisers of issue 19 against brute-force references: n-step transitions (from a whole
recorded episode), per-sample discounts and the bound in the targets (a per-sample loop), the
dueling head and LayerNorm (float64 formulas written from the papers' definitions, and the
numpy forward against the torch forward), their Config fields and save/load."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from prdqn_lib.agent import (
    Agent,
    QNetwork,
    bootstrap_bounds,
    double_dqn_target,
    dqn_target,
    numpy_layer_norm,
)
from prdqn_lib.config import Config
from prdqn_lib.nstep import NStepBuffer, NStepTransition, accepts_discount, add_n_step
from prdqn_lib.replay import Batch, UniformReplay

OPTIONS = list(itertools.product((False, True), (False, True)))  # (dueling, layer_norm)
LN_EPS = 1e-5  # the documented LayerNorm ε: the references hard-code it


# ---------------------------------------------------------------- n-step: brute force


def record(episodes):
    """Env steps of consecutive episodes: (obs, action, reward, next_obs, terminated,
    truncated), with s_t = [episode, t] and a_t = t so that every state is recognisable."""
    steps = []
    for e, (rewards, end) in enumerate(episodes):
        length = len(rewards)
        for t, r in enumerate(rewards):
            last = t == length - 1
            steps.append(
                (np.array([e, t], float), t, r, np.array([e, t + 1], float),
                 last and end == "terminated", last and end == "truncated")
            )  # fmt: skip
    return steps


def brute_force_nstep(episodes, n, gamma):
    """Every n-step transition of each whole episode, by its definition, with the index of the
    env step (counted over all episodes) at which it is complete: t + k − 1."""
    out, offset = [], 0
    for e, (rewards, end) in enumerate(episodes):
        length = len(rewards)
        for t in range(length):
            if t + n > length and end == "running":
                continue  # its window is not complete yet when the recording stops
            k = min(n, length - t)
            ret = sum(gamma**j * rewards[t + j] for j in range(k))
            terminated = end == "terminated" and t + k == length
            out.append(
                (offset + t + k - 1,
                 NStepTransition(np.array([e, t], float), t, ret, np.array([e, t + k], float),
                                 terminated, gamma**k, k))
            )  # fmt: skip
        offset += length
    return out


def feed(buffer, steps):
    """(step index, transition) for everything the buffer emits."""
    return [(i, tr) for i, step in enumerate(steps) for tr in buffer.push(*step)]


rewards_st = st.lists(
    st.floats(-10, 10, allow_nan=False, allow_infinity=False), min_size=1, max_size=25
)
episodes_st = st.tuples(
    st.lists(st.tuples(rewards_st, st.sampled_from(["terminated", "truncated"])), max_size=3),
    st.tuples(rewards_st, st.sampled_from(["terminated", "truncated", "running"])),
).map(lambda eps: [*eps[0], eps[1]])
gamma_st = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 0.99]), st.floats(0, 1))


@settings(max_examples=300)
@given(episodes=episodes_st, n=st.integers(1, 7), gamma=gamma_st)
def test_nstep_buffer_matches_brute_force_over_whole_episodes(episodes, n, gamma):
    got = feed(NStepBuffer(n, gamma), record(episodes))
    want = brute_force_nstep(episodes, n, gamma)
    assert [(i, tr.action, tr.obs.tolist()) for i, tr in got] == [
        (i, tr.action, tr.obs.tolist()) for i, tr in want
    ]  # the same transitions, in the same order, each emitted as soon as it is complete
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert g.next_obs.tolist() == w.next_obs.tolist()
        assert g.terminated is w.terminated
        assert g.n_steps == w.n_steps
        assert g.reward == pytest.approx(w.reward, rel=1e-12, abs=1e-12)
        assert g.discount == pytest.approx(w.discount, rel=1e-12, abs=0)


@settings(max_examples=200)
@given(episodes=episodes_st, gamma=gamma_st)
def test_nstep_buffer_with_n1_gives_exactly_the_one_step_transitions(episodes, gamma):
    steps = record(episodes)
    got = feed(NStepBuffer(1, gamma), steps)
    assert [i for i, _ in got] == list(range(len(steps)))  # one per step, at once
    for (_, tr), (obs, action, reward, next_obs, terminated, _) in zip(got, steps, strict=True):
        assert (tr.obs.tolist(), tr.action, tr.next_obs.tolist()) == (
            obs.tolist(), action, next_obs.tolist()
        )  # fmt: skip
        assert tr.reward == reward and tr.discount == gamma and tr.n_steps == 1  # exactly
        assert tr.terminated is terminated


@pytest.mark.parametrize("end", ["terminated", "truncated"])
def test_nstep_buffer_by_hand(end):
    """n = 3, γ = 1/2, rewards 1, 2, 4, 8: every R below is worked out by hand."""
    buf = NStepBuffer(3, 0.5)
    steps = record([([1.0, 2.0, 4.0, 8.0], end)])
    assert buf.push(*steps[0]) == [] and buf.push(*steps[1]) == [] and len(buf) == 2
    (first,) = buf.push(*steps[2])  # 1 + 2/2 + 4/4
    assert (first.reward, first.discount, first.n_steps, first.terminated) == (3.0, 0.125, 3, False)
    assert first.next_obs.tolist() == [0, 3]
    flushed = buf.push(*steps[3])  # the episode ends: everything pending flushes
    assert len(buf) == 0
    assert [(t.action, t.reward, t.discount, t.n_steps) for t in flushed] == [
        (1, 2 + 4 / 2 + 8 / 4, 0.125, 3),
        (2, 4 + 8 / 2, 0.25, 2),  # shorter windows: their own γ^k (γ^n would be 0.125)
        (3, 8.0, 0.5, 1),
    ]
    assert all(t.next_obs.tolist() == [0, 4] for t in flushed)
    assert all(t.terminated is (end == "terminated") for t in flushed)


def test_nstep_buffer_termination_wins_over_truncation_and_copies_observations():
    buf = NStepBuffer(2, 0.9)
    obs, next_obs = np.zeros(2), np.ones(2)
    (tr,) = buf.push(obs, 0, 1.0, next_obs, True, True)
    assert tr.terminated is True and tr.discount == pytest.approx(0.9)
    obs[:] = 7.0
    next_obs[:] = 7.0  # a loop that reuses its arrays must not change what was emitted
    assert tr.obs.tolist() == [0, 0] and tr.next_obs.tolist() == [1, 1]


@pytest.mark.parametrize(
    ("n", "gamma"), [(0, 0.9), (-1, 0.9), (2.0, 0.9), (True, 0.9), (3, 1.5), (3, -0.1)]
)
def test_nstep_buffer_refuses_bad_arguments(n, gamma):
    with pytest.raises(ValueError):
        NStepBuffer(n, gamma)


# ---------------------------------------------------------------- storing n-step transitions


class DiscountMemory:
    """What the n-step hook needs from a memory (the interface ``add_n_step`` documents):
    ``add(..., discount=...)`` storing it, and a Batch with ``discounts``."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, obs, action, reward, next_obs, terminated, discount=None) -> int:
        self.rows.append((obs, action, reward, next_obs, terminated, discount))
        return len(self.rows) - 1

    def sample_all(self) -> DiscountBatch:
        obs, actions, rewards, next_obs, terminated, discounts = zip(*self.rows, strict=True)
        n = len(self.rows)
        return DiscountBatch(
            np.array(obs, np.float32), np.array(actions, np.int64),
            np.array(rewards, np.float32), np.array(next_obs, np.float32),
            np.array(terminated, bool), np.ones(n), np.arange(n), np.array(discounts),
        )  # fmt: skip


DiscountBatch = Batch  # Batch now carries the per-sample γ^k itself (``discounts``)


def test_add_n_step_stores_each_discount_and_returns_indices():
    memory = DiscountMemory()
    buf = NStepBuffer(3, 0.5)
    indices = []
    for step in record([([1.0, 1.0, 1.0, 1.0], "truncated")]):
        indices += add_n_step(memory, buf.push(*step), 0.5)
    assert indices == [0, 1, 2, 3]
    assert [row[-1] for row in memory.rows] == [0.125, 0.125, 0.25, 0.5]
    assert [row[2] for row in memory.rows] == [1.75, 1.75, 1.5, 1.0]


class OneStepMemory(UniformReplay):
    """A memory whose ``add`` takes no discount (as every memory's did before n-step)."""

    def add(self, obs, action, reward, next_obs, terminated):
        return super().add(obs, action, reward, next_obs, terminated)


def test_add_n_step_into_a_memory_without_discounts_only_for_one_step():
    memory = OneStepMemory(10)
    assert not accepts_discount(memory) and accepts_discount(DiscountMemory())
    assert accepts_discount(UniformReplay(10))  # the library's memories store discounts
    one_step = NStepBuffer(1, 0.9).push(np.zeros(4), 1, 1.0, np.ones(4), False, False)
    assert add_n_step(memory, one_step, 0.9) == [0] and len(memory) == 1
    three = NStepBuffer(3, 0.9)
    pending = three.push(np.zeros(4), 1, 1.0, np.ones(4), False, False)
    assert add_n_step(memory, pending, 0.9) == []  # nothing complete yet: nothing to store
    flushed = three.push(np.ones(4), 0, 1.0, np.ones(4), False, True)  # k = 2 and 1
    with pytest.raises(TypeError, match="discount"):
        add_n_step(memory, flushed, 0.9)
    assert len(memory) == 1  # refused before anything was stored


def test_accepts_discount_sees_var_keywords():
    class Kw:
        def add(self, *args, **kwargs):
            return 0

    assert accepts_discount(Kw())


# ---------------------------------------------------------------- targets: brute force


def brute_force_target(rewards, terminated, q_online, q_target, discounts, bounds, double):
    """y_i by the definition, one sample at a time, in float64."""
    y = np.empty(len(rewards))
    for i in range(len(rewards)):
        a = int(np.argmax(q_online[i] if double else q_target[i]))
        v = float(q_target[i, a])
        if bounds is not None:
            v = min(max(v, bounds[0]), bounds[1])
        y[i] = rewards[i] + discounts[i] * (0.0 if terminated[i] else 1.0) * v
    return y


@settings(max_examples=100)
@given(
    seed=st.integers(0, 2**32 - 1),
    batch=st.integers(1, 64),
    n_actions=st.integers(1, 5),
    per_sample=st.booleans(),
    bounds=st.sampled_from([None, (0.0, 100.0), (-5.0, 5.0), (2.0, 2.5)]),
    double=st.booleans(),
)
def test_targets_match_brute_force(seed, batch, n_actions, per_sample, bounds, double):
    rng = np.random.default_rng(seed)
    rewards = rng.uniform(-2, 2, batch).astype(np.float32)
    terminated = rng.random(batch) < 0.3
    q_online = (rng.normal(size=(batch, n_actions)) * 60).astype(np.float32)
    q_target = (rng.normal(size=(batch, n_actions)) * 60 + 40).astype(np.float32)
    discounts = rng.uniform(0, 1, batch).astype(np.float32) if per_sample else None
    gamma = torch.from_numpy(discounts) if per_sample else 0.97
    args = (torch.from_numpy(rewards), torch.from_numpy(terminated))
    if double:
        y = double_dqn_target(
            *args, torch.from_numpy(q_online), torch.from_numpy(q_target), gamma, bounds
        )
    else:
        y = dqn_target(*args, torch.from_numpy(q_target), gamma, bounds)
    want = brute_force_target(
        rewards, terminated, q_online, q_target,
        discounts if per_sample else np.full(batch, 0.97), bounds, double,
    )  # fmt: skip
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-4)


def test_bound_clips_the_bootstrapped_value_not_the_target():
    """r = 0 and 1.5, Q_target(s', ·) = 200 > q_max = 100: the target is r + γ·100 (clipping y
    instead would give 100 for both)."""
    rewards = torch.tensor([0.0, 1.5])
    terminated = torch.tensor([False, False])
    q = torch.full((2, 2), 200.0)
    y = double_dqn_target(rewards, terminated, q, q, 0.5, (0.0, 100.0))
    assert y.tolist() == [50.0, 51.5]
    assert dqn_target(rewards, terminated, q, 0.5, (0.0, 100.0)).tolist() == [50.0, 51.5]
    low = dqn_target(rewards, terminated, -q, 0.5, (0.0, 100.0))  # clipped up to q_min too
    assert low.tolist() == [0.0, 1.5]


def test_a_gamma_tensor_equal_to_gamma_gives_the_same_bits():
    """A memory that stores γ for every one-step transition trains exactly as without it."""
    g = torch.Generator().manual_seed(0)
    rewards, terminated = torch.rand(128, generator=g), torch.rand(128, generator=g) < 0.1
    q_online, q_target = torch.randn(128, 2, generator=g) * 50, torch.randn(128, 2, generator=g)
    for discounts in (torch.full((128,), 0.99), torch.full((128,), 0.99, dtype=torch.float64)):
        assert torch.equal(
            double_dqn_target(rewards, terminated, q_online, q_target, 0.99),
            double_dqn_target(rewards, terminated, q_online, q_target, discounts),
        )
        assert torch.equal(
            dqn_target(rewards, terminated, q_target, 0.99),
            dqn_target(rewards, terminated, q_target, discounts),
        )


def test_a_gamma_tensor_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="one discount per sample"):
        dqn_target(torch.zeros(4), torch.zeros(4, dtype=bool), torch.zeros(4, 2), torch.ones(3))


def agent_batch(rng, size, discounts=None):
    cls, extra = (Batch, {}) if discounts is None else (DiscountBatch, {"discounts": discounts})
    return cls(
        rng.normal(size=(size, 4)).astype(np.float32), rng.integers(0, 2, size),
        rng.uniform(0, 1, size).astype(np.float32), rng.normal(size=(size, 4)).astype(np.float32),
        rng.random(size) < 0.2, np.ones(size), np.arange(size), **extra,
    )  # fmt: skip


@pytest.mark.parametrize("variant", ["dqn", "ddqn"])
@pytest.mark.parametrize("q_max", [0.0, 0.05])
def test_agent_reads_per_sample_discounts(variant, q_max):
    """|δ| of a batch with ``discounts`` against the target computed sample by sample from the
    networks' numpy forward passes (q_max 0.05: the bound is active for most samples)."""
    rng = np.random.default_rng(1)
    agent = Agent(4, 2, Config(variant=variant, n_step=3, q_min=0.0, q_max=q_max))
    discounts = rng.uniform(0, 1, 32)
    batch = agent_batch(rng, 32, discounts)
    q_online = agent.online.numpy_forward()(batch.next_obs)
    q_target = agent.target.numpy_forward()(batch.next_obs)
    bounds = (0.0, q_max) if q_max else None
    y = brute_force_target(
        batch.rewards, batch.terminated, q_online, q_target, discounts, bounds, variant != "dqn"
    )
    q = agent.online.numpy_forward()(batch.obs)[np.arange(32), batch.actions]
    np.testing.assert_allclose(agent.td_errors(batch), np.abs(y - q), rtol=1e-5, atol=1e-6)
    loss, td = agent.update(batch)  # priorities are these n-step |δ|
    np.testing.assert_allclose(td, np.abs(y - q), rtol=1e-5, atol=1e-6)


def test_agent_without_discounts_uses_gamma_and_n_step_needs_them():
    rng = np.random.default_rng(2)
    batch = agent_batch(rng, 16)
    agent = Agent(4, 2, Config(gamma=0.9))
    same = dataclasses.replace(batch, discounts=np.full(16, 0.9))
    assert np.array_equal(agent.td_errors(batch), agent.td_errors(same))
    with pytest.raises(ValueError, match="discounts"):
        Agent(4, 2, Config(n_step=3)).td_errors(batch)


def test_n_step_transitions_end_to_end_give_the_n_step_target():
    """Episode → NStepBuffer → add_n_step → memory → Batch.discounts → Agent: y equals
    Σ_{j<k} γ^j r_{t+j} + γ^k·(1 − terminated)·Q_target(s_{t+k}, a*) from the raw episode."""
    rng = np.random.default_rng(3)
    cfg = Config(variant="ddqn", n_step=3, gamma=0.9)
    agent = Agent(4, 2, cfg)
    memory, buf = DiscountMemory(), NStepBuffer(cfg.n_step, cfg.gamma)
    states = rng.normal(size=(8, 4)).astype(np.float32)
    rewards = rng.uniform(0, 1, 7)
    for t in range(7):  # 7 steps, truncated at the end
        add_n_step(memory, buf.push(states[t], t % 2, rewards[t], states[t + 1], False, t == 6),
                   cfg.gamma)  # fmt: skip
    batch = memory.sample_all()
    q_online = agent.online.numpy_forward()(states)
    q_target = agent.target.numpy_forward()(states)
    want = []
    for t in range(7):
        k = min(3, 7 - t)
        ret = sum(cfg.gamma**j * rewards[t + j] for j in range(k))
        want.append(ret + cfg.gamma**k * q_target[t + k, np.argmax(q_online[t + k])])
    q = agent.online.numpy_forward()(states[:7])[np.arange(7), np.arange(7) % 2]
    np.testing.assert_allclose(agent.td_errors(batch), np.abs(np.array(want) - q), rtol=1e-5)


# ---------------------------------------------------------------- the network: brute force


def reference_q(net: QNetwork, obs: np.ndarray) -> np.ndarray:
    """Q from the definitions, in float64: Linear → [LayerNorm, ε = 1e-5] → ReLU per hidden
    layer; Q = A, or V + A − mean A for the dueling head (Wang et al., 2016, eq. 9)."""

    def p(t):
        return t.detach().numpy().astype(np.float64)

    x = np.atleast_2d(obs).astype(np.float64)
    for k, layer in enumerate(net.layers[:-1]):
        x = x @ p(layer.weight).T + p(layer.bias)
        if net.layer_norm:
            norm = net.norms[k]
            for row in range(x.shape[0]):
                mu = sum(x[row]) / x.shape[1]
                var = sum((x[row] - mu) ** 2) / x.shape[1]  # biased, as LayerNorm
                x[row] = (x[row] - mu) / np.sqrt(var + LN_EPS) * p(norm.weight) + p(norm.bias)
        x = np.maximum(x, 0.0)
    adv = x @ p(net.layers[-1].weight).T + p(net.layers[-1].bias)
    if not net.dueling:
        return adv
    value = x @ p(net.value.weight).T + p(net.value.bias)
    q = np.empty_like(adv)
    for s in range(adv.shape[0]):
        for a in range(adv.shape[1]):
            q[s, a] = value[s, 0] + adv[s, a] - sum(adv[s]) / adv.shape[1]
    return q


def randomise(net: QNetwork, seed: int, scale: float) -> None:
    """Random weights (LayerNorm gains and biases too) at ``scale``: a tiny scale makes the
    hidden variances comparable with LayerNorm's ε, which a wrong ε cannot survive."""
    g = torch.Generator().manual_seed(seed)
    last = f"layers.{len(net.layers) - 1}."
    with torch.no_grad():
        for name, param in net.named_parameters():
            hidden = name.startswith("layers.") and name != last and not name.startswith(last)
            param.copy_(torch.randn(param.shape, generator=g) * (scale if hidden else 1.0))


@settings(max_examples=60)
@given(
    options=st.sampled_from(OPTIONS),
    hidden=st.sampled_from([(8,), (16, 8), (5, 7, 3)]),
    n_actions=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-4, 1e-2, 1.0, 5.0]),
)
def test_forward_and_numpy_forward_match_the_reference(options, hidden, n_actions, seed, scale):
    dueling, layer_norm = options
    net = QNetwork(4, n_actions, hidden, dueling=dueling, layer_norm=layer_norm)
    randomise(net, seed, scale)
    obs = np.random.default_rng(seed).normal(size=(9, 4)).astype(np.float32)
    want = reference_q(net, obs)
    torch_q = net(torch.from_numpy(obs)).detach().numpy()
    numpy_q = net.numpy_forward()(obs)
    atol = 1e-4 * (1.0 + np.abs(want).max())
    np.testing.assert_allclose(torch_q, want, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(numpy_q, want, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(numpy_q, torch_q, rtol=1e-5, atol=atol / 10)
    one = net.numpy_forward()(obs[0])  # one observation, no batch axis
    np.testing.assert_allclose(one, want[0], rtol=1e-4, atol=atol)
    assert numpy_q.dtype == np.float32


@pytest.mark.parametrize("layer_norm", [False, True])
def test_dueling_mean_of_q_is_the_value_stream(layer_norm):
    net = QNetwork(4, 3, (16, 16), dueling=True, layer_norm=layer_norm)
    randomise(net, 0, 1.0)
    obs = torch.randn(20, 4, generator=torch.Generator().manual_seed(1))
    x = obs
    for k, layer in enumerate(net.layers[:-1]):
        x = layer(x)
        x = torch.relu(net.norms[k](x) if layer_norm else x)
    torch.testing.assert_close(net(obs).mean(dim=1), net.value(x).squeeze(1))


def test_numpy_layer_norm_matches_torch_at_small_variance():
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    for spread in (1e-4, 1e-3, 1e-2, 1.0, 100.0):
        x = (3.0 + spread * rng.normal(size=(10, 6))).astype(np.float32)
        want = F.layer_norm(torch.from_numpy(x), (6,), torch.from_numpy(weight),
                            torch.from_numpy(bias), LN_EPS).numpy()  # fmt: skip
        got = numpy_layer_norm(x, weight, bias, LN_EPS)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert QNetwork(4, 2, (8,), layer_norm=True).norms[0].eps == LN_EPS


def test_default_network_is_the_plain_mlp_with_the_same_initialisation():
    """Off, the options add no parameter and draw no random number: the same seed gives the
    same weights as the Linear layers alone (what the default Config trained with before)."""
    torch.manual_seed(5)
    plain = [torch.nn.Linear(a, b) for a, b in [(4, 64), (64, 64), (64, 2)]]
    torch.manual_seed(5)
    net = QNetwork(4, 2, (64, 64))
    assert list(net.state_dict()) == [
        f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")
    ]
    for layer, ref in zip(net.layers, plain, strict=True):
        assert torch.equal(layer.weight, ref.weight) and torch.equal(layer.bias, ref.bias)
    torch.manual_seed(5)
    both = QNetwork(4, 2, (64, 64), dueling=True, layer_norm=True)
    for layer, ref in zip(both.layers, plain, strict=True):  # the shared layers: unchanged too
        assert torch.equal(layer.weight, ref.weight)
    assert {"norms.0.weight", "norms.1.bias", "value.weight", "value.bias"} <= set(
        both.state_dict()
    )


# ---------------------------------------------------------------- Config, save and load


def test_config_stabilisers_default_off():
    cfg = Config()
    assert (cfg.n_step, cfg.dueling, cfg.layer_norm) == (1, False, False)
    assert bootstrap_bounds(cfg) is None
    assert bootstrap_bounds(Config(q_min=0.0, q_max=100.0)) == (0.0, 100.0)
    assert bootstrap_bounds(Config(q_min=5.0, q_max=5.0)) is None  # equal: off
    agent = Agent(4, 2, cfg)
    assert agent.online.value is None and agent.online.norms is None


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"n_step": 0}, ValueError, "n_step"),
        ({"n_step": 2.0}, TypeError, "n_step"),
        ({"dueling": 1}, TypeError, "dueling"),
        ({"layer_norm": "yes"}, TypeError, "layer_norm"),
        ({"q_min": 1.0, "q_max": 0.0}, ValueError, "q_max"),
        ({"q_max": float("inf")}, ValueError, "q_max"),
    ],
)
def test_config_refuses_bad_stabiliser_values(change, error, match):
    with pytest.raises(error, match=match):
        Config(**change)


@pytest.mark.parametrize(("dueling", "layer_norm"), OPTIONS)
def test_agent_save_load_round_trips_the_options(tmp_path, dueling, layer_norm):
    cfg = Config(n_step=3, dueling=dueling, layer_norm=layer_norm, q_min=0.0, q_max=100.0)
    agent = Agent(4, 3, cfg)
    randomise(agent.online, 7, 1.0)
    agent.save(tmp_path / "a.pt")
    loaded = Agent.load(tmp_path / "a.pt")
    assert loaded.config == cfg
    want = QNetwork(4, 3, cfg.hidden, dueling=dueling, layer_norm=layer_norm).state_dict()
    shapes = {k: v.shape for k, v in want.items()}  # the network the options describe
    for net in (agent.online, agent.target, loaded.online, loaded.target):
        assert {k: v.shape for k, v in net.state_dict().items()} == shapes
        assert (net.dueling, net.layer_norm) == (dueling, layer_norm)
    probe = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.greedy_actions(probe), agent.greedy_actions(probe))
    np.testing.assert_array_equal(
        loaded.online.numpy_forward()(probe), agent.online.numpy_forward()(probe)
    )
    assert loaded._bounds == (0.0, 100.0)
