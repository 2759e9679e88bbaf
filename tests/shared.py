"""Where the team's shared material lives: `../shared` beside the project (as in CI), or $VMMOVE_SHARED."""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("VMMOVE_SHARED") or ROOT.parent / "shared")
FIXTURES = SHARED / "fixtures" / "upstream"
SCHEMAS = SHARED / "schemas"
