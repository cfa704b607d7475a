"""``python -m worker.cli``: the ``toolpool`` command, for a checkout without the console script."""

import sys

from worker.cli.root import main

sys.exit(main())
