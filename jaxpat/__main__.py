"""``python -m jaxpat``: the same as the ``jaxpat`` command."""

import sys

from ._cli import main

sys.exit(main())
