"""mypy on kubectl_vmmove/ at the strictness pyproject.toml's [tool.mypy] states: a wrong type fails the suite."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mypy_finds_no_type_errors_in_the_package():
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT,
                         capture_output=True, text=True)
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert run.returncode == 0 and not errors, "mypy found type errors:\n" + run.stdout + run.stderr
