"""The tools as steps of LCEL chains: prompt | llm | parser | tool, two tools at once in parallel, and a
whole task graph as one `run_plan` step.

python examples/lcel_chain.py "a quiet harbour"          # needs HF_TOKEN and OPENAI_API_KEY
"""

from __future__ import annotations

import os
import sys

from dotenv import load_dotenv
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel
from langchain_openai import ChatOpenAI

from hugginggpt.tools import HuggingFaceToolkit


def _tools(toolkit: HuggingFaceToolkit | None) -> dict[str, Runnable]:
    toolkit = toolkit or HuggingFaceToolkit(tasks=["text_to_image", "image_to_text", "object_detection"])
    return {tool.name: tool for tool in toolkit.get_tools()}


def illustrate_chain(llm: BaseChatModel, toolkit: HuggingFaceToolkit | None = None) -> Runnable:
    """{"idea": ...} -> the LLM writes an image prompt -> text_to_image draws it (text with the path)."""
    prompt = ChatPromptTemplate.from_messages(
        [
            (
                "system",
                "Write one vivid, concrete prompt for an image generator. Reply with the prompt only.",
            ),
            ("human", "{idea}"),
        ]
    )
    return (
        prompt | llm | StrOutputParser() | (lambda text: {"prompt": text}) | _tools(toolkit)["text_to_image"]
    )


def look_chain(toolkit: HuggingFaceToolkit | None = None) -> Runnable:
    """{"image": path} -> caption and objects, computed at the same time."""
    tools = _tools(toolkit)
    return RunnableParallel(caption=tools["image_to_text"], objects=tools["object_detection"])


def draw_and_caption_chain(toolkit: HuggingFaceToolkit | None = None) -> Runnable:
    """{"idea": ...} -> one run_plan: draw it, then caption and detect on the drawing at the same time."""

    def plan(inputs: dict) -> dict:
        return {
            "steps": [
                {"id": "draw", "tool": "text_to_image", "args": {"prompt": inputs["idea"]}},
                {"id": "caption", "tool": "image_to_text", "args": {"image": "$draw"}},
                {"id": "objects", "tool": "object_detection", "args": {"image": "$draw"}},
            ]
        }

    return RunnableLambda(plan) | _tools(toolkit)["run_plan"]


def main() -> None:
    load_dotenv()  # OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server), OPENAI_MODEL
    llm = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4.1-mini"))
    drawn = illustrate_chain(llm).invoke({"idea": " ".join(sys.argv[1:]) or "a quiet harbour"})
    print(drawn)
    path = next(word for word in drawn.split() if word.endswith((".png", ".jpg", ".jpeg", ".webp")))
    print(look_chain().invoke({"image": path}))
    print(draw_and_caption_chain().invoke({"idea": "a red barn in the snow"}))


if __name__ == "__main__":
    main()
