"""HTTP API under concurrent clients: requests, errors and p50/p95 latency per kind.

Serves the API (uvicorn, in this process) over a fresh store with the corpus ingested and
warmed up, then runs `--rounds` rounds of `--clients` simultaneous clients mixing questions
(plain and streamed), searches, document listings and one upload per round. With
`--llm local` the questions go to the local model, which answers one at a time: those that
wait longer than `--queue-wait` get the documented 503 (counted apart from other errors).

    .venv/bin/python bench/api.py [--llm none|local] [--clients 20] [--rounds 3] [--queue-wait 120]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import httpx  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.surfaces.serve import serve  # noqa: E402

QUESTIONS = ["Where is the first Stargate site?", "How much will the Stargate Project invest?",
             "What does Microsoft keep under the new arrangement?",
             "What was OpenAI's revenue in 2024?", "When did Microsoft first invest in OpenAI?"]
SEARCHES = ["Stargate sites", "right of first refusal", "Azure exclusivity", "Abilene"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def calls(url: str, clients: int, round_no: int) -> list[tuple[str, Callable[[], httpx.Response]]]:
    """`clients` calls: ~45% questions (a third streamed), ~35% searches, listings, 1 upload."""
    def ask(i: int, stream: bool) -> Callable[[], httpx.Response]:
        body = {"stream": stream, "messages": [{"role": "user", "content": QUESTIONS[i % 5]}]}
        return lambda: httpx.post(f"{url}/v1/chat/completions", json=body, timeout=900)

    def search(i: int) -> Callable[[], httpx.Response]:
        return lambda: httpx.post(f"{url}/v1/search", json={"query": SEARCHES[i % 4]}, timeout=900)

    upload = f"The round {round_no} memo puts the Osprey site at {round_no + 3} billion dollars."
    n_ask, n_search = round(clients * 0.45), round(clients * 0.35)
    made: list[tuple[str, Callable[[], httpx.Response]]] = [
        ("ask-stream" if i % 3 == 2 else "ask", ask(i, i % 3 == 2)) for i in range(n_ask)]
    made += [("search", search(i)) for i in range(n_search)]
    made += [("documents", lambda: httpx.get(f"{url}/v1/documents", timeout=900))
             for _ in range(clients - n_ask - n_search - 1)]
    made.append(("upload", lambda: httpx.post(f"{url}/v1/documents", timeout=900, files=[
        ("files", (f"round-{round_no}.txt", upload.encode(), "text/plain"))])))
    return made


def run_at_once(batch: list[tuple[str, Callable[[], httpx.Response]]]) -> list[tuple[str, int, float]]:
    """Every call from its own thread, released together: (kind, status, seconds) each."""
    barrier = threading.Barrier(len(batch))

    def run(call: tuple[str, Callable[[], httpx.Response]]) -> tuple[str, int, float]:
        barrier.wait()
        t0 = time.perf_counter()
        status = call[1]().status_code
        return call[0], status, time.perf_counter() - t0

    with ThreadPoolExecutor(len(batch)) as pool:
        return list(pool.map(run, batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", choices=["none", "local"], default="none")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queue-wait", type=float, default=120.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-api-"))
    bot = Assistant(Settings(data_dir=data, llm=args.llm, queue_wait_s=args.queue_wait))
    bot.ingest()
    bot.warm_up()
    server = serve(bot, "127.0.0.1", free_port(), ui=False, block=False)
    results: list[tuple[str, int, float]] = []
    started = time.perf_counter()
    try:
        for round_no in range(args.rounds):
            results += run_at_once(calls(server.url, args.clients, round_no))
        uploads = sorted(d.source for d in bot.documents() if d.source.startswith("uploads/round-"))
    finally:
        server.close()
    wall = time.perf_counter() - started
    print(f"{len(results)} requests in {args.rounds} rounds of {args.clients} clients, "
          f"llm={args.llm}, {wall:.1f} s wall (2 shared CPU cores: figures are noisy)")
    print(f"{'kind':>11} {'requests':>8} {'errors':>6} {'503 queue':>9} {'p50 s':>7} {'p95 s':>7}")
    for kind in dict.fromkeys(r[0] for r in results):
        rows = [r for r in results if r[0] == kind]
        times = [r[2] for r in rows]
        errors = sum(1 for r in rows if r[1] >= 400 and r[1] != 503)
        busy = sum(1 for r in rows if r[1] == 503)
        print(f"{kind:>11} {len(rows):>8} {errors:>6} {busy:>9} {statistics.median(times):>7.2f} "
              f"{percentile(times, 0.95):>7.2f}")
    print(f"uploads in the store: {len(uploads)} of {args.rounds} (expected all)")


if __name__ == "__main__":
    main()
