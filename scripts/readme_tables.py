"""Write README's variant table from the variant registry (``prdqn_lib.variants``).

    python scripts/readme_tables.py          # rewrite the table in README.md
    python scripts/readme_tables.py --check  # exit 1 if README's table is not the registry's

The table sits between the markers ``<!-- variant-table -->`` and ``<!-- /variant-table -->``;
tests/test_registry.py fails when it is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from prdqn_lib.variants import variant_table  # noqa: E402

START, END = "<!-- variant-table -->", "<!-- /variant-table -->"


def render(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the registry's table."""
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} … {END} block")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{variant_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = parser.parse_args(argv)
    path = ROOT / "README.md"
    old = path.read_text()
    new = render(old)
    if args.check:
        if new != old:
            print("README.md's variant table is stale: run python scripts/readme_tables.py")
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
