"""``python -m benchmarks``: measure and print the ten figures (``--help`` for options)."""

import sys

from .run import main

sys.exit(main())
