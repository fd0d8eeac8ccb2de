"""Ingest throughput against the embedding model's own throughput on the same chunks, one run.

Builds a synthetic text corpus of `--mib` MiB (default 5, in files of ~20 KiB), ingests it into a
fresh embedded Chroma store, then embeds exactly the stored chunk texts with the model alone:
the physical floor of an ingest that embeds every chunk once. Sentence vectors cost nothing
extra (they are pooled from the chunks' own forward pass), so the goal is pipeline / floor
<= 1.5: reading, chunking, pooling and writing together under half the embedding time. Prints
MiB/min for both, their ratio, the cost of a no-op re-ingest and the load average (figures
taken while other work runs are not the machine's).

    .venv/bin/python bench/ingest.py [--mib 5] [--file-kib 20]
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

WORDS = """
cloud capacity contract data center investment partner exclusive provider model training
compute cluster region expansion agreement revenue share infrastructure network power site
building operator customer platform research refusal supply demand growth schedule budget
hardware accelerator cooling grid lease
""".split()
NAMES = ["Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Adatum", "Proseware"]


def synthetic_corpus(folder: Path, mib: float, file_kib: int, seed: int = 7) -> int:
    """Files of sentences until `mib` MiB are written; the number of bytes written."""
    rng = random.Random(seed)
    total, i = 0, 0
    while total < mib * 2**20:
        lines, size = [], 0
        while size < file_kib * 1024:
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
            line = f"{rng.choice(NAMES)} reported {rng.randint(2, 900)} units of {body}."
            lines.append(line)
            size += len(line) + 1
        data = " ".join(lines) + "\n"
        (folder / f"doc-{i:04d}.txt").write_text(data, encoding="utf-8")
        total, i = total + len(data.encode()), i + 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=5.0)
    parser.add_argument("--file-kib", type=int, default=20)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        size = synthetic_corpus(folder, args.mib, args.file_kib)
        files = len(list(folder.iterdir()))
        bot = Assistant(Settings(data_dir=Path(tmp) / "data", llm="none"))
        bot._embedder.embed(["warm up the session"])
        bot._store.chunk_count()

        start = time.perf_counter()
        report = bot.ingest([folder])
        pipeline_s = time.perf_counter() - start
        chunks = bot._store.all_chunks()
        assert report.ok and len(chunks) == bot._store.chunk_count()
        sentences = bot._store.sentence_count()

        texts = [c.text for c in chunks]
        start = time.perf_counter()
        bot._embedder.embed(texts)
        floor_s = time.perf_counter() - start

        start = time.perf_counter()
        again = bot.ingest([folder])
        noop_s = time.perf_counter() - start
        assert again.count("unchanged") == files

    mib = size / 2**20
    tokens = sum(bot._embedder.count_tokens(t) for t in texts) / len(texts)
    print(f"synthetic corpus: {mib:.2f} MiB in {files} files, {len(texts)} chunks "
          f"({tokens:.0f} tokens each), {sentences} sentence vectors stored")
    print(f"ingest (read+chunk+embed+pool+write): {pipeline_s:7.1f} s  {mib / pipeline_s * 60:6.2f} MiB/min")
    print(f"floor: the model alone on the chunks: {floor_s:7.1f} s  {mib / floor_s * 60:6.2f} MiB/min")
    print(f"ingest / floor: {pipeline_s / floor_s:.2f}  (goal <= 1.5)")
    print(f"no-op re-ingest of {files} unchanged files: {noop_s:.2f} s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
