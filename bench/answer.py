"""Answer latency next to this machine's own llama.cpp limit, and cold starts, in one run.

1. Raw rates: the local model run by llama-cpp-python alone, with the settings `assistant/llm.py`
   uses (n_ctx 4096, 2 threads, 2 batch threads): prompt tokens/s evaluating a 250-token prompt
   from scratch, generated tokens/s decoding greedily after it (median of `--rate-reps`), measured
   before and after the questions; the floor uses their mean.
2. Per question (answerable golden-set questions without history, an evenly spaced fixed sample),
   on a warm assistant (warmed up as `assistant serve` does, then one warm-up question): seconds
   to the evidence event, to the first sentence, to the full answer; prompt tokens the reader
   evaluated (after prefix reuse); the physical floor of the first sentence = those prompt
   tokens / prompt rate (answers are quotes: nothing is generated); and assistant / floor. One
   run per backend x ASSISTANT_JUDGE setting (`llm`: the reader reads; `rules`: it does not).
3. Cold starts in fresh processes (median of `--cold-reps`): `python -c "import assistant"`,
   `assistant ask --llm none` and `assistant serve` (the local model; `none` if `--llm` has no
   `local`) until `/` answers HTTP 200 on the ingested store. `serve` loads the models and
   evaluates the system prompt before it binds, so a 200 means the model is loaded.

Prints the load average at start and end: figures taken while other work runs are not the
machine's. Not here: answer quality (that is the eval's job).

    .venv/bin/python bench/answer.py [--llm local none] [--judge llm rules]
        [--questions 12] [--cold-reps 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402
from assistant.core.models import EvidenceEvent, TextDelta  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "evals" / "datasets" / "golden.jsonl"
RATE_PROMPT_TOKENS = 250
RATE_GEN_TOKENS = 32


# --- questions ------------------------------------------------------------------------------
def golden_questions(n: int) -> tuple[str, list[str]]:
    """A warm-up question and `n` others: answerable rows without history, evenly spaced."""
    rows = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line]
    pool = [r["question"] for r in rows if r.get("answerable") and not r.get("history")]
    n = min(n, len(pool) - 1)
    return pool[0], [pool[1 + i * (len(pool) - 1) // n] for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the raw llama.cpp rates ----------------------------------------------------------------
@dataclass
class Rates:
    prompt_tok_s: list[float] = field(default_factory=list)
    gen_tok_s: list[float] = field(default_factory=list)

    @property
    def prompt(self) -> float:
        return statistics.mean(self.prompt_tok_s)

    @property
    def gen(self) -> float:
        return statistics.mean(self.gen_tok_s)

    def measure(self, raw: Any, reps: int) -> None:
        prompt, gen = measure_rates(raw, reps)
        self.prompt_tok_s.append(prompt)
        self.gen_tok_s.append(gen)


def raw_llama(settings: Settings) -> Any:
    from llama_cpp import Llama

    from assistant.llm.generators import CONTEXT_TOKENS
    from assistant.llm.local_model import MODELS, ensure_model

    path = ensure_model(MODELS[settings.local_model], settings.resolved_model_dir)
    return Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, n_threads=settings.llm_threads,
                 n_threads_batch=settings.llm_threads, seed=0, verbose=False)


def measure_rates(llm: Any, reps: int) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s), medians of `reps` runs."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    tokens = list(llm.tokenize(text.encode(), add_bos=False))[:RATE_PROMPT_TOKENS]
    prompt, gen = [], []
    for _ in range(reps):
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        prompt.append(len(tokens) / (time.perf_counter() - start))
        stamps = []
        for _token in llm.generate(tokens, top_k=1, temp=0.0, repeat_penalty=1.0):
            stamps.append(time.perf_counter())
            if len(stamps) == RATE_GEN_TOKENS:
                break
        gen.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    llm.reset()
    return statistics.median(prompt), statistics.median(gen)


# --- questions on a warm assistant ----------------------------------------------------------
def ask(bot: Assistant, question: str) -> dict[str, Any]:
    start = time.perf_counter()
    stream = bot.stream(question)
    evidence_s = first_s = None
    for event in stream.events():
        now = time.perf_counter() - start
        if isinstance(event, EvidenceEvent) and evidence_s is None:
            evidence_s = now
        elif isinstance(event, TextDelta) and first_s is None:
            first_s = now
    full_s = time.perf_counter() - start
    answer = stream.answer
    assert answer is not None
    t = answer.timings
    return {"question": question, "evidence_s": evidence_s or full_s, "first_s": first_s or full_s,
            "full_s": full_s, "read_tokens": int(t.get("prompt_tokens", 0)),
            "read_tokens_total": int(t.get("prompt_tokens_total", 0)), "refused": answer.refused,
            "text": answer.text}


def add_floor(row: dict[str, Any], rates: Rates | None) -> None:
    row["floor_s"] = row["ratio"] = None
    if rates is None:
        return
    floor = row["read_tokens"] / rates.prompt
    if floor > 0:
        row["floor_s"], row["ratio"] = floor, row["first_s"] / floor


def run_config(settings: Settings, warm_question: str, questions: list[str],
               generator: Any) -> tuple[list[dict[str, Any]], Any]:
    bot = Assistant(settings, generator=generator)
    bot.warm_up()
    bot.ask(warm_question)
    rows = [ask(bot, q) for q in questions]
    return rows, bot.generator() if settings.llm != "none" else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    def stat(key: str, q: float) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return round(percentile(values, q), 4) if values else None

    out: dict[str, float | None] = {}
    for key, name in [("evidence_s", "evidence"), ("first_s", "first_sentence"),
                      ("full_s", "full"), ("floor_s", "floor")]:
        out[f"{name}_p50_s"], out[f"{name}_p90_s"] = stat(key, 0.5), stat(key, 0.9)
    out["floor_ratio_p50"], out["floor_ratio_p90"] = stat("ratio", 0.5), stat("ratio", 0.9)
    out["prompt_tokens_evaluated_p50"] = statistics.median(float(r["read_tokens"]) for r in rows)
    out["refused"] = float(sum(r["refused"] for r in rows))
    return out


def print_rows(name: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n[{name}]  seconds; tokens = prompt tokens the reader evaluated (of its total)")
    print(f"{'evidence':>8} {'1st sent':>8} {'full':>6} {'read':>9} {'floor':>6} {'ratio':>5}  question")
    for r in rows:
        floor = f"{r['floor_s']:6.2f}" if r["floor_s"] is not None else f"{'-':>6}"
        ratio = f"{r['ratio']:5.2f}" if r["ratio"] is not None else f"{'-':>5}"
        read = f"{r['read_tokens']}/{r['read_tokens_total']}"
        print(f"{r['evidence_s']:8.3f} {r['first_s']:8.2f} {r['full_s']:6.2f} {read:>9} {floor} {ratio}  "
              f"{'(refused) ' if r['refused'] else ''}{r['question'][:60]}")


def print_summary(name: str, s: dict[str, float | None]) -> None:
    def f(key: str, digits: int = 2) -> str:
        return "-" if s[key] is None else f"{s[key]:.{digits}f}"

    print(f"[{name}] p50/p90: evidence {f('evidence_p50_s', 3)}/{f('evidence_p90_s', 3)} s, "
          f"first sentence {f('first_sentence_p50_s')}/{f('first_sentence_p90_s')} s, "
          f"full {f('full_p50_s')}/{f('full_p90_s')} s, floor {f('floor_p50_s')}/{f('floor_p90_s')} s, "
          f"ratio {f('floor_ratio_p50')}/{f('floor_ratio_p90')}, prompt tokens evaluated "
          f"{f('prompt_tokens_evaluated_p50', 0)}, refused {f('refused', 0)}")


# --- cold starts ----------------------------------------------------------------------------
def assistant_command() -> list[str]:
    script = Path(sys.executable).parent / "assistant"
    return [str(script)] if script.exists() else [sys.executable, "-c",
                                                  "from assistant.surfaces.cli import main; main()"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode()[-800:]}")
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_ready(env: dict[str, str], llm: str, timeout_s: float = 180.0) -> float:
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen([*assistant_command(), "serve", "--llm", llm, "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while time.perf_counter() - start < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"assistant serve exited: {process.stderr.read().decode()[-800:]}"
                                   if process.stderr else "assistant serve exited")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    if reply.status == 200:
                        return time.perf_counter() - start
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"assistant serve did not answer within {timeout_s:.0f} s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cold_starts(settings: Settings, question: str, reps: int, serve_llm: str) -> dict[str, float]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT),
           "ASSISTANT_DATA_DIR": str(settings.data_dir),
           "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
           "ASSISTANT_MODEL_DIR": str(settings.resolved_model_dir)}
    runs: dict[str, list[float]] = {"cold_import_s": [], "cold_ask_none_s": [],
                                    "cold_serve_ready_s": []}
    for _ in range(reps):
        runs["cold_import_s"].append(timed([sys.executable, "-c", "import assistant"], env))
        runs["cold_ask_none_s"].append(timed([*assistant_command(), "ask", "--llm", "none",
                                              question], env))
        runs["cold_serve_ready_s"].append(serve_ready(env, serve_llm))
    return {k: round(statistics.median(v), 3) for k, v in runs.items()}


# --- the run --------------------------------------------------------------------------------
def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", nargs="+", default=["local", "none"],
                        choices=["local", "openai", "none"])
    parser.add_argument("--judge", nargs="+", default=["llm"], choices=["llm", "rules"],
                        help="ASSISTANT_JUDGE values to run (LLM backends only)")
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--rate-reps", type=int, default=3)
    parser.add_argument("--cold-reps", type=int, default=3, help="0 skips the cold starts")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="reuse this data directory (default: a fresh one, corpus ingested)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    load_start = load()
    warm_question, questions = golden_questions(args.questions)
    print(f"load average at start (1/5/15 min): {load_start}; {os.cpu_count()} CPUs")
    print(f"{len(questions)} golden-set questions (answerable, no history), after warm-up "
          f"{warm_question!r}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=args.data_dir or Path(tmp), corpus_dir=ROOT / "corpus",
                        model_dir=Settings().resolved_model_dir.resolve())
        report = Assistant(base, llm="none").ingest()
        print(f"store: {base.data_dir} ({report.summary()})")

        rates = Rates()
        raw = None
        if "local" in args.llm:
            raw = raw_llama(base)
            rates.measure(raw, args.rate_reps)
            print(f"raw llama.cpp, before: {rates.prompt_tok_s[0]:.1f} prompt tok/s "
                  f"({RATE_PROMPT_TOKENS}-token prompt from scratch), {rates.gen_tok_s[0]:.1f} "
                  f"generated tok/s")

        results: dict[str, list[dict[str, Any]]] = {}
        generators: dict[str, Any] = {}
        for llm in args.llm:
            for judge in args.judge if llm != "none" else ["-"]:
                name = f"llm={llm} judge={judge}"
                overrides: dict[str, Any] = {"llm": llm}
                if judge != "-":
                    overrides["judge"] = judge
                rows, generators[llm] = run_config(base.model_copy(update=overrides), warm_question,
                                                   questions, generators.get(llm))
                results[name] = rows
        generators.clear()

        if raw is not None:
            rates.measure(raw, args.rate_reps)
            print(f"raw llama.cpp, after: {rates.prompt_tok_s[1]:.1f} prompt tok/s, "
                  f"{rates.gen_tok_s[1]:.1f} generated tok/s; floor uses the means "
                  f"{rates.prompt:.1f} / {rates.gen:.1f}")
            del raw

        summaries = {}
        for name, rows in results.items():
            for row in rows:
                add_floor(row, rates if "llm=local" in name else None)
            print_rows(name, rows)
            summaries[name] = summarize(rows)
        print()
        for name, summary in summaries.items():
            print_summary(name, summary)

        figures: dict[str, Any] = {"questions": len(questions)}
        primary = next((n for n in summaries if "llm=local judge=llm" in n), next(iter(summaries)))
        figures.update(summaries[primary])
        figures["primary"] = primary
        if rates.prompt_tok_s:
            figures["prompt_rate_tok_s"] = round(rates.prompt, 2)
            figures["gen_rate_tok_s"] = round(rates.gen, 2)
        figures.update(compare(summaries, results))

        if args.cold_reps > 0:
            serve_llm = "local" if "local" in args.llm else "none"
            cold = cold_starts(base, questions[0], args.cold_reps, serve_llm)
            print(f"\ncold start, fresh processes, median of {args.cold_reps}: import assistant "
                  f"{cold['cold_import_s']:.2f} s; assistant ask --llm none "
                  f"{cold['cold_ask_none_s']:.2f} s; assistant serve --llm {serve_llm} ready (GET / "
                  f"is 200; serve warms up before it listens: loads the models and, with local, "
                  f"evaluates the system prompt) {cold['cold_serve_ready_s']:.2f} s")
            figures.update(cold)
            figures["cold_serve_llm"] = serve_llm

    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["load_avg_start"], figures["load_avg_end"] = load_start, load()
    print(f"peak RSS of this process {figures['peak_rss_mb']} MB (every model it loaded); "
          f"load average at end: {figures['load_avg_end']}")
    if args.json:
        figures["configs"] = summaries
        figures["rows"] = results
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def compare(summaries: dict[str, dict[str, float | None]],
            results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The reader's added cost (judge=llm against judge=rules), where both ran."""
    out: dict[str, Any] = {}
    reading, rules = summaries.get("llm=local judge=llm"), summaries.get("llm=local judge=rules")
    if reading and rules:
        for key in ("full", "first_sentence"):
            a, b = reading[f"{key}_p50_s"], rules[f"{key}_p50_s"]
            out[f"reader_added_{key}_p50_s"] = round(a - b, 3) if a and b else None
        print(f"\nThe reader's added cost: median full answer {out['reader_added_full_p50_s']:+.2f} s, "
              f"median first sentence {out['reader_added_first_sentence_p50_s']:+.2f} s")
    return out


if __name__ == "__main__":
    main()
