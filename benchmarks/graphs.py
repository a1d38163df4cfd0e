"""Task graphs sampled from TaskBench's Hugging Face tool graph, and the planner scripts that run them.

TaskBench (Shen et al., 2023) samples single tools, chains and DAGs from a graph whose links mean "the
output of source can feed target"; we do the same over the nodes this project has a tool for, then script
the planner stand-in to call them the way a good planner would: every task of a dependency layer in one
model turn, dependents only after their inputs exist, files passed on by the paths the tools returned.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import REPO

GRAPH_FILE = REPO / "tests" / "fixtures" / "taskbench" / "graph_desc.json"

# TaskBench node -> this project's tool. Left out: Conversational, Depth Estimation, Image Editing (no tool),
# and Tabular Classification (TaskBench's takes an image of a table; ours takes the table itself).
TOOL_OF = {
    "Token Classification": "token_classification",
    "Translation": "translation",
    "Summarization": "summarization",
    "Question Answering": "question_answering",
    "Text Generation": "text_generation",
    "Sentence Similarity": "sentence_similarity",
    "Object Detection": "object_detection",
    "Image Classification": "image_classification",
    "Image-to-Image": "image_to_image",
    "Image-to-Text": "image_to_text",
    "Text-to-Image": "text_to_image",
    "Text-to-Video": "text_to_video",
    "Visual Question Answering": "visual_question_answering",
    "Document Question Answering": "document_question_answering",
    "Image Segmentation": "image_segmentation",
    "Text-to-Speech": "text_to_speech",
    "Automatic Speech Recognition": "automatic_speech_recognition",
    "Audio-to-Audio": "audio_to_audio",
    "Audio Classification": "audio_classification",
}

# Each tool's inputs as (argument, modality); a parent's output fills the first free slot of its type.
SLOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "token_classification": (("text", "text"),),
    "translation": (("text", "text"),),
    "summarization": (("text", "text"),),
    "question_answering": (("context", "text"), ("question", "text")),
    "text_generation": (("prompt", "text"),),
    "sentence_similarity": (("sentence", "text"), ("other_sentences", "text")),
    "object_detection": (("image", "image"),),
    "image_classification": (("image", "image"),),
    "image_to_image": (("image", "image"),),
    "image_to_text": (("image", "image"),),
    "text_to_image": (("prompt", "text"),),
    "text_to_video": (("prompt", "text"),),
    "visual_question_answering": (("image", "image"), ("question", "text")),
    "document_question_answering": (("image", "image"), ("question", "text")),
    "image_segmentation": (("image", "image"),),
    "text_to_speech": (("text", "text"),),
    "automatic_speech_recognition": (("audio", "audio"),),
    "audio_to_audio": (("audio", "audio"),),
    "audio_classification": (("audio", "audio"),),
}
EXTRA_ARGS: dict[str, dict[str, Any]] = {
    "translation": {"src_lang": "en_XX", "tgt_lang": "fr_XX"},
    "image_to_image": {"prompt": "make it look like a watercolour"},
    "text_generation": {"max_new_tokens": 40},
}
USER_TEXT = {
    "text": "Three sheep graze on a green hill under a blue sky near Paris.",
    "prompt": "three sheep grazing on a green hill",
    "context": "Three sheep graze on a green hill under a blue sky near Paris.",
    "question": "How many sheep are there?",
    "sentence": "Three sheep graze on a hill.",
    "other_sentences": "Sheep are eating grass.",
}
USER_MEDIA = {"image": "inputs/photo.png", "audio": "inputs/speech.flac"}
_TEXT_PREFIX = re.compile(r"^[\w-]+: (?:Text|Answer|Top labels|Found \d+ \w+\(?\w*\)?|Similarity[^:]*): ?")


@dataclass(frozen=True)
class Edge:
    source: str  # tool names
    target: str
    kind: str  # text | image | audio | video


@dataclass
class Graph:
    shape: str  # single | chain | dag
    nodes: list[str]  # tool names, topological order
    edges: list[Edge] = field(default_factory=list)

    def parents(self, node: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node]

    def layers(self) -> list[list[str]]:
        """Nodes grouped by depth (longest path from a root): the turns a good planner needs."""
        depth: dict[str, int] = {}
        for node in self.nodes:
            depth[node] = max((depth[e.source] + 1 for e in self.parents(node)), default=0)
        out: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
        for node in self.nodes:
            out[depth[node]].append(node)
        return out

    def describe(self) -> str:
        if not self.edges:
            return self.nodes[0]
        return ", ".join(f"{e.source}->{e.target}" for e in self.edges)


def load_links() -> dict[str, list[tuple[str, str]]]:
    """Usable links: {source tool: [(target tool, modality)]}."""
    data = json.loads(GRAPH_FILE.read_text(encoding="utf-8"))
    out: dict[str, list[tuple[str, str]]] = {tool: [] for tool in TOOL_OF.values()}
    for link in data["links"]:
        source, target = TOOL_OF.get(link["source"]), TOOL_OF.get(link["target"])
        if source and target and any(kind == link["type"] for _, kind in SLOTS[target]):
            out[source].append((target, link["type"]))
    return out


def _free_slot(graph: Graph, node: str, kind: str) -> bool:
    used = sum(1 for e in graph.parents(node) if e.kind == kind)
    return used < sum(1 for _, k in SLOTS[node] if k == kind)


def sample_chain(rng: random.Random, links: dict[str, list[tuple[str, str]]], length: int) -> Graph | None:
    node = rng.choice(sorted(links))
    graph = Graph("chain", [node])
    while len(graph.nodes) < length:
        options = [(t, k) for t, k in links[node] if t not in graph.nodes]
        if not options:
            return None
        target, kind = rng.choice(options)
        graph.nodes.append(target)
        graph.edges.append(Edge(node, target, kind))
        node = target
    return graph


def sample_dag(rng: random.Random, links: dict[str, list[tuple[str, str]]], size: int) -> Graph | None:
    """A connected DAG that is not a chain: some task has two parents or two children."""
    graph = Graph("dag", [rng.choice(sorted(links))])
    while len(graph.nodes) < size:
        candidates = [
            (source, target, kind)
            for source in graph.nodes
            for target, kind in links[source]
            if target not in graph.nodes
        ]
        if not candidates:
            return None
        source, target, kind = rng.choice(candidates)
        graph.nodes.append(target)
        graph.edges.append(Edge(source, target, kind))
        # sometimes a second parent (a join), when the target has a free slot of that modality
        joins = [(s, k) for s in graph.nodes[:-1] if s != source for t, k in links[s] if t == target]
        rng.shuffle(joins)
        for other, other_kind in joins[:1]:
            if rng.random() < 0.5 and _free_slot(graph, target, other_kind):
                graph.edges.append(Edge(other, target, other_kind))
    fan_out = any(sum(e.source == n for e in graph.edges) > 1 for n in graph.nodes)
    fan_in = any(len(graph.parents(n)) > 1 for n in graph.nodes)
    if not (fan_out or fan_in) or len(graph.layers()) < 2:
        return None
    return graph


def graph_arguments(description: str | None, singles: int | None = None) -> argparse.ArgumentParser:
    """The options of a benchmark over `sample_graphs`: seed, how many of each shape, --verbose."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=2023)
    if singles is not None:
        parser.add_argument("--singles", type=int, default=singles)
    parser.add_argument("--chains", type=int, default=6)
    parser.add_argument("--dags", type=int, default=10)
    parser.add_argument("--verbose", action="store_true", help="print every graph")
    return parser


def sample_graphs(seed: int, singles: int, chains: int, dags: int, max_tasks: int = 6) -> list[Graph]:
    rng = random.Random(seed)
    links = load_links()
    graphs: list[Graph] = [Graph("single", [tool]) for tool in rng.sample(sorted(links), singles)]
    for shape, count, sampler in (("chain", chains, sample_chain), ("dag", dags, sample_dag)):
        made = 0
        while made < count:
            graph = sampler(rng, links, rng.randint(2 if shape == "chain" else 3, max_tasks))
            if graph is not None:
                graphs.append(graph)
                made += 1
    return graphs


# --------------------------------------------------------------------------- planner scripts


def output_of(content: str, kind: str) -> str | None:
    """What a tool result hands on: the file path of `kind`, or its text."""
    from tests.stand_ins.scripts import find_paths

    if kind in ("image", "audio", "video"):
        paths = find_paths(content, kind)
        return paths[-1] if paths else None  # annotated images come last
    first = content.splitlines()[0] if content else ""
    text = _TEXT_PREFIX.sub("", first).strip() or first
    return text[:400]


def call_args(graph: Graph, node: str, results: dict[str, str], refer: bool = False) -> dict[str, Any]:
    """The arguments a good planner would pass: parents' outputs in their slots (with `refer`, as run_plan
    references `$parent`), the user's for the rest."""
    args: dict[str, Any] = {}
    pending = list(graph.parents(node))
    for arg, kind in SLOTS[node]:
        edge = next((e for e in pending if e.kind == kind), None)
        value = None
        if edge is not None:
            pending.remove(edge)
            value = f"${edge.source}" if refer else output_of(results.get(edge.source, ""), kind)
        if value is None:
            value = USER_MEDIA.get(kind) or USER_TEXT[arg]
        args[arg] = [value] if arg == "other_sentences" else value
    return {**args, **EXTRA_ARGS.get(node, {})}


WAYS = ("task", "layer", "once")  # one task per model turn (the original), one layer per turn, one run_plan


def plan(graph: Graph, way: str = "layer") -> list[Callable[[dict[str, Any]], Any] | str]:
    """`on_user` plan steps, one of `WAYS`, then the final answer."""
    from tests.stand_ins.scripts import plan_call, tool_results

    if way == "once" and len(graph.nodes) > 1:  # a single task needs no plan: it is called directly
        steps = [(node, node, call_args(graph, node, {}, refer=True)) for node in graph.nodes]
        return [lambda request: [plan_call(*steps)], "Done: every step ran in one plan."]
    turns = [[n] for layer in graph.layers() for n in layer] if way == "task" else graph.layers()

    def step(nodes: list[str]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
        def turn(request: dict[str, Any]) -> list[dict[str, Any]]:
            results = {r.name: r.content for r in tool_results(request) if r.name}
            return [{"name": n, "args": call_args(graph, n, results)} for n in nodes]

        return turn

    def answer(request: dict[str, Any]) -> str:
        results = tool_results(request)
        lines = [f"- {r.name}: {r.content.splitlines()[0][:160]}" for r in results]
        return "Done.\nWhat I ran:\n" + "\n".join(lines)

    return [*(step(nodes) for nodes in turns), answer]
