#!/usr/bin/env python
"""HuggingGPT on the command line; the same as the installed `hugginggpt` command (agent/cli.py)."""

import sys

from hugginggpt.agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
