"""One frozen build and release per test session, shared by every test that needs the real artefacts.

The build is the slow part of the suite (about 25 s on 2 cores), so it runs at most once: `release(tmp_path_factory)`
caches its result in this module, which also holds when several test modules ask for it through their own
fixtures. It runs the real scripts, `scripts/build --dist` and `scripts/release --out --manifest`, into a temporary
folder, so the committed krew/vmmove.yaml and the repository's dist/ are never touched.
"""

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_cached = None


def _load_release_script():
    """scripts/release as a module (it has no .py name), for its packing and rendering functions."""
    loader = importlib.machinery.SourceFileLoader("vmmove_release", os.path.join(ROOT, "scripts", "release"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


release_script = _load_release_script()


@dataclass(frozen=True)
class Release:
    dist: str  # scripts/build --dist: holds kubectl-vmmove/kubectl-vmmove and kubectl-vmmove/_internal/
    out: str  # scripts/release --out: holds the archive
    archive: str
    manifest: str  # the rendered manifest (a copy beside the archive, named vmmove.yaml as krew wants)
    build_seconds: float

    @property
    def executable(self) -> str:
        return os.path.join(self.dist, "kubectl-vmmove", "kubectl-vmmove")


def release(tmp_path_factory) -> Release:
    global _cached
    if _cached is None:
        base = str(tmp_path_factory.mktemp("frozen-release"))
        dist, out = os.path.join(base, "dist"), os.path.join(base, "release")
        manifest = os.path.join(out, "vmmove.yaml")
        start = time.monotonic()
        _run([os.path.join(ROOT, "scripts", "build"), "--dist", dist])
        build_seconds = time.monotonic() - start
        _run([sys.executable, os.path.join(ROOT, "scripts", "release"), "--dist", dist, "--out", out,
              "--manifest", manifest])
        archives = [f for f in os.listdir(out) if f.endswith(".tar.gz")]
        assert len(archives) == 1, archives
        _cached = Release(dist, out, os.path.join(out, archives[0]), manifest, build_seconds)
        sys.stderr.write(f"\nfrozen build took {build_seconds:.0f}s\n")
    return _cached


def _run(cmd):
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
