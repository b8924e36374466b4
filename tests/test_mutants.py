"""Every mutant of scripts/check_mutants.py applies exactly once to today's code.

A mutant whose text no longer occurs (the code moved) or occurs twice (the code was repeated)
would test nothing; check_mutants.py reports such a mutant as STALE and fails, and this test
fails in the ordinary suite, long before anyone runs the mutants.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_mutants import MUTANTS, applies_once  # noqa: E402


@pytest.mark.parametrize(("file", "old", "new", "label"), MUTANTS, ids=[m[3] for m in MUTANTS])
def test_each_mutant_applies_exactly_once(file, old, new, label):
    assert old != new, f"mutant {label!r} changes nothing"
    assert applies_once(file, old) == 1, (
        f"mutant {label!r}: its text occurs {applies_once(file, old)} times in {file}, not once"
    )


def test_mutant_labels_are_unique():
    labels = [m[3] for m in MUTANTS]
    assert len(labels) == len(set(labels))
