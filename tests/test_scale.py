"""Scale: paged reads, the bm25s lexical index, stored sentence vectors, several processes.

Big stores are built through the scale bench's fast path (`bench/scale.py`): real
sentences with real MiniLM vectors, written by the store's own batch writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, ROOT, make_settings
from test_store import chroma_server  # noqa: F401  (the real `chroma run` fixture)

from assistant import Assistant
from assistant.index import store as store_module
from assistant.index.retrieval import BM25

sys.path.insert(0, str(ROOT / "bench"))
import scale  # noqa: E402

AINEWS = "ainews-microsoft-loses-exclusive-cloud-role.txt"
QUERIES = ["Stargate investment", "Abilene", "Oracle stock surged", "right of first refusal",
           "artificial general intelligence", "Microsoft Azure commitment", "revenue-sharing 2030",
           "the function returns a new object", "module import statement", "Python package",
           "data center capacity", "exclusive cloud provider", "license", "documentation for users"]


def fill(bot: Assistant, chunks: int, pool: int = 400) -> None:
    """The corpus, ingested for real, plus synthetic chunks up to `chunks` (the bench's path)."""
    assert bot.ingest().ok
    sentences = scale.pool_sentences(pool)
    vectors = bot._embedder.embed(sentences)
    group: list[object] = []
    for prepared in scale.synthetic_documents(chunks - bot._store.chunk_count(), sentences, vectors):
        group.append(prepared)
        if len(group) * scale.CHUNKS_PER_DOC >= scale.WRITE_GROUP:
            bot._store.put_documents(group)
            group = []
    bot._store.put_documents(group)


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_CORPUS_DIR": str(CORPUS),
           "ASSISTANT_LLM": "none", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "assistant.surfaces.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mixed_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The corpus among 2,000 synthetic chunks."""
    bot = Assistant(make_settings(tmp_path_factory.mktemp("mixed"), llm="none"))
    fill(bot, 2000)
    yield bot


def test_bm25s_ranks_exactly_like_the_reference_bm25(mixed_bot: Assistant) -> None:
    reference = BM25(mixed_bot._store.all_chunks())
    lexical = mixed_bot._pipeline().retriever.lexical
    compared = 0
    for query in QUERIES:
        expected = reference.search(query, 10)
        got = lexical.search(query, 10)
        assert [c.chunk_id for c in got] == [c.chunk_id for c in expected], query
        assert np.allclose([c.score for c in got], [c.score for c in expected], rtol=1e-9), query
        compared += len(got)
    assert compared > 50


def test_the_lexical_index_is_persisted_and_reloaded(mixed_bot: Assistant) -> None:
    mixed_bot.search("Abilene")
    folder = mixed_bot._lexical_dir()
    assert (folder / "state.json").is_file()
    fresh = Assistant(mixed_bot.settings)
    retriever = fresh._pipeline().retriever
    assert retriever.lexical._load(fresh._store.generation()), "a fresh process loads, not rebuilds"
    assert retriever.lexical.search("the first Stargate site in Abilene", 3)[0].source == AINEWS


def test_generation_changes_on_writes_only(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest()
    first = bot._store.generation()
    bot.ingest()  # nothing changed
    assert bot._store.generation() == first
    bot.remove(bot.documents()[0].doc_id)
    assert bot._store.generation() not in ("", first)


def test_every_read_pages_through_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PAGE", 3)
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    fill(bot, 40, pool=60)
    count = bot._store.chunk_count()
    chunks = bot._store.all_chunks()
    assert count == 40 and len({c.chunk_id for c in chunks}) == count
    assert len(bot.documents()) == 2 + 4
    doc = bot.documents()[0]
    assert len(bot._store.chunk_ids(doc.doc_id)) == doc.chunks
    assert bot.search("the first Stargate site in Abilene", k=3)[0].source == AINEWS
    index = bot._pipeline().retriever.lexical._loaded
    assert index is not None and len(index.ids) == count
    assert bot.ingest().count("unchanged") == 2


def test_removed_documents_leave_the_lexical_index(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest()
    assert bot.search("Abilene", k=1)[0].source == AINEWS
    bot.remove(next(d.doc_id for d in bot.documents() if d.source == AINEWS))
    assert all(h.source != AINEWS for h in bot.search("Abilene", k=10))


def test_a_corpus_question_embeds_no_stored_sentence(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Sentence vectors are pooled at ingest (from each chunk's own forward pass): a question
    embeds itself and nothing else."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest()
    text = "The first site, in Abilene, is expected to play a central role in the Stargate Project."
    doc = next(d for d in bot.documents() if d.source == AINEWS)
    start = bot.document(doc.doc_id).text.index(text)
    stored = bot._store.sentence_vectors([(doc.doc_id, start, start + len(text))])
    assert len(stored) == 1
    vector = next(iter(stored.values()))
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert float(vector @ bot._embedder.embed([text])[0]) > 0.6  # the sentence, read in its chunk

    embedded: list[str] = []
    real_embed = bot._embedder.embed

    def recording(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return real_embed(texts)

    monkeypatch.setattr(bot._embedder, "embed", recording)
    question = "Where is the first Stargate site?"
    answer = bot.ask(question)
    assert "Abilene" in answer.text
    assert embedded == [question]


def test_an_ingest_in_another_process_is_found_here(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bot = Assistant(make_settings(data, llm="none"))
    bot.ingest()
    assert bot.search("Abilene", k=1)[0].source == AINEWS  # builds this process's index
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "pelican.txt").write_text("The Pelican consortium opened a data hall in Tromsø in 2029.\n")
    run = _cli(data, "ingest", str(extra))
    assert run.returncode == 0, run.stderr
    assert bot.search("Pelican consortium Tromsø", k=1)[0].source == "pelican.txt"
    # and the other way round: a search in a fresh process sees what this one ingests
    (extra / "heron.txt").write_text("Project Heron moved its archive to a quarry in Wales.\n")
    bot.ingest([extra], prune=False)
    run = _cli(data, "search", "archive quarry Wales", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)[0]["source"] == "heron.txt"


@pytest.mark.slow
def test_more_than_32767_chunks(tmp_path: Path) -> None:
    """sqlite refuses more than 32,766 variables: every read must page."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    fill(bot, 33_000)
    assert bot._store.chunk_count() == 33_000
    # the lexical top hit is certain; the fused list holds it among the first three (synthetic
    # chunks can outrank it on the vector side)
    assert bot._pipeline().retriever.lexical.search("first Stargate site Abilene", 1)[0].source == AINEWS
    assert AINEWS in [h.source for h in bot.search("Where is the first Stargate site?", k=3)]
    assert len(bot.documents()) > 3000
    assert bot.ask("Where is the first Stargate site?").text
    fresh = Assistant(bot.settings)
    fresh.warm_up()
    assert AINEWS in [h.source for h in fresh.search("the first Stargate site in Abilene", k=3)]
    assert fresh.ingest().count("unchanged") == 2


def test_processes_on_one_chroma_server_rank_alike(tmp_path: Path, chroma_server: str) -> None:  # noqa: F811
    """Each process keeps its lexical index in its own data dir; a write by one is seen by all."""
    one = Assistant(make_settings(tmp_path / "one", llm="none", chroma_url=chroma_server))
    assert one.ingest().count("added") == 2
    two = Assistant(make_settings(tmp_path / "two", llm="none", chroma_url=chroma_server))
    query = "Oracle stock surged"
    assert [h.doc_id for h in one.search(query)] == [h.doc_id for h in two.search(query)]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "pelican.txt").write_text("The Pelican consortium opened a data hall in Tromsø in 2029.\n")
    assert two.ingest([extra], prune=False).count("added") == 1
    hits = one.search("Pelican consortium Tromsø")
    assert hits[0].source == "pelican.txt"
    assert [(h.doc_id, h.start) for h in hits] == [(h.doc_id, h.start) for h in
                                                   two.search("Pelican consortium Tromsø")]
    assert (tmp_path / "one" / "lexical").is_dir() and (tmp_path / "two" / "lexical").is_dir()
