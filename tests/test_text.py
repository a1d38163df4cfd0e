"""The one validation-error sentence, the one redactor and the text cuts (tools/text.py, tools/redaction.py)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from hugginggpt.agent.tracing import scrubber
from hugginggpt.tools.redaction import REDACTED, Redactor
from hugginggpt.tools.text import invalid_arguments, invalid_setting, one_line, problems, shorten


class Args(BaseModel):
    prompt: str = Field(max_length=5)
    width: int = Field(le=100)
    height: int = 1
    seed: int = 0
    path: str = ""


def refusal(**args: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Args.model_validate(args)
    return info.value


def test_problems_name_each_field_and_rule_never_the_value() -> None:
    error = refusal(prompt="a secret far too long", width=10**6)
    clause = problems(error)
    assert clause == (
        "prompt: String should have at most 5 characters (it has 21); width: Input should be less than or equal to 100"
    )
    assert "secret" not in clause and "1000000" not in clause


def test_problems_count_what_they_do_not_name() -> None:
    error = refusal(prompt=1, width="x", height="y", seed="z", path=3)
    assert problems(error).endswith("(and 2 more)") and problems(error).count(": ") == 3
    assert problems(error, most=1) == "prompt: Input should be a valid string (and 4 more)"


def test_problems_skip_fields_and_rename_them() -> None:
    error = refusal(width=10**6)  # prompt missing, width too large
    assert problems(error, skip={"prompt"}) == "width: Input should be less than or equal to 100"
    assert problems(error, skip={"prompt", "width"}) == ""
    assert (
        problems(error, names={"prompt": "PROMPT_VAR"}, most=1) == "PROMPT_VAR: Field required (and 1 more)"
    )


def test_the_sentences_built_on_them() -> None:
    error = refusal(prompt="ok", width=101)
    assert invalid_arguments("paint", error) == (
        "paint refused its arguments: width: Input should be less than or equal to 100."
    )
    assert invalid_setting(error, "HUGGINGGPT_WIDTH") == (
        "HUGGINGGPT_WIDTH is invalid: Input should be less than or equal to 100."
    )


def test_text_cuts() -> None:
    assert shorten("abcdef", 4) == "abc…" and shorten("abc", 4) == "abc"
    assert one_line("a\n  b\tc " + "x" * 300, 10) == "a b c xxx…"
    assert len(one_line(ValueError("y" * 500))) == 200


SECRET = "not_a_hub_token_ABCDEF0123456789"


def test_the_redactor_hides_known_values_and_secret_shapes_in_a_copy() -> None:
    value = {
        "text": f"key {SECRET}, hf_abcdefghijklmnopqrstu and sk-test-abcdefghijklmnop",
        "nested": ({"deeper": [f"Bearer {SECRET}x"]},),
        3: 4.5,
    }
    out = Redactor([SECRET, "", "short"])(value)
    assert out == {
        "text": f"key {REDACTED}, {REDACTED} and {REDACTED}",
        "nested": [{"deeper": [f"Bearer {REDACTED}x"]}],
        "3": 4.5,
    }
    assert value["text"].startswith(f"key {SECRET}")  # the original is left as it was
    assert Redactor(["short"]).text("a short word") == "a short word"  # too short to be a secret


def test_a_known_value_goes_before_the_shapes() -> None:
    key = "sk-proj-" + "A" * 40  # a shape would also match a part of it
    assert Redactor([key]).text(f"[{key}]") == f"[{REDACTED}]"


def test_tracing_redacts_as_the_mcp_results_do() -> None:
    data = {"a": f"{SECRET} lsv2_pt_{'a' * 32}_beef password=hunter22", "b": ["hf_abcdefghijklmnopqrstu"]}
    assert scrubber([SECRET])(data) == Redactor([SECRET])(data)
    assert SECRET not in str(Redactor([SECRET])(data)) and "hunter22" not in str(Redactor([SECRET])(data))
