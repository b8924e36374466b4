"""Hypothesis profiles: how hard the property and stateful tests search.

    pytest                                  # "dev" locally, "ci" when the CI variable is set
    HYPOTHESIS_PROFILE=ci pytest            # what CI runs: the quick budget
    HYPOTHESIS_PROFILE=thorough pytest tests/test_stateful.py   # a long hunt

A test's own ``@settings(max_examples=...)`` wins over the profile for that setting; the
stateful tests (tests/test_stateful.py) take both numbers from the profile.
"""

import os

from hypothesis import settings

# name: (examples per stateful test, steps per example)
PROFILES = {"ci": (25, 30), "dev": (100, 50), "thorough": (1000, 100)}

for _name, (_examples, _steps) in PROFILES.items():
    settings.register_profile(
        _name, max_examples=_examples, stateful_step_count=_steps, deadline=None
    )

settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
