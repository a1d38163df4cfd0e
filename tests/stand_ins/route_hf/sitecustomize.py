"""Route this process's huggingface_hub traffic to the HF stand-in when HUGGINGGPT_TEST_HF_URL is set.

Used to test the CLI as a real subprocess: start it with
`PYTHONPATH=tests/stand_ins/route_hf:<repo root> HUGGINGGPT_TEST_HF_URL=http://127.0.0.1:PORT`
(the `hf_subprocess_env` fixture builds that environment). With HUGGINGGPT_TEST_LOOPBACK_LOG=FILE too,
every look-up or connection beyond loopback is refused and written to FILE (tests/stand_ins/loopback_guard.py).
Does nothing when the variables are unset, and still runs any other `sitecustomize` that this one shadows.
"""

from __future__ import annotations

import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _repo_on_path() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
    if root not in sys.path:
        sys.path.append(root)


def _guard() -> None:
    log = os.environ.get("HUGGINGGPT_TEST_LOOPBACK_LOG", "").strip()
    if not log:
        return
    _repo_on_path()
    from tests.stand_ins.loopback_guard import install

    install(log)


def _route() -> None:
    url = os.environ.get("HUGGINGGPT_TEST_HF_URL", "").strip()
    if not url:
        return
    _repo_on_path()
    from tests.stand_ins.routing import route_hf_to

    route_hf_to(url)


def _chain() -> None:
    for entry in sys.path:
        candidate = os.path.join(entry or os.getcwd(), "sitecustomize.py")
        if os.path.dirname(os.path.abspath(candidate)) != _HERE and os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_chain()
_guard()
_route()
