"""``python -m benchmarks``: measure and print the eleven figures (``--help`` for options)."""

import sys

from .run import main

sys.exit(main())
