"""Run the eval: ask every row, score it, write the report, compare runs, apply the gate.

    python -m evals [--dataset FILE ...] [--llm local|openai|none] [--limit N] [--every K] [--out DIR]
                    [--compare OLD_DIR] [--gate] [--thresholds FILE]

Exit codes: 0 done (and the gate passed), 1 the gate failed, 2 the run could not happen (bad
dataset, thresholds or settings, or an assistant error such as a missing model). An error of
the assistant on one question (e.g. the LLM timing out) is recorded on that row as a failure
and the run goes on; any other exception is a bug and stops it. Retrieval is also scored by
llama-index's own `RetrieverEvaluator` (`crosscheck.py`). Not here: metric definitions
(`metrics.py`), files and charts (`report.py`).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import Answer, Assistant, AssistantError, Settings
from evals import report
from evals.crosscheck import crosscheck
from evals.dataset import DEFAULT_DATASET, Row, load_dataset
from evals.metrics import (
    LATENCY,
    METRICS,
    Case,
    Judge,
    Metric,
    Score,
    Support,
    aggregate,
    latency,
    lexical_support,
)

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
Progress = Callable[[int, int], None]


def metric_names() -> list[str]:
    """Every name a summary's "metrics" may hold, and so every name a threshold may use."""
    stats = [f"{name}_{stat}" for name in LATENCY.values() for stat in ("median", "p90")]
    return [m.name for m in METRICS] + stats + [Judge.name]


def default_out_dir(settings: Settings) -> Path:
    """<data_dir>/eval/<timestamp>, made unique if a run already used this second."""
    root = settings.data_dir / "eval"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out, n = root / stamp, 1
    while out.exists():
        n += 1
        out = root / f"{stamp}-{n}"
    return out


def _document_texts(bot: Assistant) -> Callable[[str], str | None]:
    texts: dict[str, str | None] = {}

    def text(doc_id: str) -> str | None:
        if doc_id not in texts:
            try:
                texts[doc_id] = bot.document(doc_id).text
            except AssistantError:  # DocumentNotFound: the citation points nowhere
                texts[doc_id] = None
        return texts[doc_id]

    return text


def _ask(bot: Assistant, row: Row) -> tuple[Answer, list[str], str]:
    """The answer, the retrieved chunk texts (answerable rows only) and any error."""
    try:
        answer = bot.ask(row.question, history=row.history)
    except AssistantError as exc:
        empty = Answer(question=row.question, text="", citations=[], refused=False)
        return empty, [], f"{type(exc).__name__}: {exc}"
    if not row.answerable:
        return answer, [], ""
    try:
        hits = bot.search(answer.standalone_question or row.question, k=bot.settings.top_k)
    except AssistantError as exc:
        return answer, [], f"search: {type(exc).__name__}: {exc}"
    return answer, [h.text for h in hits], ""


def _record(case: Case, scores: dict[str, Score | None], error: str) -> dict[str, Any]:
    """One line of rows.jsonl: what was asked and answered, each metric, what failed and why."""
    answer, row = case.answer, case.row
    citations = []
    for c in answer.citations:
        text = case.document_text(c.doc_id)
        citations.append({"number": c.number, "doc_id": c.doc_id, "title": c.title,
                          "quote": c.quote, "start": c.start, "end": c.end, "score": c.score,
                          "valid": text is not None and text[c.start:c.end] == c.quote})
    sentences = [] if answer.refused else [
        {"text": claim, "citations": numbers,
         "supported": case.supports("assistant", claim, numbers),
         "supported_lexical": case.supports("lexical", claim, numbers)}
        for claim, numbers in case.sentences]
    failures = [f"error: {error}"] if error else []
    for score in scores.values():
        failures += [w for w in (score.why if score else ()) if w not in failures]
    return {"id": row.id, "question": row.question, "history": row.history, "tags": row.tags,
            "answerable": row.answerable, "reference": row.reference, "answer": answer.text,
            "refused": answer.refused, "standalone_question": answer.standalone_question,
            "notice": answer.notice, "citations": citations, "sentences": sentences,
            "metrics": {n: (s.value / s.count if s and s.count else None)
                        for n, s in scores.items()},
            "timings": answer.timings, "trace": answer.trace, "failures": failures, "error": error}


def evaluate(bot: Assistant, rows: list[Row], progress: Progress | None = None,
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(summary, one record per row). The bot's store must already hold the documents."""
    if not rows:
        raise ValueError("no rows to evaluate: the dataset (or --limit) selected none")
    threshold = bot.settings.support_threshold

    def own_support(claim: str, quotes: list[str]) -> bool:
        return bot.support_score(claim, " ".join(quotes)) >= threshold

    scorers: dict[str, Support] = {"assistant": own_support, "lexical": lexical_support}
    metrics: list[Metric] = list(METRICS)
    judge = Judge.from_env()
    if judge is not None:
        metrics.append(judge)
    document_text = _document_texts(bot)
    all_scores, records = [], []
    started = time.perf_counter()
    for done, row in enumerate(rows, 1):
        answer, hits, error = _ask(bot, row)
        case = Case(row, answer, document_text, hits, scorers)
        scores = {m.name: m.compute(case) for m in metrics}
        all_scores.append(scores)
        records.append(_record(case, scores, error))
        if progress is not None:
            progress(done, len(rows))
    names = [m.name for m in metrics]
    by_tag: dict[str, dict[str, Any]] = {}
    for tag in sorted({t for row in rows for t in row.tags}):
        chosen = [s for s, row in zip(all_scores, rows, strict=True) if tag in row.tags]
        by_tag[tag] = {"questions": len(chosen), **aggregate(chosen, names)}
    summary = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": bot.settings.llm, "model": _model(bot.settings),
        "judge": judge.model if judge else None,
        "settings": {k: getattr(bot.settings, k) for k in (
            "top_k", "evidence_sentences", "evidence_threshold", "support_threshold",
            "chunk_tokens", "chunk_overlap_tokens")},
        "questions": len(rows), "failed_questions": sum(bool(r["failures"]) for r in records),
        "errors": sum(bool(r["error"]) for r in records),
        "wall_s": round(time.perf_counter() - started, 2),
        "metrics": {**aggregate(all_scores, names), **latency([a["timings"] for a in records])},
        "counts": {n: sum(s.count for row in all_scores if (s := row[n])) for n in names},
        "by_tag": by_tag,
        # llama-index's RetrieverEvaluator on the same queries, next to hit_at_k and mrr
        "retrieval_crosscheck": crosscheck(bot, rows, records, bot.settings.top_k),
    }
    return summary, records


def _model(settings: Settings) -> str:
    return {"local": settings.local_model, "openai": settings.openai_model,
            "none": "extractive"}[settings.llm]


def save_run(out_dir: Path, summary: dict[str, Any], records: list[dict[str, Any]],
             data_dir: Path) -> None:
    """Write the report files; a run under <data_dir>/eval/ also becomes eval/latest."""
    report.write_report(out_dir, summary, records)
    if out_dir.resolve().parent == (data_dir / "eval").resolve():
        report.link_latest(out_dir)


def run_eval(bot: Assistant, rows: list[Row], out_dir: Path | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """Ask and score every row; return the summary, and write the report files into out_dir."""
    summary, records = evaluate(bot, rows, progress)
    if out_dir is not None:
        save_run(Path(out_dir), summary, records, bot.settings.data_dir)
    return summary


def load_thresholds(backend: str, path: Path = DEFAULT_THRESHOLDS) -> dict[str, float]:
    """The [backend] table of a thresholds file; ValueError for anything unusable in it."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read thresholds ({exc})") from None
    if not isinstance(table.get(backend), dict):
        raise ValueError(f"{path}: no [{backend}] section; add one with a minimum per metric")
    known = metric_names()
    for key, limit in table[backend].items():
        if key.removesuffix("_max") not in known:
            raise ValueError(f"{path} [{backend}] {key}: no such metric; known: "
                             f"{', '.join(known)} (append _max for a maximum)")
        if isinstance(limit, bool) or not isinstance(limit, int | float):
            raise ValueError(f"{path} [{backend}] {key}: the limit must be a number, got {limit!r}")
    return {k: float(v) for k, v in table[backend].items()}


def check_gate(summary: dict[str, Any], backend: str,
               thresholds_path: Path = DEFAULT_THRESHOLDS) -> list[str]:
    """Each metric under its minimum (key `name`) or over its maximum (key `name_max`)."""
    failures = []
    for key, limit in load_thresholds(backend, thresholds_path).items():
        name = key.removesuffix("_max")
        value, is_max = summary["metrics"].get(name), key.endswith("_max")
        if value is None:
            failures.append(f"{name}: not measured in this run (its limit is {limit:g})")
        elif is_max and value > limit:
            failures.append(f"{name} = {value:.4g} is over its maximum {limit:g}")
        elif not is_max and value < limit:
            failures.append(f"{name} = {value:.4g} is under its minimum {limit:g}")
    return failures


def gate_exit_code(failures: list[str], section: str, gated: bool) -> int:
    """Print the gate's outcome for thresholds section `section`; 1 when it failed, else 0."""
    if failures:
        print(f"\nGate [{section}] FAILED:\n" + "\n".join(f"  - {f}" for f in failures))
        return 1
    if gated:
        print(f"\nGate [{section}] passed.")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    p.add_argument("--dataset", type=Path, action="append", metavar="FILE",
                   help=f"JSONL dataset, repeatable (default: {DEFAULT_DATASET.name})")
    p.add_argument("--llm", choices=["local", "openai", "none"],
                   help="answer generator (default: ASSISTANT_LLM, else local)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.add_argument("--every", type=int, metavar="K", default=1,
                   help="only every K-th row (1st, K+1-th, ...): a fixed sample across all tags")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (default: <data_dir>/eval/<timestamp>, linked as latest)")
    p.add_argument("--compare", type=Path, metavar="OLD_DIR",
                   help="print what got better or worse since the run in OLD_DIR")
    p.add_argument("--gate", action="store_true",
                   help="exit 1 when a metric misses its threshold for this backend")
    p.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS, metavar="FILE",
                   help="thresholds file for --gate (default: evals/thresholds.toml)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        _parser().error("--limit must be at least 1")
    if args.every < 1:
        _parser().error("--every must be at least 1")
    from tqdm import tqdm

    try:
        datasets = args.dataset or [DEFAULT_DATASET]
        rows = [row for path in datasets for row in load_dataset(path)]
        seen: set[str] = set()
        for row in rows:
            if row.id in seen:
                raise ValueError(f"id {row.id!r} is in more than one dataset; ids must be unique")
            seen.add(row.id)
        rows = rows[:: args.every][: args.limit] if args.limit else rows[:: args.every]
        overrides: dict[str, Any] = {"llm": args.llm} if args.llm else {}
        settings = Settings(**overrides)
        if args.gate:
            load_thresholds(settings.llm, args.thresholds)  # fail now, not after the run
        bot = Assistant(settings)
        ingested = bot.ingest()
        if not ingested.ok:
            print(f"warning: ingest: {ingested.summary()}", file=sys.stderr)
        out_dir = args.out or default_out_dir(settings)
        with tqdm(total=len(rows), desc=f"eval ({settings.llm})", unit="q", file=sys.stderr) as bar:
            summary, records = evaluate(bot, rows, lambda done, _: bar.update(done - bar.n))
        summary["datasets"] = [str(p) for p in datasets]
        save_run(out_dir, summary, records, settings.data_dir)
        print(report.format_summary(summary))
        print(f"\nReport: {out_dir / 'report.html'}")
        if args.compare:
            print("\n" + report.compare_runs(args.compare, summary, records))
        failures = check_gate(summary, settings.llm, args.thresholds) if args.gate else []
    except (ValueError, AssistantError) as exc:  # pydantic's ValidationError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return gate_exit_code(failures, settings.llm, args.gate)
