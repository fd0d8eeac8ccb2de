"""Sentence spans and chunking keep exact offsets, whatever the text looks like."""

from __future__ import annotations

from assistant.core.text import sentence_spans
from assistant.index.chunking import split_into_chunks
from assistant.index.embedding import MiniLMEmbedding

EMBEDDER = MiniLMEmbedding()


def test_sentence_spans_are_exact_and_respect_abbreviations() -> None:
    text = ("Mr. Smith met Dr. Jones in the U.S. on Monday. They agreed!  “Is it done?” he asked.\n"
            "  • A bullet line without a stop\nLast one. [1] Next")
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans]
    assert sentences[0] == "Mr. Smith met Dr. Jones in the U.S. on Monday."
    assert sentences[1] == "They agreed!"
    assert sentences[2] == "“Is it done?” he asked."
    assert sentences[3] == "A bullet line without a stop"
    assert all(text[s:e] == t for (s, e), t in zip(spans, sentences, strict=True))


def test_chunks_respect_budget_overlap_and_offsets() -> None:
    sentence = "The consortium plans {n} new data centers in region {n} by next year. "
    text = "".join(sentence.format(n=i) for i in range(120))
    chunks = split_into_chunks(text, EMBEDDER.count_tokens, EMBEDDER.token_offsets, 100, 20)
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end, "consecutive chunks overlap"
        assert b.start > a.start, "chunking always moves forward"
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert EMBEDDER.count_tokens(chunk.text) <= 110
    assert chunks[-1].end == len(text.rstrip())


def test_an_overlong_sentence_is_cut_at_token_boundaries() -> None:
    text = "word " * 900 + "end."
    chunks = split_into_chunks(text, EMBEDDER.count_tokens, EMBEDDER.token_offsets, 200, 0)
    assert len(chunks) >= 4
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert all(EMBEDDER.count_tokens(c.text) <= 200 for c in chunks)


def test_chunk_ids_are_stable_and_content_derived() -> None:
    text = "Alpha beta gamma. Delta epsilon."
    one = split_into_chunks(text, EMBEDDER.count_tokens, EMBEDDER.token_offsets)
    two = split_into_chunks(text, EMBEDDER.count_tokens, EMBEDDER.token_offsets)
    assert [c.chunk_id("d") for c in one] == [c.chunk_id("d") for c in two]
    other = split_into_chunks(text.replace("gamma", "GAMMA"), EMBEDDER.count_tokens,
                              EMBEDDER.token_offsets)
    assert one[0].chunk_id("d") != other[0].chunk_id("d")
