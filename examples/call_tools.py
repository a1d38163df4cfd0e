"""Call the Hugging Face tools directly: `.invoke` with arguments gives text, a tool call gives a
`ToolMessage` whose `.artifact` is the typed result (model, files, data).

    python examples/call_tools.py path/to/photo.jpg     # needs HF_TOKEN (environment or .env)
"""

from __future__ import annotations

import sys

from langchain_core.messages import ToolMessage

from hugginggpt.tools import HuggingFaceToolkit


def caption_and_detect(image: str, toolkit: HuggingFaceToolkit | None = None) -> tuple[str, ToolMessage]:
    """Caption `image` (text back) and detect its objects (a ToolMessage with the artifact)."""
    toolkit = toolkit or HuggingFaceToolkit(tasks=["image_to_text", "object_detection"])
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    caption = tools["image_to_text"].invoke({"image": image})
    call = {"type": "tool_call", "id": "call-1", "name": "object_detection", "args": {"image": image}}
    return caption, tools["object_detection"].invoke(call)


def main() -> None:
    caption, detected = caption_and_detect(sys.argv[1] if len(sys.argv) > 1 else "photo.jpg")
    print(caption)
    print(detected.content)
    result = detected.artifact  # task, model, provider, seconds, files, data, failed_attempts
    print("model:", result["model"], "| files:", [f["path"] for f in result["files"]])


if __name__ == "__main__":
    main()
