"""Q-network, DQN and Double DQN targets, the importance-weighted loss, and the agent."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config
from .replay import Batch

__all__ = [
    "Agent",
    "QNetwork",
    "dqn_target",
    "double_dqn_target",
    "epsilon_greedy",
    "seed_everything",
    "weighted_loss",
]


def seed_everything(seed: int, num_threads: int = 1) -> None:
    """Seed python, numpy and torch, and set torch's thread count (1 is fastest here).

    Environments are seeded separately, once, by their first ``reset(seed=...)``: seeding every
    reset would replay the same start state each episode.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global, for any code that still uses it
    torch.manual_seed(seed)
    torch.set_num_threads(num_threads)


class QNetwork(nn.Module):
    """An MLP mapping an observation to one Q-value per action: Linear-ReLU-...-Linear.

    ``forward`` calls ``F.linear`` on the layers' parameters instead of calling each layer as a
    module: for networks this small, the per-module call overhead is a large share of a step.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = Config.hidden):
        super().__init__()
        widths = [obs_dim, *hidden, n_actions]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        *hidden, last = self.layers
        x = obs
        for layer in hidden:
            x = torch.relu(F.linear(x, layer.weight, layer.bias))
        return F.linear(x, last.weight, last.bias)

    def numpy_forward(self) -> Callable[[np.ndarray], np.ndarray]:
        """A numpy forward pass over *views* of this network's weights (no copy).

        Optimizer steps and ``load_state_dict`` write the parameters in place, so the views
        always see the current weights. For one observation it is ~10× faster than a torch
        call, which matters when acting once per env step.
        """
        params = [(l.weight.detach().numpy(), l.bias.detach().numpy()) for l in self.layers]

        def forward(obs: np.ndarray) -> np.ndarray:
            x = np.asarray(obs, dtype=np.float32)
            for w, b in params[:-1]:
                x = np.maximum(x @ w.T + b, 0.0)
            w, b = params[-1]
            return x @ w.T + b

        return forward


def epsilon_greedy(
    rng: np.random.Generator,
    epsilon: float,
    n_actions: int,
    greedy: Callable[[], int],
) -> int:
    """With probability ε a uniformly random action, else ``greedy()`` (called only then).

    The one ε-greedy of the project: the agent's ``act`` and every Ape-X actor use it, so both
    draw from their generator in the same order (one uniform, then an action if exploring).
    """
    if rng.random() < epsilon:
        return int(rng.integers(n_actions))
    return int(greedy())


def dqn_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """y = r + γ·(1 − terminated)·max_a Q_target(s', a).

    Args:
        rewards: r, shape (B,).
        terminated: True where s' is terminal, shape (B,). Only *termination* stops the
            bootstrap: a time-limit truncation is not a terminal state.
        next_q_target: Q_target(s', ·), shape (B, n_actions).
        gamma: discount γ.
    """
    return rewards + gamma * (~terminated).float() * next_q_target.max(dim=1).values


def double_dqn_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_online: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """y = r + γ·(1 − terminated)·Q_target(s', argmax_a Q_online(s', a)).

    The online network *selects* the action and the target network *evaluates* it, which
    removes part of the max operator's upward bias; how much depends on how correlated the two
    networks are (van Hasselt et al., 2016; notebook 02 measures it).
    """
    best = next_q_online.argmax(dim=1, keepdim=True)
    return rewards + gamma * (~terminated).float() * next_q_target.gather(1, best).squeeze(1)


def weighted_loss(
    q: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, kind: str = "huber"
) -> torch.Tensor:
    """mean_i w_i · L(δ_i), with δ_i = y_i − Q(s_i, a_i).

    The weight multiplies the per-sample loss. Multiplying Q and y by w before a squared loss
    instead (as the first source does) gives L(w·δ) = w²·L(δ): the correction applied twice.
    """
    if kind == "huber":
        per_sample = F.smooth_l1_loss(q, target, reduction="none")
    elif kind == "mse":
        per_sample = F.mse_loss(q, target, reduction="none")
    else:
        raise ValueError(f"kind must be 'huber' or 'mse', got {kind!r}")
    return (weights * per_sample).mean()


class Agent:
    """ε-greedy DQN / Double DQN agent with a target network.

    Args:
        obs_dim: observation size.
        n_actions: number of discrete actions.
        config: hyperparameters (``config.double``, from the variant's registry entry, picks
            the target).
    """

    def __init__(self, obs_dim: int, n_actions: int, config: Config) -> None:
        self.config = config
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        self.online = QNetwork(obs_dim, n_actions, config.hidden)
        self.target = QNetwork(obs_dim, n_actions, config.hidden)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        # fused: one kernel for the whole Adam step (several times faster on a CPU here)
        self.optimizer = torch.optim.Adam(
            self.online.parameters(), lr=config.lr, eps=config.adam_eps, fused=True
        )
        self.updates = 0
        self._last_sync = 0  # gradient step of the last hard target sync
        self.track_grad_norm = False  # set True to record ‖∇‖ of every update (diagnostics)
        self.last_grad_norm = float("nan")
        self._rng = np.random.default_rng(config.seed)
        self._q_numpy = self.online.numpy_forward()
        self.double = config.double  # the variant's target, from its registry entry

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q(s, ·) of the online network for a batch of observations (numpy, no gradient)."""
        return self._q_numpy(obs)

    def greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        """argmax_a Q(s, a) for a batch of observations (numpy forward, same weights)."""
        return self._q_numpy(obs).argmax(axis=-1)

    def act(self, obs: np.ndarray, epsilon: float) -> int:
        """ε-greedy action for one observation."""
        return epsilon_greedy(
            self._rng, epsilon, self.n_actions, lambda: self.greedy_actions(obs[None])[0]
        )

    def _q_and_target(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Q(s, a) (with gradient) and the TD target y (without) for a batch."""
        rewards = torch.from_numpy(batch.rewards)
        terminated = torch.from_numpy(batch.terminated)
        actions = torch.from_numpy(batch.actions)[:, None]
        next_obs = torch.from_numpy(batch.next_obs)
        with torch.no_grad():
            next_q_target = self.target(next_obs)
            if self.double:
                next_q_online = self.online(next_obs)
                y = double_dqn_target(
                    rewards, terminated, next_q_online, next_q_target, self.config.gamma
                )
            else:
                y = dqn_target(rewards, terminated, next_q_target, self.config.gamma)
        q = self.online(torch.from_numpy(batch.obs)).gather(1, actions).squeeze(1)
        return q, y

    def td_errors(self, batch: Batch) -> np.ndarray:
        """|δ| of a batch under the current networks, without learning (list-memory refresh)."""
        with torch.no_grad():
            q, y = self._q_and_target(batch)
        return (y - q).abs().numpy().astype(np.float64)

    def update(self, batch: Batch) -> tuple[float, np.ndarray]:
        """One gradient step on mean_i w_i·L(δ_i). Returns (loss, |δ_i| per sample)."""
        cfg = self.config
        q, y = self._q_and_target(batch)
        weights = torch.from_numpy(batch.weights.astype(np.float32))
        loss = weighted_loss(q, y, weights, cfg.loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm > 0:
            norm = nn.utils.clip_grad_norm_(
                self.online.parameters(), cfg.max_grad_norm, foreach=True
            )
            self.last_grad_norm = float(norm)
        elif self.track_grad_norm:
            grads = [p.grad for p in self.online.parameters()]
            self.last_grad_norm = float(nn.utils.get_total_norm(grads, foreach=True))
        if cfg.lr_final_frac != 1.0:
            for group in self.optimizer.param_groups:
                group["lr"] = cfg.learning_rate(self.updates)
        self.optimizer.step()
        self.updates += 1
        if cfg.tau > 0:
            self.soft_update(cfg.tau)
        elif self.updates - self._last_sync >= cfg.target_period(self.updates):
            self.sync_target()
        td = (y - q.detach()).abs().numpy().astype(np.float64)
        return float(loss.detach()), td

    def sync_target(self) -> None:
        """Hard update: θ' ← θ."""
        self.target.load_state_dict(self.online.state_dict())
        self._last_sync = self.updates

    def soft_update(self, tau: float) -> None:
        """Polyak update: θ' ← τ·θ + (1 − τ)·θ'."""
        with torch.no_grad():
            for tp, p in zip(self.target.parameters(), self.online.parameters(), strict=True):
                tp.lerp_(p, tau)

    def save(self, path: str | Path) -> None:
        """Save networks, optimizer state and config to one file."""
        torch.save(
            {
                "config": self.config.to_dict(),
                "obs_dim": self.obs_dim,
                "n_actions": self.n_actions,
                "online": self.online.state_dict(),
                "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "updates": self.updates,
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path) -> Agent:
        """Rebuild an agent saved with ``save``.

        Raises:
            OSError: the file cannot be opened (missing, a folder, no permission).
            ValueError: the file is damaged (truncated, not a torch file) or foreign (a torch
                file that ``save`` did not write: a plain state_dict, missing keys, weights
                that do not fit its config); the one-line message names the file and the
                problem.
        """
        path = Path(path)
        with open(path, "rb") as f:  # OSError as is: the file is not there to judge
            try:
                with warnings.catch_warnings():  # e.g. about the pickle protocol of a foreign file
                    warnings.simplefilter("ignore", UserWarning)
                    state = torch.load(f, weights_only=True)
            except Exception as exc:  # torch raises OSError, EOFError, UnpicklingError, ...
                detail = _first_line(exc).split(". ")[0]  # not torch's advice to unpickle all
                raise ValueError(
                    f"{path} is damaged (truncated?) or not a torch file: {type(exc).__name__}"
                    f"{': ' + detail if detail else ''}"
                ) from None
        if not isinstance(state, dict):
            raise ValueError(f"{path} is not an Agent.save file: it holds a "
                             f"{type(state).__name__}, not a dict")  # fmt: skip
        missing = [key for key in _SAVED_KEYS if key not in state]
        if missing:
            plain = state and all(isinstance(v, torch.Tensor) for v in state.values())
            raise ValueError(
                f"{path} is not an Agent.save file: it lacks the key"
                f"{'s' * (len(missing) > 1)} {', '.join(missing)}"
                f"{' (it looks like a plain state_dict)' if plain else ''}"
            )
        try:
            agent = cls(state["obs_dim"], state["n_actions"], Config.from_dict(state["config"]))
            agent.online.load_state_dict(state["online"])
            agent.target.load_state_dict(state["target"])
            agent.optimizer.load_state_dict(state["optimizer"])
            agent.updates = int(state["updates"])
        except Exception as exc:  # a bad config, weights of another shape, wrong types, ...
            raise ValueError(
                f"{path} is not a usable Agent.save file: {type(exc).__name__}: "
                f"{_first_line(exc, join=True)}"
            ) from None
        agent._last_sync = agent.updates  # the saved target is in sync as of now
        return agent


# what ``Agent.save`` writes; ``Agent.load`` needs every one
_SAVED_KEYS = ("config", "obs_dim", "n_actions", "online", "target", "optimizer", "updates")


def _first_line(exc: BaseException, join: bool = False, limit: int = 160) -> str:
    """An exception's message on one line (its first line, or all lines joined), cut."""
    text = str(exc).strip()
    text = " ".join(text.split()) if join else (text.splitlines() or [""])[0].strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
