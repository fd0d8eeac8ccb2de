"""ASSISTANT_LLM_PROMPT_LOOKUP: speculative decoding must not change what the local model writes.

The real model, loaded twice (with and without the prompt-lookup draft model), writes the same
greedy continuation of an answer prompt whose answer copies the evidence. Speed is measured in
`bench/answer.py --prompt-lookup off on`, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from assistant.llm.generators import LocalGenerator, Message, build_generator

EVIDENCE = ("[1] The first site, in Abilene, Texas, is expected to play a central role in the "
            "Stargate Project, which will invest $500 billion over four years.")
MESSAGES = [
    Message("system", "Answer from the evidence only, copying its words, and cite it as [n]."),
    Message("user", f"Evidence:\n{EVIDENCE}\n\nQuestion: Where is the first Stargate site and "
                    "how much will the project invest?"),
]


@pytest.mark.slow
def test_prompt_lookup_writes_what_plain_decoding_writes(tmp_path: Path) -> None:
    texts, usages = [], []
    for lookup in (False, True):
        generator = build_generator(make_settings(tmp_path, llm_prompt_lookup=lookup))
        assert isinstance(generator, LocalGenerator)
        assert (generator.llm.draft_model is not None) is lookup
        texts.append("".join(generator.stream(MESSAGES, max_tokens=40)))
        usages.append(generator.usage)
    assert "Abilene" in texts[0]
    assert texts[1] == texts[0]
    assert usages[1].generated == usages[0].generated
