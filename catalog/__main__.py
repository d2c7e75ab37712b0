"""``python -m catalog``: the same as the ``jaxpat`` command."""

import sys

from ._cli import main

sys.exit(main())
