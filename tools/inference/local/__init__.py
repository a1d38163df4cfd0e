"""Local models: the local task table, the runners that load and call models, and the loaded-model registry."""
