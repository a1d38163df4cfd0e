"""Try the real CLI with no keys and no network: the loopback stand-ins play Hugging Face and the LLM.

    .venv/bin/python -m tests.demo --prompt "Generate an image of a field with three sheep grazing peacefully"
    .venv/bin/python -m tests.demo            # a chat; try the prompts in tests/scenarios.py

Everything after `-m tests.demo` is passed to run_agent.py. The planner stand-in only knows the
scenarios in tests/scenarios.py; files are written to ./outputs as usual.
"""

from __future__ import annotations

import os
import sys

from tests import scenarios
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.routing import route_hf_to


def main(argv: list[str] | None = None) -> int:
    from hugginggpt.agent.cli import main as run_cli

    with HFStandIn() as hf, OpenAIStandIn(api_key=None) as llm:
        scenarios.register_all(llm)
        route_hf_to(hf.url)
        os.environ.update(
            HF_TOKEN="hf_demo_stand_in", OPENAI_API_KEY="sk-demo-stand-in", OPENAI_BASE_URL=llm.base_url
        )
        return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
