"""Ape-X's pieces without Ray: the ε_i schedule, actor-side priorities, the memory's blocks with
given priorities, weight refresh, the actor's blocks and the learner's pacing rule."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from memstate import assert_same_state, snapshot

from prdqn_lib import PrioritizedReplay
from prdqn_lib.agent import Agent
from prdqn_lib.apex import (
    ApexActor,
    Block,
    ReplayServer,
    _allowed_updates,
    _budgets,
    actor_epsilons,
    block_td_errors,
    check_ray_address,
    get_weights,
    set_weights,
)
from prdqn_lib.config import Config

# ------------------------------------------------------------------------------ ε_i schedule


def test_epsilons_follow_apex_formula():
    eps = actor_epsilons(8, 0.4, 7.0)
    expected = [0.4 ** (1 + 7 * i / 7) for i in range(8)]  # ε^(1 + α·i/(N−1))
    np.testing.assert_allclose(eps, expected, rtol=1e-12)
    assert eps[0] == pytest.approx(0.4) and eps[-1] == pytest.approx(0.4**8)
    # evenly spaced on a log scale, decreasing
    np.testing.assert_allclose(np.diff(np.log(eps)), 7 * math.log(0.4) / 7)


def test_epsilons_for_one_and_two_actors():
    np.testing.assert_allclose(actor_epsilons(1), [0.4])
    np.testing.assert_allclose(actor_epsilons(2), [0.4, 0.4**8])
    np.testing.assert_allclose(actor_epsilons(3, 0.5, 2.0), [0.5, 0.25, 0.125])


@pytest.mark.parametrize(
    ("args", "error", "shown"),
    [
        ((0,), ValueError, "n_actors must be a positive integer, got 0"),
        ((2.0,), TypeError, "n_actors must be a positive integer, got 2.0"),
        ((2, 1.5), ValueError, "eps must lie in [0, 1], got 1.5"),
        ((2, 0.4, -1), ValueError, "alpha must be >= 0, got -1.0"),
        ((2, float("nan")), ValueError, "eps must be finite, got nan"),
    ],
)
def test_epsilons_refuse_bad_input(args, error, shown):
    with pytest.raises(error) as info:
        actor_epsilons(*args)
    assert str(info.value) == shown


# ---------------------------------------------------------------- actor-side initial priorities


def random_block(n=64, seed=0, dim=4):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, dim)).astype(np.float32)
    next_obs = rng.normal(size=(n, dim)).astype(np.float32)
    actions = rng.integers(0, 2, size=n)
    rewards = rng.normal(size=n).astype(np.float32)
    terminated = rng.random(n) < 0.3
    return obs, actions, rewards, next_obs, terminated


def trained_agent(seed=0):
    """An agent whose online and target networks differ (so Double DQN differs from DQN)."""
    torch.manual_seed(seed)
    agent = Agent(4, 2, Config(seed=seed))
    with torch.no_grad():
        for p in agent.online.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return agent


def brute_force_td(agent, obs, actions, rewards, next_obs, terminated, gamma):
    """|δ| one transition at a time, by the Double DQN formula written out."""
    out = []
    with torch.no_grad():
        for s, a, r, s2, term in zip(obs, actions, rewards, next_obs, terminated, strict=True):
            q = agent.online(torch.tensor(s[None]))[0, a].item()
            a_star = int(agent.online(torch.tensor(s2[None]))[0].argmax())
            bootstrap = 0.0 if term else gamma * agent.target(torch.tensor(s2[None]))[0, a_star]
            out.append(abs(float(r) + float(bootstrap) - q))
    return np.array(out)


def test_block_priorities_match_brute_force_double_dqn():
    agent = trained_agent()
    block = random_block()
    td = block_td_errors(agent, *block)
    np.testing.assert_allclose(td, brute_force_td(agent, *block, gamma=0.99), rtol=1e-5, atol=1e-5)
    assert td.dtype == np.float64 and td.shape == (64,)


def test_block_priorities_bootstrap_on_truncation_not_termination():
    agent = trained_agent()
    obs, actions, rewards, next_obs, _ = random_block(8)
    ended = block_td_errors(agent, obs, actions, rewards, next_obs, np.ones(8, bool))
    with torch.no_grad():
        q = agent.online(torch.tensor(obs)).gather(1, torch.tensor(actions)[:, None]).squeeze(1)
    np.testing.assert_allclose(ended, np.abs(rewards - q.numpy()), rtol=1e-5, atol=1e-6)
    cut = block_td_errors(agent, obs, actions, rewards, next_obs, np.zeros(8, bool))
    assert not np.allclose(cut, ended)  # a truncated transition keeps γ·Q(s', ·)


def test_actor_block_priorities_are_those_of_its_network():
    cfg = Config(variant="apex", seed=3)
    weights = get_weights(trained_agent(3))
    actor = ApexActor(cfg, 0, 0.5, weights)
    block = actor.collect(120)
    assert len(block) == 120 and block.weights_version == 0
    expected = brute_force_td(actor.agent, block.obs, block.actions, block.rewards,
                              block.next_obs, block.terminated, cfg.gamma)  # fmt: skip
    np.testing.assert_allclose(block.td_errors, expected, rtol=1e-5, atol=1e-5)
    # transitions chain: s' of one step is s of the next, except across an episode's end
    ends = {t for t, _, _ in block.episodes}
    for t in range(119):
        if t not in ends:
            np.testing.assert_array_equal(block.next_obs[t], block.obs[t + 1])
    # every episode's return is its length on CartPole, and a fall is stored as terminated
    for t, ret, length in block.episodes:
        assert ret == length and block.terminated[t] == (length < 500)
    actor.close()


def test_actor_explores_at_its_own_epsilon():
    cfg = Config(variant="apex", seed=0)
    weights = get_weights(Agent(4, 2, cfg))
    greedy = ApexActor(cfg, 1, 0.0, weights)
    block = greedy.collect(300)
    obs = torch.tensor(block.obs)
    with torch.no_grad():
        best = greedy.agent.online(obs).argmax(1).numpy()
    np.testing.assert_array_equal(block.actions, best)  # ε = 0: always the greedy action
    random_actor = ApexActor(cfg, 0, 1.0, weights)
    block = random_actor.collect(2000)
    with torch.no_grad():
        best = random_actor.agent.online(torch.tensor(block.obs)).argmax(1).numpy()
    assert 0.4 < np.mean(block.actions == best) < 0.6  # ε = 1: a coin flip


# -------------------------------------------------------------------------- weight refresh


def test_weight_refresh_changes_the_actors_output():
    cfg = Config(variant="apex", seed=0)
    learner = Agent(4, 2, cfg)
    actor = ApexActor(cfg, 0, 0.0, get_weights(learner, version=0))
    probe = np.random.default_rng(1).normal(size=(32, 4)).astype(np.float32)
    before = actor.agent.greedy_actions(probe).copy()
    q_before = actor.agent._q_numpy(probe).copy()
    trained = trained_agent(5)
    newer = get_weights(trained, version=1)
    actor.set_weights(newer)
    q_after = actor.agent._q_numpy(probe)
    np.testing.assert_allclose(q_after, trained.online.numpy_forward()(probe), rtol=1e-6)
    assert not np.allclose(q_after, q_before)
    assert actor.version == 1
    # the target network arrives too (priorities use it)
    for a, b in zip(actor.agent.target.parameters(), trained.target.parameters(), strict=True):
        assert torch.equal(a, b)
    # an older or equal version is ignored
    actor.set_weights(get_weights(learner, version=1))
    np.testing.assert_allclose(actor.agent._q_numpy(probe), q_after)
    actor.set_weights(None)
    assert actor.version == 1 and before.shape == (32,)


def test_weights_are_copies_not_views():
    agent = Agent(4, 2, Config())
    w = get_weights(agent, 7)
    assert w["version"] == 7
    with torch.no_grad():
        next(agent.online.parameters()).add_(1.0)
    other = Agent(4, 2, Config(seed=1))
    set_weights(other, w)
    assert not torch.equal(next(other.online.parameters()), next(agent.online.parameters()))


# ------------------------------------------------------- the memory: blocks with given |δ|


def filled(memory, n, seed=0):
    block = random_block(n, seed)
    td = np.random.default_rng(seed + 100).exponential(size=n)
    return memory.add_batch(*block, td), block, td


def test_add_batch_priorities_are_the_given_td_errors():
    m = PrioritizedReplay(100, alpha=0.6, eps=0.01, seed=0)
    idx, block, td = filled(m, 40)
    np.testing.assert_array_equal(idx, np.arange(40))
    p = (td + 0.01) ** 0.6
    np.testing.assert_allclose(m.probabilities(), p / p.sum(), rtol=1e-12)
    assert m.max_priority == pytest.approx(p.max())
    np.testing.assert_array_equal(m._obs[:40], block[0])
    np.testing.assert_array_equal(m._actions[:40], block[1])
    np.testing.assert_array_equal(m._terminated[:40], block[4])


def test_add_batch_equals_add_then_update_priorities():
    """The same memory state as n adds followed by update_priorities of their indices, also
    when the block wraps around the ring and when it is longer than the memory."""
    for capacity, first, n in ((16, 5, 8), (16, 13, 9), (10, 3, 25)):
        a = PrioritizedReplay(capacity, seed=1)
        b = PrioritizedReplay(capacity, seed=1)
        filled(a, first, seed=7)
        filled(b, first, seed=7)
        block = random_block(n, 9)
        td = np.linspace(0.0, 3.0, n)
        idx = a.add_batch(*block, td)
        written = [b.add(*(x[k] for x in block)) for k in range(n)]
        b.update_priorities(written[-capacity:], td[-capacity:])
        np.testing.assert_array_equal(idx, written[-capacity:])
        assert_same_state(snapshot(a), snapshot(b))


def test_add_batch_is_sampled_by_its_probabilities():
    m = PrioritizedReplay(64, alpha=1.0, eps=0.01, beta=0.0, beta_final=0.0, seed=2)
    td = np.r_[np.full(8, 5.0), np.full(24, 0.0)]
    m.add_batch(*random_block(32), td)
    counts = np.zeros(32)
    for _ in range(400):
        np.add.at(counts, m.sample(32).indices, 1)
    expected = m.probabilities() * counts.sum()
    from scipy.stats import chisquare

    assert chisquare(counts, expected).pvalue > 1e-3
    assert counts[:8].sum() / counts.sum() == pytest.approx(8 * 5.01 / (8 * 5.01 + 24 * 0.01),
                                                            abs=0.01)  # fmt: skip


def test_a_later_add_enters_at_the_running_max():
    m = PrioritizedReplay(16, alpha=1.0, eps=0.0 + 0.5, seed=0)
    m.add_batch(*random_block(4), [0.5, 9.5, 1.5, 0.5])
    i = m.add(np.zeros(4), 0, 0.0, np.zeros(4), False)
    assert m.tree[i] == pytest.approx(10.0)


def bad_block(**change):
    obs, actions, rewards, next_obs, terminated = random_block(5)
    args = {"obs": obs, "actions": actions, "rewards": rewards, "next_obs": next_obs,
            "terminated": terminated, "td_errors": np.ones(5)}  # fmt: skip
    args.update(change)
    return args


@pytest.mark.parametrize(
    ("change", "error", "shown"),
    [
        (
            {"td_errors": [1, 1, np.nan, 1, 1]},
            ValueError,
            "td_errors must be finite absolute errors |δ| >= 0, got nan (td_errors[2])",
        ),
        ({"td_errors": [1, 1, 1, -2, 1]}, ValueError, "got -2.0 (td_errors[3])"),
        ({"td_errors": [1, 1, 1]}, ValueError, "td_errors must have one value per index: got 3"),
        (
            {"actions": [0, 1, -1, 0, 0]},
            ValueError,
            "actions must be integers >= 0, got -1 (actions[2])",
        ),
        ({"actions": [0, 1, 0.5, 0, 0]}, TypeError, "actions must be integers"),
        (
            {"actions": [0, 1]},
            ValueError,
            "actions must hold one value per transition (n=5), got shape (2,)",
        ),
        (
            {"rewards": [0, 1, np.inf, 0, 0]},
            ValueError,
            "rewards must be finite and fit float32, got inf (rewards[2])",
        ),
        ({"rewards": ["a"] * 5}, TypeError, "rewards must be real numbers"),
        (
            {"terminated": [0, 1, 2, 0, 0]},
            ValueError,
            "terminated must be True/False (or 1/0), got 2 (terminated[2])",
        ),
        ({"obs": np.full((5, 4), np.nan)}, ValueError, "obs must be finite (float32), got nan"),
        (
            {"next_obs": np.ones((5, 3))},
            ValueError,
            "obs and next_obs must have shape (n, 4), got (5, 4) and (5, 3)",
        ),
        ({"obs": np.ones(4)}, ValueError, "obs must have shape (n, *obs_shape), got shape (4,)"),
        ({"obs": None}, TypeError, "obs must be an array of real numbers, got None"),
        ({"terminated": "yes"}, TypeError, "terminated must be an array of n=5 values"),
    ],
)
def test_add_batch_refuses_bad_input_and_changes_nothing(change, error, shown):
    m = PrioritizedReplay(8, seed=0)
    filled(m, 6)
    before = snapshot(m)
    with pytest.raises(error) as info:
        m.add_batch(**bad_block(**change))
    assert shown in str(info.value), str(info.value)
    assert_same_state(snapshot(m), before)


def test_add_batch_refuses_another_observation_shape():
    m = PrioritizedReplay(8, seed=0)
    filled(m, 3)
    before = snapshot(m)
    with pytest.raises(ValueError, match=r"must have shape \(n, 4\), got \(5, 3\)"):
        m.add_batch(**bad_block(obs=np.ones((5, 3)), next_obs=np.ones((5, 3))))
    assert_same_state(snapshot(m), before)


def test_add_batch_refuses_priorities_above_the_trees_limit():
    m = PrioritizedReplay(8, alpha=1.0, seed=0)
    before = snapshot(m)
    with pytest.raises(ValueError, match=r"priority_limit\), got \|δ\| = 1e\+308"):
        m.add_batch(**bad_block(td_errors=[1, 1, 1, 1, 1e308]))
    assert_same_state(snapshot(m), before)


# ---------------------------------------------------------------- replay server and pacing


def test_replay_server_adds_blocks_and_writes_priorities_back():
    cfg = Config(variant="apex", seed=0, buffer_size=256)
    server = ReplayServer(cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(Agent(4, 2, cfg)))
    for k in range(3):
        assert server.add_block(actor.collect(50)) is None  # no weights published to hand back
        assert len(server.memory) == 50 * (k + 1)
    assert server.size() == 150 and server.added == 150 and server.env_steps == 150
    batches, seconds = server.update_and_sample(None, None, 3, 16)
    assert len(batches) == 3 and all(len(b) == 16 for b in batches) and seconds >= 0
    idx = np.concatenate([b.indices for b in batches])
    server.update_and_sample(idx, np.full(idx.shape, 100.0), 1, 16)
    top = (100.0 + cfg.priority_eps) ** cfg.alpha
    np.testing.assert_allclose(server.memory.tree.priorities(idx), top)


def test_learner_takes_per_sumtrees_gradient_steps():
    """After s env steps (summed over actors) the learner owes exactly the updates that the
    single-process loop has taken by step s: one per train_every steps past learning_starts."""
    for ls, every in ((1000, 2), (7, 3), (0, 1)):
        cfg = Config(learning_starts=ls, train_every=every)
        taken = 0
        for s in range(1, 3000):
            if s > ls and s % every == 0:
                taken += 1
            assert _allowed_updates(cfg, s) == taken


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("nonsense", "must be 'auto', host:port or ray://host:port, got 'nonsense'"),
        ("", "got ''"),
        ("ray://host:99999", "got 'ray://host:99999'"),
        ("127.0.0.1:1", "ray_address '127.0.0.1:1' cannot be reached"),
    ],
)
def test_ray_address_is_checked_before_any_work(address, shown):
    with pytest.raises(ValueError) as info:
        check_ray_address(address)
    assert shown in str(info.value)


def test_config_checks_the_apex_fields():
    assert Config().actors == 2 and Config().apex_eps == 0.4
    for change, shown in (
        ({"actors": 0}, "actors must be positive, got 0"),
        ({"apex_block": -1}, "apex_block must be positive, got -1"),
        ({"apex_sync_every": 0}, "apex_sync_every must be positive, got 0"),
        ({"apex_eps": 1.5}, "apex_eps must lie in [0, 1], got 1.5"),
        ({"apex_eps_alpha": -1.0}, "apex_eps_alpha must be >= 0, got -1.0"),
    ):
        with pytest.raises(ValueError) as info:
            Config(variant="apex", **change)
        assert str(info.value) == shown
    assert dataclasses.replace(Config(), variant="apex").double


def test_train_apex_refuses_a_variant_whose_loop_is_not_it():
    from prdqn_lib.apex import train_apex

    with pytest.raises(ValueError, match="config.variant must be one whose loop is train_apex"):
        train_apex(Config(variant="per-sumtree", total_steps=1_000), progress=False)


# ------------------------------------------------------------- the paper's learner, free mode


def brute_force_n_step(rewards, next_obs, terminated, ends, n, gamma):
    """n-step transitions of a stream of one-step ones, from the definitions: for each step t
    of an episode ending at step e (inclusive), k = min(n, e − t + 1), R = Σ_{j<k} γ^j r_{t+j},
    bootstrapping from next_obs[t+k−1]; terminal iff step t+k−1 terminated; discount γ^k.
    Steps whose window is still open at the end of the stream are not emitted."""
    out, start = [], 0
    for e in [*ends, len(rewards) - 1]:
        for t in range(start, e + 1):
            k = min(n, e - t + 1)
            if t + k - 1 == e and e == len(rewards) - 1 and e not in ends and k < n:
                continue  # the stream stopped inside the window
            ret = sum(gamma**j * rewards[t + j] for j in range(k))
            out.append((t, ret, next_obs[t + k - 1], terminated[t + k - 1], gamma**k))
        start = e + 1
    return out


def test_actor_sends_the_n_step_transitions_of_its_own_steps():
    """Two actors with the same seed, weights and ε take the same steps; the n = 3 one's blocks
    are the brute-force 3-step transitions of the n = 1 one's, across block boundaries, with
    their γ^k, their |δ| under the actor's network, and env_steps = the block's steps."""
    one = Config(variant="apex", seed=4)
    three = dataclasses.replace(one, n_step=3)
    weights = get_weights(Agent(4, 2, one))
    a1, a3 = ApexActor(one, 0, 0.4, weights), ApexActor(three, 0, 0.4, weights)
    b1 = [a1.collect(50) for _ in range(6)]
    b3 = [a3.collect(50) for _ in range(6)]
    assert all(b.env_steps == 50 for b in b1 + b3) and all(b.discounts is None for b in b1)
    assert [len(b) for b in b3] != [50] * 6  # windows cross blocks: the counts differ
    cat = {f: np.concatenate([getattr(b, f) for b in b1]) for f in
           ("obs", "actions", "rewards", "next_obs", "terminated")}  # fmt: skip
    ends = [50 * k + t for k, b in enumerate(b1) for t, _, _ in b.episodes]
    expected = brute_force_n_step(cat["rewards"], cat["next_obs"], cat["terminated"], ends, 3,
                                  one.gamma)  # fmt: skip
    got = {f: np.concatenate([getattr(b, f) for b in b3]) for f in
           ("obs", "actions", "rewards", "next_obs", "terminated", "discounts")}  # fmt: skip
    assert len(got["actions"]) == len(expected)
    for k, (t, ret, nxt, term, disc) in enumerate(expected):
        np.testing.assert_array_equal(got["obs"][k], cat["obs"][t])
        assert got["actions"][k] == cat["actions"][t]
        assert got["rewards"][k] == pytest.approx(ret, rel=1e-6)
        np.testing.assert_array_equal(got["next_obs"][k], nxt)
        assert got["terminated"][k] == term and got["discounts"][k] == pytest.approx(disc)
    for b in b3:  # |δ| under the actor's own networks, with each transition's γ^k
        np.testing.assert_allclose(
            b.td_errors,
            block_td_errors(
                a3.agent, b.obs, b.actions, b.rewards, b.next_obs, b.terminated, b.discounts
            ),
        )


def test_server_stores_n_step_discounts_and_samples_them():
    cfg = Config.preset("apex", seed=0, buffer_size=512)
    assert cfg.n_step == 3 and cfg.dueling and (cfg.beta, cfg.beta_final) == (0.4, 1.0)
    server = ReplayServer(cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(Agent(4, 2, cfg)))
    for _ in range(4):
        server.add_block(actor.collect(50))
    (batch,), _ = server.update_and_sample(None, None, 1, 64)
    stored = server.memory.transitions(batch.indices)
    np.testing.assert_array_equal(batch.discounts, stored.discounts)
    assert set(np.round(batch.discounts / cfg.gamma**3, 9)) <= {
        1.0,
        round(cfg.gamma**-1, 9),
        round(cfg.gamma**-2, 9),
    }


def test_server_evicts_the_oldest_and_drops_write_backs_of_evicted_transitions():
    """FIFO eviction: past capacity the memory holds exactly the newest transitions. A |δ|
    written back for a slot that was overwritten after its batch was drawn is dropped (the
    new transition keeps its own priority); the others are written."""
    cfg = Config(variant="apex", seed=1, buffer_size=64, batch_size=16)
    server = ReplayServer(cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(Agent(4, 2, cfg)))
    blocks = [actor.collect(16) for _ in range(4)]  # 64: full
    for b in blocks:
        server.add_block(b)
    (batch,), _ = server.update_and_sample(None, None, 1, 16)
    newer = [actor.collect(16) for _ in range(2)]  # 32 more: the ring overwrites slots 0–31
    for b in newer:
        server.add_block(b)
    kept = np.concatenate([b.obs for b in blocks[2:]] + [b.obs for b in newer])
    stored = server.memory.transitions(np.arange(64)).obs
    np.testing.assert_array_equal(np.sort(stored, axis=0), np.sort(kept, axis=0))
    before = server.memory.tree.priorities(np.arange(64)).copy()
    server.update(batch.indices, np.full(16, 50.0))
    after = server.memory.tree.priorities(np.arange(64))
    evicted = batch.indices < 32
    top = (50.0 + cfg.priority_eps) ** cfg.alpha
    np.testing.assert_allclose(after[batch.indices[~evicted]], top)
    np.testing.assert_array_equal(after[batch.indices[evicted]], before[batch.indices[evicted]])
    assert evicted.any() and not evicted.all()  # the draw has both kinds (seed 1)
    assert server.stale_dropped == int(evicted.sum())


def test_server_hands_newer_weights_back_records_episodes_and_paces_beta_by_env_steps():
    cfg = Config.preset("apex", seed=2, total_steps=1000, buffer_size=1000, learning_starts=0)
    server = ReplayServer(cfg)
    agent = Agent(4, 2, cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(agent, 0))
    server.publish(get_weights(agent, 3))
    block = actor.collect(100)
    assert block.weights_version == 0 and server.add_block(block)["version"] == 3
    actor.set_weights(get_weights(agent, 3))
    second = actor.collect(100)
    assert server.add_block(second) is None  # the actor's are as new
    steps, episodes = server.status()
    assert steps == 200 and server.status() == (200, [])  # read once
    expected = [t + 1 for t, _, _ in block.episodes] + [100 + t + 1 for t, _, _ in second.episodes]
    assert [e[0] for e in episodes] == expected and len(expected) > 2
    assert [e[1:3] for e in episodes] == [(r, n) for b in (block, second)
                                          for _, r, n in b.episodes]  # fmt: skip
    assert all(e[3] == 0.4 for e in episodes)
    for _ in range(3):
        server.add_block(actor.collect(100))  # 500 of 1000 env steps
    server.learn_step(None, None, 1, 32)
    # the β of that draw: halfway along 0.4 → 1 by env steps (the sample call counts one)
    assert server.memory.beta == pytest.approx(0.7, abs=2 / cfg.gradient_steps + 1e-9)


def test_budgets_split_the_run_between_actors():
    for total, n in ((50_000, 2), (10, 3), (7, 7), (1001, 4)):
        b = _budgets(total, n)
        assert sum(b) == total and max(b) - min(b) <= 1 and len(b) == n


def test_an_empty_block_is_accepted():
    cfg = Config(variant="apex", seed=0)
    server = ReplayServer(cfg)
    obs = np.empty((0, 4), np.float32)
    empty = Block(obs, np.empty(0, np.int64), np.empty(0, np.float32), obs, np.empty(0, bool),
                  np.empty(0), env_steps=2)  # fmt: skip
    server.add_block(empty)
    assert len(server.memory) == 0 and server.env_steps == 2
