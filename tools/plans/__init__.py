"""Plans: `run_plan`, a task graph of the task tools in one call, and its step checks."""
