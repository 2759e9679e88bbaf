"""`python -m kubectl_vmmove` behaves exactly like the `kubectl-vmmove` executable."""

import sys

from .cli import main

sys.exit(main())
