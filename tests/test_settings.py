"""Settings come from the environment and .env; secrets never print."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hugginggpt.agent.errors import describe_error
from hugginggpt.agent.settings import (
    AgentSettings,
    LLMSettings,
    MissingSetting,
    StoreSettings,
    TracingSettings,
    WebSettings,
)
from hugginggpt.tools.settings import HFSettings, LocalSettings, MCPClientSettings, MCPServerSettings

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
    kit = s.toolkit
    assert kit.provider == "auto" and kit.timeout > 0 and kit.output_dir == Path("outputs")
    assert kit.input_dirs == (clean_env, clean_env / "outputs")
    assert s.llm.openai_model and s.llm.openai_base_url is None


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
    assert s.llm.openai_api_key is not None and s.llm.openai_api_key.get_secret_value() == OPENAI_SECRET


def test_missing_keys_named(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingSetting, match=r"OPENAI_API_KEY.*\.env"):
        AgentSettings.from_env().require_keys()
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SECRET)
    with pytest.raises(MissingSetting, match="HF_TOKEN"):
        AgentSettings.from_env().require_keys()
    monkeypatch.setenv("HF_TOKEN", HF_SECRET)
    AgentSettings.from_env().require_keys()


def test_env_example_lists_every_variable() -> None:
    from hugginggpt.agent.errors import ENV_NAMES

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for name in ENV_NAMES.values():
        assert f"{name}=" in example, name


def test_agent_settings_are_composed_of_sections(clean_env: Path) -> None:
    assert not issubclass(AgentSettings, HFSettings)  # composed, not inherited
    assert AgentSettings.sections() == {"toolkit": HFSettings, "llm": LLMSettings, "tracing": TracingSettings,
                                        "store": StoreSettings, "web": WebSettings}  # fmt: skip
    assert HFSettings.sections() == {"local": LocalSettings, "mcp_server": MCPServerSettings,
                                     "mcp_client": MCPClientSettings}  # fmt: skip
    s = AgentSettings.from_env(timeout=4, backend="local", mcp_port=9000, openai_model="m", web_port=8000)
    assert (s.toolkit.timeout, s.toolkit.local.backend, s.toolkit.mcp_server.mcp_port) == (4, "local", 9000)
    assert (s.llm.openai_model, s.web.web_port) == ("m", 8000)
    assert AgentSettings(thread_wait=5, trace_tags="a, b,a").store.thread_wait == 5  # also without from_env
    assert AgentSettings(trace_tags="a, b,a").tracing.trace_tags == ("a", "b")
    with pytest.raises(TypeError, match="'tiemout'"):  # a typo is refused, not ignored
        AgentSettings.from_env(tiemout=4)
    with pytest.raises(TypeError, match="'nope'"):
        HFSettings(nope=1)


def test_sections_read_their_variables_and_older_names(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LANGSMITH_API_KEY", "LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANGCHAIN_API_KEY", "lsv2_older_name_key")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "true")
    monkeypatch.setenv("HUGGINGGPT_LOCAL_WORKERS", "")  # blank: unset, as in .env.example
    monkeypatch.setenv("HUGGINGGPT_MCP_CALL_TIMEOUT", "7")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7001")
    for section in ("LOCAL", "WEB", "LLM", "TOOLKIT"):  # variables named like a section are no section
        monkeypatch.setenv(section, "x")
    (clean_env / ".env").write_text("HUGGINGGPT_THREAD_WAIT=9\nGRADIO_SERVER_PORT=7002\nUNRELATED=1\n")
    assert AgentSettings().web.web_port == 7001  # built directly, not by from_env
    s = AgentSettings.from_env()
    key = s.tracing.langsmith_api_key
    assert s.tracing.langsmith_tracing and key is not None and key.get_secret_value() == "lsv2_older_name_key"
    assert s.toolkit.local.local_workers == 0 and s.toolkit.mcp_client.mcp_call_timeout == 7
    assert (s.store.thread_wait, s.web.web_port) == (9, 7001)  # .env read; the real variable wins
    assert AgentSettings.from_env(env_file=None).store.thread_wait == 120  # no .env: the default
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2_documented_key")  # the first name wins
    key = AgentSettings.from_env().tracing.langsmith_api_key
    assert key is not None and key.get_secret_value() == "lsv2_documented_key"


def test_secrets_are_found_by_type(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(AgentSettings.secret_env_names()) == {
        "HF_TOKEN", "HUGGINGFACEHUB_API_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGGPT_MCP_TOKEN",
        "OPENAI_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "HUGGINGGPT_DATABASE_URL",
        "HUGGINGGPT_WEB_AUTH", "HUGGINGGPT_SERVE_TOKEN",
    }  # fmt: skip
    assert set(HFSettings.secret_env_names()) < set(AgentSettings.secret_env_names())
    monkeypatch.setenv("HUGGINGGPT_MCP_TOKEN", "mcp-token-123456")
    monkeypatch.setenv("HUGGINGGPT_WEB_AUTH", "ann:pass-word-1")
    s = AgentSettings.from_env(hf_token=HF_SECRET)
    assert s.secret_values() == {HF_SECRET, "mcp-token-123456", "ann:pass-word-1"}  # every section's
    shown = " ".join([str(s), repr(s), s.model_dump_json(), str(s.model_dump())])
    assert not any(secret in shown for secret in s.secret_values())


def test_bad_values_name_their_variable(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGGPT_LOCAL_WORKERS", "many")
    with pytest.raises(ValidationError) as caught:
        AgentSettings.from_env()
    assert describe_error(caught.value).startswith("HUGGINGGPT_LOCAL_WORKERS is invalid: Input should be")
    monkeypatch.delenv("HUGGINGGPT_LOCAL_WORKERS")
    with pytest.raises(ValidationError) as caught:
        AgentSettings(web_port=0)  # a keyword (e.g. --port), inside a section
    assert (
        describe_error(caught.value)
        == "GRADIO_SERVER_PORT is invalid: Input should be greater than or equal to 1."
    )
    with pytest.raises(ValidationError) as caught:
        HFSettings.from_env(mcp_port=70000)
    assert HFSettings.variable(caught.value) == "HUGGINGGPT_MCP_PORT"
