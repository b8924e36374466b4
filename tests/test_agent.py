"""Targets, the weighted loss, the agent's update, save/load, and the config."""

import dataclasses

import numpy as np
import pytest
import torch

from prdqn_lib import Batch, TDErrorListReplay
from prdqn_lib.agent import Agent, QNetwork, double_dqn_target, dqn_target, weighted_loss
from prdqn_lib.config import Config


def test_dqn_target_on_hand_made_tensors():
    rewards = torch.tensor([1.0, 1.0, 0.5])
    terminated = torch.tensor([False, True, False])
    next_q_target = torch.tensor([[2.0, 3.0], [10.0, 20.0], [-1.0, -4.0]])
    y = dqn_target(rewards, terminated, next_q_target, gamma=0.9)
    # 1 + .9·3;  terminal: 1 only;  .5 + .9·(-1)
    torch.testing.assert_close(y, torch.tensor([3.7, 1.0, -0.4]))


def test_double_dqn_target_selects_with_online_and_evaluates_with_target():
    rewards = torch.tensor([1.0, 1.0, 0.0])
    terminated = torch.tensor([False, False, True])
    next_q_online = torch.tensor([[5.0, 1.0], [0.0, 2.0], [0.0, 9.0]])  # picks 0, 1, 1
    next_q_target = torch.tensor([[2.0, 30.0], [7.0, 4.0], [1.0, 1.0]])
    y = double_dqn_target(rewards, terminated, next_q_online, next_q_target, gamma=0.5)
    # 1 + .5·Q_t[0]=2 → 2;  1 + .5·Q_t[1]=4 → 3;  terminal → 0
    torch.testing.assert_close(y, torch.tensor([2.0, 3.0, 0.0]))
    # the DQN target on the same numbers takes max of Q_target: 1 + .5·30 = 16
    assert dqn_target(rewards, terminated, next_q_target, 0.5)[0] == 16.0


@pytest.mark.parametrize("kind", ["huber", "mse"])
def test_weighted_loss_is_mean_of_w_times_l(kind):
    q = torch.tensor([0.0, 1.0, 3.0, -2.0])
    y = torch.tensor([0.5, 3.0, 3.0, 2.0])
    w = torch.tensor([1.0, 0.5, 0.2, 0.1])
    delta = (y - q).abs()
    if kind == "huber":
        per = torch.where(delta < 1, 0.5 * delta**2, delta - 0.5)
    else:
        per = delta**2
    torch.testing.assert_close(weighted_loss(q, y, w, kind), (w * per).mean())
    # not L(w·q, w·y): for mse that would be mean(w²·δ²)
    if kind == "mse":
        squared_weights = ((w * y - w * q) ** 2).mean()
        assert not torch.isclose(weighted_loss(q, y, w, kind), squared_weights)


def test_weighted_loss_gradient_scales_linearly_with_w():
    q = torch.tensor([0.0, 0.0], requires_grad=True)
    y = torch.tensor([0.5, 0.5])
    weighted_loss(q, y, torch.tensor([1.0, 0.25]), "mse").backward()
    assert q.grad[1] / q.grad[0] == pytest.approx(0.25)  # w, not w²


def test_weighted_loss_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        weighted_loss(torch.zeros(1), torch.zeros(1), torch.ones(1), "l1")


def make_batch(n=16, terminated=None, seed=0):
    rng = np.random.default_rng(seed)
    return Batch(
        obs=rng.standard_normal((n, 4)).astype(np.float32),
        actions=rng.integers(0, 2, n),
        rewards=np.ones(n, dtype=np.float32),
        next_obs=rng.standard_normal((n, 4)).astype(np.float32),
        terminated=np.zeros(n, bool) if terminated is None else terminated,
        weights=np.ones(n),
        indices=np.arange(n),
    )


def test_truncation_bootstraps_and_termination_does_not():
    """The memory only records *terminated*; a truncated step is stored as non-terminal."""
    agent = Agent(4, 2, Config(variant="ddqn", gamma=0.9))
    with torch.no_grad():  # make Q(s', ·) large so bootstrapping is visible
        agent.target.layers[-1].bias.fill_(100.0)
        agent.online.layers[-1].bias.fill_(100.0)
    batch = make_batch(2, terminated=np.array([True, False]))
    _, y = agent._q_and_target(batch)
    assert y[0] == pytest.approx(1.0)  # terminal: r only
    assert y[1] > 50  # truncated/non-terminal: r + γ·Q(s', a*)


def test_update_returns_abs_td_errors_and_changes_the_network():
    agent = Agent(4, 2, Config(variant="per-sumtree"))
    batch = make_batch()
    before = [p.detach().clone() for p in agent.online.parameters()]
    q, y = agent._q_and_target(batch)
    loss, td = agent.update(batch)
    np.testing.assert_allclose(td, (y - q).abs().detach().numpy(), rtol=1e-5)
    assert loss > 0 and td.shape == (16,) and (td >= 0).all()
    after = list(agent.online.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_hard_and_soft_target_updates():
    agent = Agent(4, 2, Config(target_update=3))
    batch = make_batch()
    agent.update(batch)
    agent.update(batch)
    assert not torch.equal(agent.online.layers[0].weight, agent.target.layers[0].weight)
    agent.update(batch)  # third update: hard sync
    assert torch.equal(agent.online.layers[0].weight, agent.target.layers[0].weight)
    soft = Agent(4, 2, Config(tau=0.5, target_update_final=0))
    old = soft.target.layers[0].weight.detach().clone()
    soft.update(batch)
    expected = 0.5 * old + 0.5 * soft.online.layers[0].weight.detach()
    torch.testing.assert_close(soft.target.layers[0].weight.detach(), expected)


def test_numpy_greedy_actions_match_torch_and_follow_training():
    agent = Agent(4, 2, Config())
    obs = np.random.default_rng(1).standard_normal((64, 4)).astype(np.float32)
    for _ in range(3):
        with torch.no_grad():
            expected = agent.online(torch.from_numpy(obs)).argmax(1).numpy()
        np.testing.assert_array_equal(agent.greedy_actions(obs), expected)
        agent.update(make_batch())  # in-place weight updates must be seen by the numpy views


def test_epsilon_greedy():
    agent = Agent(4, 2, Config(seed=3))
    obs = np.zeros(4, np.float32)
    greedy = int(agent.greedy_actions(obs[None])[0])
    assert all(agent.act(obs, 0.0) == greedy for _ in range(20))
    random_actions = [agent.act(obs, 1.0) for _ in range(200)]
    assert set(random_actions) == {0, 1}


def test_save_and_load_round_trip(tmp_path):
    cfg = Config(variant="ddqn", hidden=(32, 16), lr=1e-3)
    agent = Agent(4, 2, cfg)
    agent.update(make_batch())
    agent.save(tmp_path / "agent.pt")
    loaded = Agent.load(tmp_path / "agent.pt")
    assert loaded.config == cfg and loaded.updates == 1
    obs = make_batch().obs
    np.testing.assert_array_equal(loaded.greedy_actions(obs), agent.greedy_actions(obs))
    for a, b in zip(agent.online.parameters(), loaded.online.parameters(), strict=True):
        assert torch.equal(a, b)
    # the optimizer state came along: one more identical step gives identical weights
    batch = make_batch(seed=5)
    agent.update(batch)
    loaded.update(batch)
    for a, b in zip(agent.online.parameters(), loaded.online.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_qnetwork_shape():
    net = QNetwork(4, 3, (8, 8, 8))
    assert net(torch.zeros(5, 4)).shape == (5, 3)
    assert len(net.layers) == 4


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"variant": "rainbow"}, "variant"),
        ({"lr": 0.0}, "lr"),
        ({"gamma": 1.5}, "gamma"),
        ({"batch_size": 0}, "batch_size"),
        ({"eps_end": -0.1}, "eps_end"),
        ({"loss": "l1"}, "loss"),
        ({"hidden": ()}, "hidden"),
        ({"tau": 2.0}, "tau"),
    ],
)
def test_config_rejects_bad_values(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Config(), **change)


def test_config_epsilon_schedule_and_json(tmp_path):
    cfg = Config(eps_start=1.0, eps_end=0.1, eps_decay_steps=100)
    assert cfg.epsilon(0) == 1.0
    assert cfg.epsilon(50) == pytest.approx(0.55)
    assert cfg.epsilon(10_000) == pytest.approx(0.1)
    cfg.save(tmp_path / "c.json")
    assert Config.load(tmp_path / "c.json") == cfg


def test_list_memory_refresh_with_agent_td_errors():
    agent = Agent(4, 2, Config(variant="per-list"))
    memory = TDErrorListReplay(50)
    batch = make_batch(20)
    for i in range(20):
        memory.add(batch.obs[i], batch.actions[i], 1.0, batch.next_obs[i], False)
    memory.refresh_td_errors(agent.td_errors, chunk_size=7)
    q, y = agent._q_and_target(memory._gather(np.arange(20), np.ones(20)))
    np.testing.assert_allclose(memory.td_errors, (y - q).abs().detach().numpy(), rtol=1e-5)
