"""Ingest throughput against the embedding model's own throughput, measured in one run.

Builds a synthetic corpus (default 260 files, >= 2,000 chunks), ingests it into a fresh
embedded Chroma store, then embeds with the model alone (1) exactly the stored chunk texts
and (2) everything the pipeline embeds: the chunks plus their evidence sentences, alone
and after their context (stored at ingest so questions never embed them). Prints chunks/s
and the ratios (goal for (2): >= 0.9, i.e. reading, chunking and writing cost under 10%),
plus the cost of a no-op re-ingest.

    .venv/bin/python bench/ingest.py [--files 260] [--sentences 60]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402
from assistant.answer.evidence import stored_sentences  # noqa: E402
from assistant.index.chunking import ChunkSpan  # noqa: E402

WORDS = """
cloud capacity contract data center investment partner exclusive provider model training
compute cluster region expansion agreement revenue share infrastructure network power site
building operator customer platform research refusal supply demand growth schedule budget
hardware accelerator cooling grid lease
""".split()
NAMES = ["Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Adatum", "Proseware"]


def synthetic_corpus(folder: Path, files: int, sentences: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for i in range(files):
        lines = []
        for _ in range(sentences):
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
            lines.append(f"{rng.choice(NAMES)} reported {rng.randint(2, 900)} units of {body}.")
        (folder / f"doc-{i:04d}.txt").write_text(" ".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=260)
    parser.add_argument("--sentences", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        synthetic_corpus(folder, args.files, args.sentences)
        bot = Assistant(Settings(data_dir=Path(tmp) / "data", llm="none"))
        bot._embedder.embed(["warm up the session"])
        bot._store.chunk_count()

        start = time.perf_counter()
        report = bot.ingest([folder])
        pipeline_s = time.perf_counter() - start
        chunks = bot._store.all_chunks()
        assert report.ok and len(chunks) == bot._store.chunk_count()

        texts = [c.text for c in chunks]
        by_doc: dict[str, list[ChunkSpan]] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(ChunkSpan(0, c.start, c.end, c.text))
        everything = list(dict.fromkeys(
            texts + [t for doc_id, spans in by_doc.items() for t in stored_sentences(doc_id, spans)]))
        start = time.perf_counter()
        bot._embedder.embed(texts)
        model_s = time.perf_counter() - start
        start = time.perf_counter()
        bot._embedder.embed(everything)
        model_all_s = time.perf_counter() - start

        start = time.perf_counter()
        again = bot.ingest([folder])
        noop_s = time.perf_counter() - start
        assert again.count("unchanged") == args.files

    tokens = sum(bot._embedder.count_tokens(t) for t in texts) / len(texts)
    pipeline_rate, model_rate = len(texts) / pipeline_s, len(texts) / model_s
    print(f"synthetic corpus: {args.files} files, {len(texts)} chunks, {tokens:.0f} tokens/chunk, "
          f"{len(everything) - len(texts)} sentence texts")
    print(f"pipeline (read+chunk+embed+write): {pipeline_s:7.1f} s  {pipeline_rate:6.1f} chunks/s")
    print(f"model alone, the chunk texts:      {model_s:7.1f} s  {model_rate:6.1f} chunks/s"
          f"  ratio {pipeline_rate / model_rate:.3f}")
    print(f"model alone, all the pipeline embeds (chunks + sentences): {model_all_s:7.1f} s"
          f"  ratio {model_all_s / pipeline_s:.3f}  (goal >= 0.9)")
    print(f"no-op re-ingest of {args.files} unchanged files: {noop_s:.2f} s")
    print(f"load average during the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
