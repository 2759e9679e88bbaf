"""PyInstaller entry point of the `kubectl-vmmove` executable.

It is a separate file, not `kubectl_vmmove/__main__.py`, because PyInstaller runs its entry script as `__main__`
outside the package, where the package's relative imports would fail.
"""

import sys

from kubectl_vmmove.cli import main

if __name__ == "__main__":
    sys.exit(main())
