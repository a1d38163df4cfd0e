"""Tools of other MCP servers (`HUGGINGGPT_MCP_SERVERS`) beside the task tools, through the official `mcp`
client: the servers file (config.py), one session per server and toolkit (sessions.py), the LangChain tool
(tool.py), results as text, files of the turn and data (results.py), all of it put together (servers.py).
Nothing here is imported unless servers are configured."""
