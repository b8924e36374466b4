"""``python -m prdqn_lib``: see prdqn_lib.cli."""

import sys

from .cli import main

sys.exit(main())
