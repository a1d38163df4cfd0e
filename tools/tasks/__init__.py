"""The task table (one spec per HF task) and the one generic tool that serves every spec."""
