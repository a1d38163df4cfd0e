"""The whole agent for other agents, inside `make serve`: one MCP tool (`mcp_tool`), an A2A agent
(`a2a_agent`), both rendering the turns of one agent on the conversation store (`turns`); `app` mounts
them in LangGraph's server (langgraph.json `http.app`)."""
