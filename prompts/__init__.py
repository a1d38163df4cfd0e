"""The agent's prompts, shipped with the package (read with importlib.resources)."""
