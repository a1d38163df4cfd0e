"""Offline benchmarks against the loopback stand-ins: `make bench` (or `python -m benchmarks.run`)."""
