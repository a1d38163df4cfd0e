"""The tools inside your own agent: `create_agent` with your prompt, or a hand-built LangGraph graph
with `ToolNode` (parallel tool calls run concurrently there too).

    python examples/own_graph.py "Draw a red fox, then caption it"   # needs HF_TOKEN and OPENAI_API_KEY

The toolkit's `run_plan` comes along: a model that plans can run "draw, then caption" in one call.
"""

from __future__ import annotations

import os
import sys

from dotenv import load_dotenv
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from hugginggpt.tools import HuggingFaceToolkit

PROMPT = (
    "You are an illustrator. Use the tools to make and check images; for tasks that feed each other use one"
    " run_plan call. Answer with the file paths."
)


def my_agent(llm: BaseChatModel, tools: list[BaseTool]):
    """A plain `create_agent` over the tools."""
    return create_agent(llm, tools, system_prompt=PROMPT, name="illustrator")


def my_graph(llm: BaseChatModel, tools: list[BaseTool]):
    """model -> tools -> model ... as an explicit StateGraph."""
    model = llm.bind_tools(tools)

    def call_model(state: MessagesState) -> dict:
        return {"messages": [model.invoke([("system", PROMPT), *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    return graph.compile(name="illustrator-graph")


def main() -> None:
    load_dotenv()  # OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server), OPENAI_MODEL
    llm = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4.1-mini"))
    tools = HuggingFaceToolkit(tasks=["text_to_image", "image_to_text"]).get_tools()
    request = {"messages": [("user", " ".join(sys.argv[1:]) or "Draw a red fox, then caption it")]}
    for build in (my_agent, my_graph):
        print(build(llm, tools).invoke(request)["messages"][-1].content)


if __name__ == "__main__":
    main()
