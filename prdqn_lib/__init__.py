"""prdqn_lib: the small library under the prdqn notebooks on Prioritized Experience Replay."""

from .replay import Batch, PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay
from .sumtree import SumTree

__all__ = [
    "Batch",
    "PrioritizedReplay",
    "RankBasedReplay",
    "SumTree",
    "TDErrorListReplay",
    "UniformReplay",
]
__version__ = "0.1.0"
