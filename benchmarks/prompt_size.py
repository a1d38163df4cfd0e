"""Prompt size: what every model turn carries before the conversation itself, the system prompt and the
tool schemas, taken from a real request the agent sent to the planner stand-in, with every tool offered
(`HUGGINGGPT_TOOL_SELECTION=all`; what selection offers per request is benchmarks/tool_selection.py).

Tokens are estimated (no tokenizer files offline; tiktoken downloads its encodings at run time): chars/4
over the JSON as sent, and langchain_core's `count_tokens_approximately` (also about 4 chars a token).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from benchmarks import harness


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def bench() -> dict[str, Any]:
    from langchain_core.messages import SystemMessage
    from langchain_core.messages.utils import count_tokens_approximately

    with harness.stack() as stack:
        agent = stack.agent(stack.settings(tool_selection="all"))  # every tool; selection: tool_selection.py
        stack.llm.on_user(r".", ["ok"])
        await harness.run_prompt(agent, "hi", "size")
        request = stack.llm.chat_requests[0]
    system = next(m["content"] for m in request["messages"] if m["role"] == "system")
    tools = request["tools"]
    sizes = sorted(((len(compact(t)), t["function"]["name"]) for t in tools), reverse=True)
    described = sum(len(t["function"].get("description", "")) for t in tools)
    params = [p for t in tools for p in t["function"]["parameters"].get("properties", {}).values()]
    return {
        "system_chars": len(system),
        "tools_chars": len(compact(tools)),
        "tools": len(tools),
        "largest": sizes[:3],
        "description_chars": described + sum(len(p.get("description", "")) for p in params),
        "parameters": len(params),
        "approx_tokens": count_tokens_approximately([SystemMessage(system)], tools=tools),
    }


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    fixed = data["system_chars"] + data["tools_chars"]
    return [
        {
            "benchmark": "prompt size",
            "metric": "system prompt",
            "value": f"~{data['system_chars'] / 4:.0f} tokens",
            "note": f"{data['system_chars']} chars",
        },
        {
            "benchmark": "prompt size",
            "metric": f"tool schemas ({data['tools']} tools, {data['parameters']} parameters)",
            "value": f"~{data['tools_chars'] / 4:.0f} tokens",
            "note": f"{data['tools_chars']} chars of JSON, {data['description_chars']} of them descriptions; largest: "
            + ", ".join(f"{name} {size}" for size, name in data["largest"]),
        },
        {
            "benchmark": "prompt size",
            "metric": "sent on every model turn with every tool (system + tools)",
            "value": f"~{fixed / 4:.0f} tokens",
            "note": f"count_tokens_approximately: {data['approx_tokens']}; chars/4 estimates, no tokenizer offline",
        },
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    harness.prepare_environment()
    return summarise(asyncio.run(bench()))


if __name__ == "__main__":
    harness.emit(main())
