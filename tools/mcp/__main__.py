"""`python -m tools.mcp`: the same as the `hugginggpt-mcp` command."""

from tools.mcp.command import main

raise SystemExit(main())
