"""`python -m sim ...` is the same as `migsim ...`."""

import sys

from sim.cli import main

sys.exit(main())
