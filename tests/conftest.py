pytest_plugins = ["tests.kubesim.fixtures"]
