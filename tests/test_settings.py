"""Settings come from the environment and .env; secrets never print."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.settings import AgentSettings, MissingSetting
from tools.settings import HFSettings

HF_SECRET = "hf_SECRETsecretSECRET123"
OPENAI_SECRET = "sk-SECRETsecretSECRET456"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith(("HF_", "HUGGING", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_reads_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", HF_SECRET)
    monkeypatch.setenv("HUGGINGGPT_TIMEOUT", "7.5")
    monkeypatch.setenv("HUGGINGGPT_PROVIDER", "HF-Inference")
    monkeypatch.setenv("HUGGINGGPT_OUTPUT_DIR", "made")
    monkeypatch.setenv("HUGGINGGPT_ALLOWED_DIRS", os.pathsep.join(["a", "b"]))
    s = HFSettings.from_env()
    assert s.token() == HF_SECRET
    assert s.timeout == 7.5
    assert s.provider == "hf-inference"
    assert s.output_dir == Path("made")
    assert s.input_dirs == ((clean_env / "a"), (clean_env / "b"), (clean_env / "made"))


def test_older_token_name_and_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(f"HUGGINGFACEHUB_API_TOKEN={HF_SECRET}\nHUGGINGGPT_TIMEOUT=3\n")
    assert HFSettings.from_env().token() == HF_SECRET
    monkeypatch.setenv("HUGGINGGPT_TIMEOUT", "9")  # the real environment wins over .env
    assert HFSettings.from_env().timeout == 9


def test_defaults(clean_env: Path) -> None:
    s = AgentSettings.from_env()
    assert s.provider == "auto" and s.timeout > 0 and s.output_dir == Path("outputs")
    assert s.input_dirs == (clean_env, clean_env / "outputs")
    assert s.openai_model and s.openai_base_url is None


def test_invalid_value_is_a_validation_error(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGGPT_TIMEOUT", "soon")
    with pytest.raises(ValidationError):
        HFSettings.from_env()


def test_secrets_never_print(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", HF_SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SECRET)
    s = AgentSettings.from_env()
    shown = " ".join([str(s), repr(s), s.model_dump_json(), str(s.model_dump())])
    assert HF_SECRET not in shown and OPENAI_SECRET not in shown
    assert s.openai_api_key is not None and s.openai_api_key.get_secret_value() == OPENAI_SECRET


def test_missing_keys_named(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingSetting, match=r"OPENAI_API_KEY.*\.env"):
        AgentSettings.from_env().require_keys()
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SECRET)
    with pytest.raises(MissingSetting, match="HF_TOKEN"):
        AgentSettings.from_env().require_keys()
    monkeypatch.setenv("HF_TOKEN", HF_SECRET)
    AgentSettings.from_env().require_keys()


def test_env_example_lists_every_variable() -> None:
    from agent.errors import ENV_NAMES

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for name in ENV_NAMES.values():
        assert f"{name}=" in example, name
