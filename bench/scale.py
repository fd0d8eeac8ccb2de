"""Search and answer speed at 1,000 to 1,000,000 chunks, with the real corpus inside.

For each N it builds a store of N chunks quickly: the corpus is ingested for real, the rest
are synthetic documents written through `Store.put_documents` (the ingest's own batch
writer). Synthetic chunks are runs of real English sentences (from the package
descriptions and the Python docs installed on this machine); each sentence is embedded
once with MiniLM, a chunk's vector is the normalised mean of its sentences' vectors, and each
sentence keeps its own: real vectors of real text, mixed, never random noise. Then a fresh
process (cold start) opens the store and measures: time to the first search, search and
extractive `ask` latency (ASSISTANT_LLM=none) over the golden
questions, peak RSS, and whether each golden question gets the same answer as on the
corpus alone.

    .venv/bin/python bench/scale.py --chunks 1000 10000 100000 --json scale.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLDEN = ROOT / "evals" / "datasets" / "golden.jsonl"
CHUNKS_PER_DOC = 10
WRITE_GROUP = 5000  # synthetic chunks per put_documents call
SEARCHES = ["Stargate investment", "Abilene", "Larry Ellison White House press conference",
            "Oracle stock surged", "Copilot intellectual property", "artificial general intelligence",
            "right of first refusal", "revenue-sharing through 2030", "Microsoft Azure commitment",
            "shareholder pressure Oracle deal", "What happens if OpenAI builds AGI?",
            "Which city hosts the first data center site?"]


def pool_sentences(limit: int = 4000) -> list[str]:
    """Real English sentences, in their original order (so runs of them read as prose)."""
    import importlib.metadata
    import pydoc_data.topics

    from assistant.core.text import sentence_spans

    texts = [pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics)]
    for dist in sorted(importlib.metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        texts.append(dist.read_text("METADATA") or "")
    seen: set[str] = set()
    found = []
    for text in texts:
        for start, end in sentence_spans(text):
            sentence = text[start:end]
            if (8 <= len(sentence.split()) <= 45 and sentence[0].isupper() and sentence.endswith(".")
                    and "http" not in sentence and sentence not in seen):
                seen.add(sentence)
                found.append(sentence)
    return found[:limit]


def pool_vectors(sentences: list[str], cache: Path) -> np.ndarray:
    """MiniLM vectors of the pool, embedded once and kept in `cache`."""
    from assistant.index.embedding import MODEL_ID, MiniLMEmbedding

    key = hashlib.sha256(repr((MODEL_ID, sentences)).encode()).hexdigest()[:12]
    path = cache / f"pool-{key}.npy"
    if path.is_file():
        return np.asarray(np.load(path))
    cache.mkdir(parents=True, exist_ok=True)
    vectors = MiniLMEmbedding(embed_batch_size=64).embed(sentences)
    np.save(path, vectors)
    return vectors


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def synthetic_documents(count: int, sentences: list[str], vectors: np.ndarray,
                        seed: int = 11) -> Iterator[object]:
    """`PreparedDocument`s holding `count` chunks in all, CHUNKS_PER_DOC each; each sentence's
    stored vector is its own (the ingest pools it from its chunk: near enough for speed)."""
    from assistant.index.chunking import ChunkSpan
    from assistant.index.documents import Document, doc_id_for
    from assistant.index.store import PreparedDocument

    rng = random.Random(seed)
    made = 0
    number = 0
    while made < count:
        size = min(CHUNKS_PER_DOC, count - made)
        spans, chunk_vectors, pieces, offset = [], [], [], 0
        sentence_spans: list[tuple[int, int]] = []
        sentence_vectors: list[np.ndarray] = []
        for position in range(size):
            picked: list[int] = []
            for _ in range(2):  # two runs of consecutive real sentences
                start = rng.randrange(len(sentences) - 6)
                picked += list(range(start, start + rng.randint(2, 5)))
            at = offset
            for i in picked:
                sentence_spans.append((at, at + len(sentences[i])))
                sentence_vectors.append(vectors[i])
                at += len(sentences[i]) + 1
            text = " ".join(sentences[i] for i in picked)
            spans.append(ChunkSpan(position, offset, offset + len(text), text))
            chunk_vectors.append(_unit(vectors[picked].mean(axis=0)))
            pieces.append(text)
            offset += len(text) + 1
        source = f"synthetic/doc-{number:07d}.txt"
        doc_id = doc_id_for(source)
        doc = Document(doc_id=doc_id, text="\n".join(pieces), title=f"Synthetic document {number}",
                       source=source, publisher="bench", sha256=f"{number:064d}")
        yield PreparedDocument(doc, spans, np.stack(chunk_vectors), "", "synthetic", sentence_spans,
                               np.stack(sentence_vectors))
        made += size
        number += 1


def build(data_dir: Path, chunks: int, cache: Path) -> dict[str, float]:
    """Fill `data_dir` with the corpus plus synthetic chunks up to `chunks`; index it."""
    from assistant import Assistant, Settings

    bot = Assistant(Settings(data_dir=data_dir, corpus_dir=CORPUS, llm="none"))
    sentences = pool_sentences()
    vectors = pool_vectors(sentences, cache)
    start = time.perf_counter()
    assert bot.ingest().ok
    wanted = max(0, chunks - bot._store.chunk_count())
    group: list[object] = []
    in_group = 0
    for prepared in synthetic_documents(wanted, sentences, vectors):
        group.append(prepared)
        in_group += len(prepared.chunks)  # type: ignore[attr-defined]
        if in_group >= WRITE_GROUP:
            bot._store.put_documents(group)
            group, in_group = [], 0
    bot._store.put_documents(group)
    written = time.perf_counter()
    bot.warm_up()  # builds the lexical index once, as the first search after an ingest would
    return {"chunks": bot._store.chunk_count(), "sentence_vectors": bot._store.sentence_count(),
            "pool_sentences": len(sentences), "write_s": written - start,
            "lexical_index_s": time.perf_counter() - written,
            "build_s": time.perf_counter() - start}


def golden_questions() -> list[str]:
    rows = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if not r.get("history")]


def measure(data_dir: Path, spawned_at: float) -> dict[str, object]:
    """Run in a fresh process: cold start, latencies, answers, peak RSS."""
    import resource

    from assistant import Assistant, Settings

    bot = Assistant(Settings(data_dir=data_dir, corpus_dir=CORPUS, llm="none"))
    bot.search(SEARCHES[0])
    first_search_s = time.time() - spawned_at
    search_ms = []
    for query in SEARCHES[1:] * 3:
        start = time.perf_counter()
        bot.search(query)
        search_ms.append((time.perf_counter() - start) * 1000)
    answers, ask_ms = {}, []
    embed, embedded = bot._embedder.embed, [0]

    def counting(texts: list[str]) -> object:  # texts embedded beyond each question itself
        embedded[0] += max(0, len(texts) - 1)
        return embed(texts)

    bot._embedder.embed = counting
    for question in golden_questions():
        start = time.perf_counter()
        answer = bot.ask(question)
        ask_ms.append((time.perf_counter() - start) * 1000)
        answers[question] = answer.text
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"first_search_s": first_search_s,
            "search_p50_ms": float(np.percentile(search_ms, 50)),
            "search_p95_ms": float(np.percentile(search_ms, 95)),
            "ask_p50_ms": float(np.percentile(ask_ms, 50)),
            "ask_p95_ms": float(np.percentile(ask_ms, 95)),
            "sentences_embedded_at_question_time": embedded[0],
            "peak_rss_mb": peak_mb, "answers": answers}


def _child(*args: str) -> dict[str, object]:
    run = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run.returncode != 0:
        raise SystemExit(f"bench child {args} failed:\n{run.stderr[-3000:]}")
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def run_size(chunks: int, work: Path, cache: Path, keep: bool) -> dict[str, object]:
    data_dir = work / f"store-{chunks}"
    built_file = data_dir / "bench-build.json"
    if keep and built_file.is_file():  # measure a store kept from an earlier run again
        built = json.loads(built_file.read_text())
    else:
        built = _child("--build", str(data_dir), "--n", str(chunks), "--cache", str(cache))
        built_file.write_text(json.dumps(built))
    measured = _child("--measure", str(data_dir), "--spawned", repr(time.time()))
    if not keep:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return {**built, **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--work", type=Path, help="where stores are built (default: a temp dir)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the stores after measuring, and reuse kept ones (with --work)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".assistant" / "bench-cache")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(args.build, args.n, args.cache)))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.spawned)))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="scale-"))
    baseline = run_size(0, work, args.cache, False)  # the corpus alone: the reference answers
    reference = baseline.pop("answers")
    assert isinstance(reference, dict)
    results: dict[str, dict[str, object]] = {"corpus": baseline}
    for n in args.chunks:
        figures = run_size(n, work, args.cache, args.keep)
        answers = figures.pop("answers")
        assert isinstance(answers, dict)
        same = sum(1 for q, text in reference.items() if answers.get(q) == text)
        figures["same_answers"] = f"{same}/{len(reference)}"
        results[str(n)] = figures
    print(f"{'chunks':>9} {'build s':>8} {'1st search s':>12} {'RSS MB':>7} {'search p50/p95 ms':>18} "
          f"{'ask p50/p95 ms':>15} {'same answers':>12} {'embedded':>8}")
    for name, f in results.items():
        print(f"{f['chunks']:>9} {f['build_s']:>8.1f} {f['first_search_s']:>12.2f} "
              f"{f['peak_rss_mb']:>7.0f} {f['search_p50_ms']:>8.1f} / {f['search_p95_ms']:<7.1f} "
              f"{f['ask_p50_ms']:>6.0f} / {f['ask_p95_ms']:<6.0f} {f.get('same_answers', name):>12} "
              f"{f['sentences_embedded_at_question_time']:>8}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
