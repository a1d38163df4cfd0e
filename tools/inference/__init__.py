"""Where an attempt runs: the router clients, local models, the attempt plan, the model catalog, error classification."""
