"""``python -m digitpad``: start the app."""

import sys

from digitpad.app import main

sys.exit(main())
