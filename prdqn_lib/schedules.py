"""One linear schedule for every annealed quantity: ε, the learning rate, the target period, β.

::

    value
    end   ┤                 ●━━━━━━━━━━━━   (constant after ``steps``)
          │             ●
          │         ●
    start ┤●━━━●                              value(t) = start + min(1, t/steps)·(end − start)
          └────┬────────────┬────────── t
               0          steps
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import positive_int, real

__all__ = ["LinearSchedule"]


@dataclass(frozen=True)
class LinearSchedule:
    """``value(t) = start + min(1, t / steps) · (end − start)`` for t >= 0, then ``end``.

    Every schedule of the project is this one line, so their float arithmetic agrees
    everywhere (``Config.epsilon``, ``Config.learning_rate``, ``Config.target_period`` and the
    β of both prioritized memories).

    Args:
        start: the value at t = 0.
        end: the value from t = ``steps`` on.
        steps: how many steps the change takes (> 0).
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        real(self.start, "start")
        real(self.end, "end")
        positive_int(self.steps, "steps")

    def __call__(self, t: int | float) -> float:
        """The value at step ``t`` (t < 0 is treated as 0)."""
        frac = min(1.0, max(0.0, t / self.steps))
        return self.start + frac * (self.end - self.start)
