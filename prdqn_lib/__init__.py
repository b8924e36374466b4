"""prdqn_lib: the small library under the prdqn notebooks on Prioritized Experience Replay."""

from .replay import Batch, PrioritizedReplay, TDErrorListReplay, UniformReplay
from .sumtree import SumTree

__all__ = ["Batch", "PrioritizedReplay", "SumTree", "TDErrorListReplay", "UniformReplay"]
__version__ = "0.1.0"
