import logging

import pytest

pytest_plugins = ["tests.kubesim.fixtures"]


@pytest.fixture(autouse=True)
def _plugin_logging_reset():
    """Each CLI invocation configures the plugin's loggers (-v N: level, a handler on the stderr of the moment);
    a test that calls a verb directly must not inherit a previous test's verbosity or its closed stream."""
    yield
    for name in ("kubectl_vmmove", "kubectl_vmmove.kube.bodies"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
