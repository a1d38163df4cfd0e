"""Bind the tools to any chat model and execute the tool calls it returns, by hand.

python examples/bind_tools.py "Draw a lighthouse at dusk"   # needs HF_TOKEN and OPENAI_API_KEY
"""

from __future__ import annotations

import os
import sys

from dotenv import load_dotenv
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import BaseTool
from langchain_openai import ChatOpenAI

from hugginggpt.tools import HuggingFaceToolkit


def ask(llm: BaseChatModel, tools: list[BaseTool], question: str) -> list[BaseMessage]:
    """One round: the model picks tools, we run them, the model answers. Returns the conversation."""
    model = llm.bind_tools(tools)
    by_name = {tool.name: tool for tool in tools}
    messages: list[BaseMessage] = [HumanMessage(question)]
    reply = model.invoke(messages)
    messages.append(reply)
    messages.extend(by_name[call["name"]].invoke(call) for call in reply.tool_calls)  # ToolMessages
    if reply.tool_calls:
        messages.append(model.invoke(messages))
    return messages


def main() -> None:
    load_dotenv()  # OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server), OPENAI_MODEL
    llm = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4.1-mini"))
    tools = HuggingFaceToolkit(tasks=["text_to_image", "image_to_text"]).get_tools()
    messages = ask(llm, tools, " ".join(sys.argv[1:]) or "Draw a lighthouse at dusk")
    for message in messages[1:]:
        print(f"{message.type}: {message.content}")


if __name__ == "__main__":
    main()
