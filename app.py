#!/usr/bin/env python
"""HuggingGPT in the browser; the same as the installed `hugginggpt-web` command (agent/web_command.py)."""

import sys

from hugginggpt.agent.web_command import main

if __name__ == "__main__":
    sys.exit(main())
