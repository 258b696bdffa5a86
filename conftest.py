# Registers --target and the acceptance options for every run from the repository root.
pytest_plugins = ["acceptance.plugin"]
