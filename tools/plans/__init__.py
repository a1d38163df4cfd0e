"""Plans: `run_plan`, a task graph of the task tools in one call (tool.py), its executor (run.py), its typed
results and step events (results.py), its step checks (steps.py) and its streamed-steps reader (scan.py)."""
