"""Any MCP server's tools as LangChain tools, here this project's own (`hugginggpt-mcp`): the official
`mcp` client wrapped in a few lines (langchain-mcp-adapters would do the same, but it pins mcp<2).

    python examples/mcp_client.py "Generate an image of a lighthouse"   # needs HF_TOKEN and OPENAI_API_KEY
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from mcp import Client, StdioServerParameters
from mcp.client import Transport

SERVER = StdioServerParameters(command=sys.executable, args=["-m", "hugginggpt.tools.mcp"])


def as_langchain_tool(client: Client, tool: types.Tool) -> BaseTool:
    """An MCP tool as a LangChain tool: its text is the content, its structuredContent the artifact,
    and an `isError` result a ToolException (the agent shows the model the error)."""

    async def call(**arguments: Any) -> tuple[str, Any]:
        result = await client.call_tool(tool.name, arguments)
        text = "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))
        if result.is_error:
            raise ToolException(text)
        return text, result.structured_content

    return StructuredTool(
        name=tool.name,
        description=tool.description or "",
        args_schema=tool.input_schema,  # the server's JSON schema, sent to the chat model as it is
        coroutine=call,
        response_format="content_and_artifact",
    )


@asynccontextmanager
async def mcp_tools(
    server: StdioServerParameters | Transport | str = SERVER,
) -> AsyncIterator[list[BaseTool]]:
    """The server's tools as LangChain tools, usable while the block runs (a URL means streamable HTTP)."""
    async with Client(server) as client:
        listed = await client.list_tools()
        yield [as_langchain_tool(client, tool) for tool in listed.tools]


async def main(prompt: str) -> None:
    from dotenv import load_dotenv
    from langchain.agents import create_agent
    from langchain_openai import ChatOpenAI

    load_dotenv()
    async with mcp_tools() as tools:
        agent = create_agent(ChatOpenAI(model="gpt-4.1-mini"), tools)
        state = await agent.ainvoke({"messages": [{"role": "user", "content": prompt}]})
        print(state["messages"][-1].content)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "Generate an image of a lighthouse"))
