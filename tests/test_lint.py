"""ruff on the package, the tests and the plugin entry, with the rules pyproject.toml's [tool.ruff] selects
(pyflakes errors, import order, bug patterns): a finding fails the suite."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "kubectl_vmmove",
                          "tests", "plugin"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, "ruff found problems:\n" + run.stdout + run.stderr
