"""``python -m netbed``: the ``scripts/testbed`` command line."""

import sys

from netbed.cli import main

sys.exit(main())
