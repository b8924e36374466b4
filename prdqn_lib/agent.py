"""Q-network, DQN and Double DQN targets, the importance-weighted loss, and the agent."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config
from .replay import Batch

__all__ = [
    "Agent",
    "QNetwork",
    "bootstrap_bounds",
    "dqn_target",
    "double_dqn_target",
    "epsilon_greedy",
    "numpy_layer_norm",
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

    Two options, both off by default (the network, its parameters and their initialisation
    are then exactly those of the plain MLP):

    * ``layer_norm``: each hidden layer is Linear → LayerNorm → ReLU, with LayerNorm's learned
      gain and bias and ε = 1e-5 (Ba et al., 2016, "Layer Normalization"). Normalising the
      hidden features bounds what the last layer sees and was used against value divergence
      by Ball et al. (2023, "Efficient Online Reinforcement Learning with Offline Data") and
      Gallici et al. (2024, "Simplifying Deep Temporal Difference Learning").
    * ``dueling``: after the shared hidden layers, two linear streams, a value V(s) (one
      output) and advantages A(s, ·) (one per action), combined as
      Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a') (Wang et al., 2016, "Dueling Network
      Architectures for Deep Reinforcement Learning", eq. 9). Subtracting the mean makes the
      split identifiable: mean_a Q(s, a) = V(s).

    Parameters: ``layers`` holds the hidden Linear layers and, last, the output layer (the
    advantage stream when dueling); ``norms`` the LayerNorms (None when off); ``value`` the
    value stream (None unless dueling). The plain network's state-dict keys are unchanged.
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        hidden: tuple[int, ...] = Config.hidden,
        dueling: bool = False,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        widths = [obs_dim, *hidden, n_actions]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        # created after the layers so that, off, the random initialisation is unchanged
        self.norms = nn.ModuleList(nn.LayerNorm(h) for h in hidden) if layer_norm else None
        self.value = nn.Linear(widths[-2], 1) if dueling else None
        self.dueling = dueling
        self.layer_norm = layer_norm

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        # a ModuleList yields Modules, whose attributes torch types as Tensor | Module
        *hidden, last = cast("Sequence[nn.Linear]", self.layers)
        x = obs
        if self.norms is None:
            for layer in hidden:
                x = torch.relu(F.linear(x, layer.weight, layer.bias))
        else:
            norms = cast("Sequence[nn.LayerNorm]", self.norms)
            for layer, norm in zip(hidden, norms, strict=True):
                x = F.linear(x, layer.weight, layer.bias)
                x = F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
                x = torch.relu(x)
        out = F.linear(x, last.weight, last.bias)
        if self.value is None:
            return out
        value = F.linear(x, self.value.weight, self.value.bias)
        return value + out - out.mean(dim=-1, keepdim=True)

    def numpy_forward(self) -> Callable[[np.ndarray], np.ndarray]:
        """A numpy forward pass over *views* of this network's weights (no copy).

        Optimizer steps and ``load_state_dict`` write the parameters in place, so the views
        always see the current weights. For one observation it is ~10× faster than a torch
        call, which matters when acting once per env step. It computes what ``forward`` does,
        LayerNorm (``numpy_layer_norm``, the same ε) and the dueling head included.
        """

        def view(layer: nn.Linear | nn.LayerNorm) -> tuple[np.ndarray, np.ndarray]:
            return layer.weight.detach().numpy(), layer.bias.detach().numpy()

        params = [view(l) for l in cast("Sequence[nn.Linear]", self.layers)]
        layer_norms = cast("Sequence[nn.LayerNorm] | None", self.norms)
        norms = None if layer_norms is None else [(*view(n), n.eps) for n in layer_norms]
        value = None if self.value is None else view(self.value)

        if norms is None and value is None:  # the plain MLP: the original fast path

            def forward(obs: np.ndarray) -> np.ndarray:
                x = np.asarray(obs, dtype=np.float32)
                for w, b in params[:-1]:
                    x = np.maximum(x @ w.T + b, 0.0)
                w, b = params[-1]
                return x @ w.T + b

            return forward

        def forward_options(obs: np.ndarray) -> np.ndarray:
            x = np.asarray(obs, dtype=np.float32)
            for k, (w, b) in enumerate(params[:-1]):
                x = x @ w.T + b
                if norms is not None:
                    x = numpy_layer_norm(x, *norms[k])
                x = np.maximum(x, 0.0)
            w, b = params[-1]
            out = x @ w.T + b
            if value is None:
                return out
            v = x @ value[0].T + value[1]
            return v + out - out.mean(axis=-1, keepdims=True)

        return forward_options


def numpy_layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, as ``torch.nn.functional.layer_norm`` computes it.

    LN(x) = (x − mean(x)) / sqrt(var(x) + ε) · weight + bias, with the *biased* variance
    (mean of squared deviations) over the last axis and ε inside the square root.
    """
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def _discount(gamma: float | torch.Tensor, rewards: torch.Tensor) -> float | torch.Tensor:
    """γ as given (a float), or a per-sample discount tensor checked against r's shape."""
    if not isinstance(gamma, torch.Tensor):
        return gamma
    if gamma.shape != rewards.shape:
        raise ValueError(
            f"gamma as a tensor must have one discount per sample, shape {tuple(rewards.shape)}; "
            f"got shape {tuple(gamma.shape)}"
        )
    return gamma.to(rewards.dtype)


def _bounded(values: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    return values if bounds is None else values.clamp(bounds[0], bounds[1])


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
    gamma: float | torch.Tensor,
    bounds: tuple[float, float] | None = None,
) -> torch.Tensor:
    """y_i = r_i + γ_i·(1 − terminated_i)·clip(max_a Q_target(s'_i, a), q_min, q_max).

    Args:
        rewards: r, shape (B,). For an n-step transition, the discounted sum
            R = Σ_{j<k} γ^j·r_{t+j} (``prdqn_lib.nstep``).
        terminated: True where s' is terminal, shape (B,). Only *termination* stops the
            bootstrap: a time-limit truncation is not a terminal state.
        next_q_target: Q_target(s', ·), shape (B, n_actions).
        gamma: the discount of the bootstrapped value: a float γ, the same for every sample
            (one-step transitions), or a tensor of shape (B,) with one discount γ_i = γ^{k_i}
            per sample (n-step transitions whose k_i is shorter at an episode's end).
        bounds: (q_min, q_max) to clip the bootstrapped value into, or None (no clipping).
            See ``Agent`` for why the bootstrapped value and not y.
    """
    gamma = _discount(gamma, rewards)
    next_v = _bounded(next_q_target.max(dim=1).values, bounds)
    return rewards + gamma * (~terminated).float() * next_v


def double_dqn_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_online: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float | torch.Tensor,
    bounds: tuple[float, float] | None = None,
) -> torch.Tensor:
    """y_i = r_i + γ_i·(1 − terminated_i)·clip(Q_target(s'_i, a*_i), q_min, q_max), with
    a*_i = argmax_a Q_online(s'_i, a).

    The online network *selects* the action and the target network *evaluates* it, which
    removes part of the max operator's upward bias; how much depends on how correlated the two
    networks are (van Hasselt et al., 2016; notebook 02 measures it). ``gamma`` and
    ``bounds`` as in ``dqn_target``: a float γ or per-sample discounts of shape (B,); the
    selection a* is made on the unclipped online values.
    """
    gamma = _discount(gamma, rewards)
    best = next_q_online.argmax(dim=1, keepdim=True)
    next_v = _bounded(next_q_target.gather(1, best).squeeze(1), bounds)
    return rewards + gamma * (~terminated).float() * next_v


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


def bootstrap_bounds(config: Config) -> tuple[float, float] | None:
    """(q_min, q_max) to clip the bootstrapped value into, or None while q_max == q_min (off)."""
    return (config.q_min, config.q_max) if config.q_max > config.q_min else None


class Agent:
    """ε-greedy DQN / Double DQN agent with a target network.

    Args:
        obs_dim: observation size.
        n_actions: number of discrete actions.
        config: hyperparameters (``config.double``, from the variant's registry entry, picks the
            target; ``dueling`` and
            ``layer_norm`` the network, see ``QNetwork``).

    Stabilisers, each off by default (off, training is bit-identical to the plain agent):

    * n-step returns (``config.n_step``): when a batch carries per-sample ``discounts``
      (γ^k of each stored n-step transition, ``prdqn_lib.nstep``), the target is
      y = R + discount·(1 − terminated)·Q_target(s', a*) instead of using γ; the |δ| handed
      back as priorities are then n-step errors. With ``n_step > 1`` a batch without
      ``discounts`` is refused, rather than trained on with the wrong discount.
    * a bound on the bootstrapped value (``config.q_min < config.q_max``): the value
      Q_target(s', a*) is clipped into [q_min, q_max] before it is discounted and added to the
      reward, not y itself. The bound is one on values: every return lies in
      [r_min/(1−γ), r_max/(1−γ)], so a network estimate outside it is known to be wrong,
      while R and the discount are data, exact. Clipping Q_target(s', a*) corrects only the
      estimate, and y is then bounded too (R + γ^k·[q_min, q_max] lies inside
      [q_min, q_max] for such bounds). Clipping y instead, min(R + γ^k·Q, q_max), is looser:
      with R = 0 and an over-estimated Q it still teaches q_max, where the known reward
      allows at most γ^k·q_max. For CartPole r ∈ [0, 1], so Q ∈ [0, 1/(1−γ)] = [0, 100] at
      γ = 0.99 (the ceiling notebook 02 and the collapse diagnosis use). The online
      Q(s, a) is not clipped: it is what is learned.
    """

    def __init__(self, obs_dim: int, n_actions: int, config: Config) -> None:
        self.config = config
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        self.online = self._network(obs_dim, n_actions, config)
        self.target = self._network(obs_dim, n_actions, config)
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
        self._bounds = bootstrap_bounds(config)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q(s, ·) of the online network for a batch of observations (numpy, no gradient)."""
        return self._q_numpy(obs)

    @staticmethod
    def _network(obs_dim: int, n_actions: int, config: Config) -> QNetwork:
        """The Q-network ``config`` describes (hidden widths, dueling head, LayerNorm)."""
        return QNetwork(
            obs_dim, n_actions, config.hidden, dueling=config.dueling, layer_norm=config.layer_norm
        )

    def greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        """argmax_a Q(s, a) for a batch of observations (numpy forward, same weights)."""
        return self._q_numpy(obs).argmax(axis=-1)

    def act(self, obs: np.ndarray, epsilon: float) -> int:
        """ε-greedy action for one observation."""
        return epsilon_greedy(
            self._rng, epsilon, self.n_actions, lambda: self.greedy_actions(obs[None])[0]
        )

    def _q_and_target(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Q(s, a) (with gradient) and the TD target y (without) for a batch.

        The discount of the bootstrapped value is the batch's own per-sample ``discounts``
        (γ^k of n-step transitions, shape (B,)) when it carries them, else ``config.gamma``.
        """
        rewards = torch.from_numpy(batch.rewards)
        terminated = torch.from_numpy(batch.terminated)
        actions = torch.from_numpy(batch.actions)[:, None]
        next_obs = torch.from_numpy(batch.next_obs)
        gamma = self._batch_discount(batch)
        with torch.no_grad():
            next_q_target = self.target(next_obs)
            if self.double:
                next_q_online = self.online(next_obs)
                y = double_dqn_target(
                    rewards, terminated, next_q_online, next_q_target, gamma, self._bounds
                )
            else:
                y = dqn_target(rewards, terminated, next_q_target, gamma, self._bounds)
        q = self.online(torch.from_numpy(batch.obs)).gather(1, actions).squeeze(1)
        return q, y

    def _batch_discount(self, batch: Batch) -> float | torch.Tensor:
        """``batch.discounts`` as a tensor if the memory stored them, else ``config.gamma``."""
        discounts = getattr(batch, "discounts", None)
        if discounts is None:
            if self.config.n_step > 1:
                raise ValueError(
                    f"n_step={self.config.n_step} but the batch has no 'discounts': n-step "
                    "transitions need a memory that stores each one's discount γ^k "
                    "(see prdqn_lib.nstep.add_n_step)"
                )
            return self.config.gamma
        return torch.as_tensor(np.asarray(discounts, dtype=np.float32))

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
            grads = [p.grad for p in self.online.parameters() if p.grad is not None]
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
