"""`python -m router.cli ...`: how `followsun up` and the tests start the service processes."""

import sys

from . import main

sys.exit(main())
