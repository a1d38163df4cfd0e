"""Conversations the planner stand-in plays like a good planner: HuggingGPT's README examples and TaskBench
graphs. Shared by the agent, CLI, web UI and benchmark tests (register with `register_all(openai_stand_in)`).

Each plan calls independent tasks in one turn and hands files on by the paths the tools returned. Where
tasks feed each other and the request offers `run_plan`, the whole graph is one `run_plan` call (`$id`
references), then the answer: two model turns however deep the graph (`PlanOnce`).
"""

from __future__ import annotations

import re
from typing import Any

from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import (
    PlanOnce,
    content_text,
    find_paths,
    last_user_message,
    plan_call,
    plan_failures,
    plan_steps,
)

POEM = "Soft clouds of wool on hills of green, the calmest flock you've ever seen."
SHEEP_PROMPT = "Generate an image of a field with three sheep grazing peacefully"
SHEEP_FOLLOW_UP = "How many sheep are in the image?"
POEM_PROMPT = "Write a poem about sheep, then read it to me"
CHAIN_PROMPT = "Draw a lighthouse at dusk, describe the picture, then translate the description into French"
DAG_PROMPT = (
    "Make a picture of two cows on a hill; detect and classify what is in it, and read its caption aloud"
)
FAIL_PROMPT = "Draw a barn with a cat, then find the objects and caption it"


def transcribe_prompt(path: str) -> str:
    return f"Transcribe the audio file at {path}, then tell me how similar it is to: Sheep are nice"


def conversation_files(request: dict[str, Any], kind: str) -> list[str]:
    """Files of `kind` named by any tool message of the whole conversation, oldest first."""
    texts = [content_text(m.get("content")) for m in request["messages"] if m.get("role") == "tool"]
    return [p for text in texts for p in find_paths(text, kind)]


def ask_about_earlier_image(request: dict[str, Any]) -> list[dict[str, Any]]:
    image = conversation_files(request, "image")[0]  # the picture made in an earlier turn
    question = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")
    return [
        {"name": "image_to_text", "args": {"image": image}},
        {"name": "object_detection", "args": {"image": image}},
        {"name": "visual_question_answering", "args": {"image": image, "question": content_text(question)}},
    ]


def transcript(request: dict[str, Any]) -> str:
    tool = next(m for m in reversed(request["messages"]) if m.get("role") == "tool")
    found = re.search(r"Text: (.*)", content_text(tool.get("content")))
    return found.group(1).strip() if found else ""


def similarity_of_transcript(request: dict[str, Any]) -> list[dict[str, Any]]:
    other = re.search(r"similar it is to: (.*)$", last_user_message(request))
    sentence = transcript(request)
    target = other.group(1) if other else "Sheep are nice"
    return [{"name": "sentence_similarity", "args": {"sentence": sentence, "other_sentences": [target]}}]


def describe_translation(request: dict[str, Any]) -> list[dict[str, Any]]:
    caption = transcript(request)
    return [{"name": "translation", "args": {"text": caption, "src_lang": "en_XX", "tgt_lang": "fr_XX"}}]


def speak_caption(request: dict[str, Any]) -> list[dict[str, Any]]:
    tool_msgs = [content_text(m.get("content")) for m in request["messages"] if m.get("role") == "tool"]
    caption = next((m.group(1) for t in tool_msgs if (m := re.search(r"Text: (.*)", t))), "a picture")
    return [{"name": "text_to_speech", "args": {"text": caption}}]


def register_all(stand_in: OpenAIStandIn) -> None:
    """Teach the planner stand-in every scenario."""
    stand_in.on_user(  # SummarizationMiddleware asks the same model to condense old turns
        r"Messages to summarize",
        ["## SESSION INTENT\nSheep poems read aloud.\n## SUMMARY\nEarlier poems were read aloud."],
    )
    stand_in.on_user(
        r"generate an image of (?P<subject>.+)",
        [
            [{"name": "text_to_image", "args": {"prompt": "{subject}"}}],
            "Here is the image of {subject}: {image}\nWhat I ran: text-to-image with {model}; file: {image}.",
        ],
    )
    stand_in.on_user(
        r"how many (?P<thing>\w+) are in the image",
        [
            ask_about_earlier_image,
            "There are {count} {thing} in the image.\nWhat I ran: image-to-text, object-detection and "
            "visual-question-answering with {models}; annotated image: {image}.",
        ],
    )
    stand_in.on_user(
        r"write a poem about (?P<subject>\w+), then read it to me",
        [
            [{"name": "text_to_speech", "args": {"text": POEM}}],
            f"{POEM}\nWhat I ran: text-to-speech with {{model}}; audio: {{audio}}.",
        ],
    )
    transcribed = ("The recording says something {result}.\nWhat I ran: automatic-speech-recognition and "
                   "sentence-similarity with {models}.")  # fmt: skip
    stand_in.on_user(
        r"transcribe the audio file at (?P<path>\S+), then tell me how similar it is to: (?P<target>.+)$",
        PlanOnce(
            [
                plan_call(("s1", "automatic_speech_recognition", {"audio": "{path}"}),
                          ("s2", "sentence_similarity", {"sentence": "$s1", "other_sentences": ["{target}"]})),
                transcribed,
            ],
            [[{"name": "automatic_speech_recognition", "args": {"audio": "{path}"}}], similarity_of_transcript,
             transcribed],
        ),
    )  # fmt: skip
    described = ("French description: {result}\nWhat I ran: text-to-image, image-to-text and translation with "
                 "{models}; image: {images[0]}.")  # fmt: skip
    stand_in.on_user(
        r"draw a lighthouse",
        PlanOnce(
            [
                plan_call(("s1", "text_to_image", {"prompt": "a lighthouse at dusk"}),
                          ("s2", "image_to_text", {"image": "$s1"}),
                          ("s3", "translation", {"text": "$s2", "src_lang": "en_XX", "tgt_lang": "fr_XX"})),
                described,
            ],
            [[{"name": "text_to_image", "args": {"prompt": "a lighthouse at dusk"}}],
             [{"name": "image_to_text", "args": {"image": "{image}"}}], describe_translation, described],
        ),
    )  # fmt: skip
    found = "I found {count} objects and read the caption aloud: {audio}.\nWhat I ran: {models}."
    stand_in.on_user(
        r"two cows on a hill",
        PlanOnce(
            [
                plan_call(("s1", "text_to_image", {"prompt": "two cows on a hill"}),
                          ("s2", "object_detection", {"image": "$s1"}),
                          ("s3", "image_classification", {"image": "$s1"}),
                          ("s4", "image_to_text", {"image": "$s1"}),
                          ("s5", "text_to_speech", {"text": "$s4"})),
                found,
            ],
            [[{"name": "text_to_image", "args": {"prompt": "two cows on a hill"}}],
             [{"name": "object_detection", "args": {"image": "{image}"}},
              {"name": "image_classification", "args": {"image": "{image}"}},
              {"name": "image_to_text", "args": {"image": "{image}"}}],
             speak_caption, found],
        ),
    )  # fmt: skip
    stand_in.on_user(
        r"draw a barn with a cat",
        PlanOnce(
            [
                plan_call(("s1", "text_to_image", {"prompt": "a barn with a cat"}),
                          ("s2", "object_detection", {"image": "$s1"}),
                          ("s3", "image_to_text", {"image": "$s1"})),
                lambda request: _failure_answer(request),
            ],
            [[{"name": "text_to_image", "args": {"prompt": "a barn with a cat"}}],
             [{"name": "object_detection", "args": {"image": "{image}"}},
              {"name": "image_to_text", "args": {"image": "{image}"}}],
             lambda request: _failure_answer(request)],
        ),
    )  # fmt: skip


def _failure_answer(request: dict[str, Any]) -> str:
    results = [content_text(m.get("content")) for m in request["messages"] if m.get("role") == "tool"]
    if results and results[-1].startswith(
        "run_plan:"
    ):  # one line per step: "[s2] object_detection failed: ..."
        failed = ["Error: " + error for error in plan_failures(results[-1])]
        worked = [
            said.splitlines()[0]
            for said in plan_steps(results[-1]).values()
            if not said.startswith("it needs")
        ]
        worked = [w for w in worked if not any(w in f for f in failed)]
    else:
        failed = [r for r in results if r.startswith("Error:")]
        worked = [r.splitlines()[0] for r in results if not r.startswith("Error:")]
    return "Partial answer. Worked: " + " | ".join(worked) + ". Failed: " + " | ".join(failed)
