"""The project works installed, not only checked out: build the wheel, install it (without dependencies)
into a fresh virtual environment that sees this one's packages, and run the `hugginggpt` command from
another folder — help, the tool list, and one turn against the stand-ins."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import scenarios
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.hf_plugin import HF_TEST_TOKEN, ROUTE_HF_DIR
from tests.stand_ins.openai_api import OpenAIStandIn

REPO = Path(__file__).resolve().parent.parent
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "outputs", "test-artifacts", ".mcp-servers",
              "__pycache__", ".*_cache", ".langgraph_api")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built by pip from a copy of the checkout without its build outputs (an
    in-tree build reuses build/lib, so a stale one would ship whatever an older layout left there)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (made,) = (root / "dist").glob("hugginggpt_langchain-*.whl")
    return made


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only the built wheel; this venv's site-packages are visible through a .pth."""
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    yield env_dir


@pytest.fixture
def elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> dict[str, str]:
    """The environment of a user in a folder of their own: nothing of the checkout on the path."""
    scenarios.register_all(openai_stand_in)
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUGGINGGPT_", "PYTHON"))}
    env.update(
        PYTHONPATH=str(
            ROUTE_HF_DIR
        ),  # routes huggingface_hub to the stand-in; appends the repo *after* site-packages
        HUGGINGGPT_TEST_HF_URL=hf_stand_in.url,
        HF_TOKEN=HF_TEST_TOKEN,
        OPENAI_API_KEY=os.environ["OPENAI_API_KEY"],
        OPENAI_BASE_URL=os.environ["OPENAI_BASE_URL"],
    )
    return env


def run(installed: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed / "bin" / "hugginggpt", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_wheel_holds_hugginggpt_alone(wheel: Path) -> None:
    """Issue 23.6: one top-level name in site-packages, `hugginggpt`, holding every module of the
    repository's tools/, agent/ and prompts/ folders (as files, not links) and the system prompt."""
    with zipfile.ZipFile(wheel) as archive:
        names = {info.filename for info in archive.infolist() if not info.is_dir()}
        links = [i.filename for i in archive.infolist() if stat.S_ISLNK(i.external_attr >> 16)]
    tops = {name.split("/")[0] for name in names}
    assert tops == {"hugginggpt", wheel.name.split("-py")[0] + ".dist-info"} and links == []
    sources = {
        f"hugginggpt/{p.relative_to(REPO).as_posix()}"
        for top in ("tools", "agent", "prompts")
        for p in (REPO / top).rglob("*")
        if p.suffix in (".py", ".md") and "__pycache__" not in p.parts
    }
    assert {n for n in names if not n.startswith(tuple(tops - {"hugginggpt"}))} == {
        "hugginggpt/__init__.py",
        *sources,
    }


def test_the_installed_packages_are_the_wheels(installed: Path, elsewhere: dict[str, str]) -> None:
    code = "from hugginggpt import agent, prompts, tools; print(agent.__file__, prompts.__file__, tools.__file__)"
    out = subprocess.run(
        [installed / "bin" / "python", "-c", code], env=elsewhere, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert all(Path(p).is_relative_to(installed) for p in out.stdout.split()), out.stdout


def test_installed_command_help_tools_and_a_turn(
    installed: Path, elsewhere: dict[str, str], tmp_path: Path
) -> None:
    helped = run(installed, elsewhere, "--help")
    assert (
        helped.returncode == 0
        and helped.stdout.startswith("usage: hugginggpt")
        and "--thread" in helped.stdout
    )
    listed = run(installed, elsewhere, "--list-tools")
    assert listed.returncode == 0 and "text_to_image" in listed.stdout and "find_models" in listed.stdout
    turn = run(
        installed, elsewhere, "--json", "--prompt", scenarios.SHEEP_PROMPT
    )  # the prompt ships in the wheel
    assert turn.returncode == 0, turn.stderr
    (image,) = json.loads(turn.stdout)["artifacts"]
    assert (tmp_path / image["path"]).is_file() and image["mime_type"].startswith("image/")
    web = subprocess.run(
        [installed / "bin" / "hugginggpt-web", "--help"], env=elsewhere, capture_output=True, text=True
    )
    assert web.returncode == 0 and web.stdout.startswith("usage: hugginggpt-web")


async def test_installed_mcp_command_serves_the_tools(
    installed: Path, elsewhere: dict[str, str], tmp_path: Path
) -> None:
    from mcp import Client, StdioServerParameters

    server = StdioServerParameters(
        command=str(installed / "bin" / "hugginggpt-mcp"), env=elsewhere, cwd=tmp_path
    )
    async with Client(server) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        made = await client.call_tool("text_to_image", {"prompt": "three sheep"})
    assert "text_to_image" in listed and listed[-2:] == ["find_models", "run_plan"]
    assert not made.is_error and (tmp_path / made.structured_content["files"][0]["path"]).is_file()
