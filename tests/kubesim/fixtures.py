"""pytest fixtures: ``kubesim`` (a started KubeSim, fresh per test, fast controllers) and ``kubesim_factory``."""

import pytest

from . import KubeSim

FAST = 1000.0   # simulated seconds per real second in tests


@pytest.fixture
def kubesim():
    sim = KubeSim(speed=FAST, tls=True)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def kubesim_factory():
    started = []

    def make(**kwargs):
        kwargs.setdefault("speed", FAST)
        sim = KubeSim(**kwargs)
        sim.start()
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()
