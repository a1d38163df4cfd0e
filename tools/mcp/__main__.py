"""`python -m hugginggpt.tools.mcp`: the same as the `hugginggpt-mcp` command."""

from hugginggpt.tools.mcp.command import main

raise SystemExit(main())
