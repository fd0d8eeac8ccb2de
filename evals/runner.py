"""Run the eval: ask every row of every suite, score it, write the reports, apply the gate.

    python -m evals [--suite NAME ...] [--llm local|openai|none] [--limit N] [--every K]
                    [--out DIR] [--compare OLD_DIR] [--gate] [--thresholds FILE]
    python -m evals --dataset FILE [...]   # your own rows, on the configured corpus folder

Each suite (`suites.py`: golden-dev, golden-test and every corpus under `corpora/`) is
ingested into its own store under DATA_DIR/eval-stores (once: later runs find it unchanged)
and asked with one shared LLM. A run folder holds one report folder per suite and a
summary.json with a row per suite; the gate applies `[<backend>.<suite>]` of thresholds.toml.

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
from evals.suites import Suite, all_suites, select

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


def _document_dates(bot: Assistant) -> Callable[[str], str]:
    dates: dict[str, str] = {}

    def published(doc_id: str) -> str:
        if doc_id not in dates:
            try:
                dates[doc_id] = bot.document(doc_id).published or ""
            except AssistantError:
                dates[doc_id] = ""
        return dates[doc_id]

    return published


def _ask(bot: Assistant, row: Row) -> tuple[Answer, list[str], str]:
    """The answer, the retrieved chunk texts (answerable rows only) and any error."""
    try:
        answer = bot.ask(row.question, history=row.history, as_of=row.as_of or None)
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
    scorers: dict[str, Support] = {"lexical": lexical_support}
    metrics: list[Metric] = list(METRICS)
    judge = Judge.from_env()
    if judge is not None:
        metrics.append(judge)
    document_text = _document_texts(bot)
    published = _document_dates(bot)
    all_scores, records = [], []
    started = time.perf_counter()
    for done, row in enumerate(rows, 1):
        answer, hits, error = _ask(bot, row)
        case = Case(row, answer, document_text, hits, scorers, published)
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
            "top_k", "evidence_sentences", "evidence_threshold", "chunk_tokens",
            "chunk_overlap_tokens")},
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


def gate_backend(llm: str, every: int) -> str:
    """The thresholds' name for a run: the backend, with the sample when only every K-th row is
    asked (`local-every2`), whose figures are not the full set's."""
    return llm if every == 1 else f"{llm}-every{every}"


def load_thresholds(section: str, path: Path = DEFAULT_THRESHOLDS) -> dict[str, float]:
    """The `[section]` table of a thresholds file (`backend.suite`, e.g. `none.golden-dev`, or
    a plain name); ValueError for anything unusable in it."""
    try:
        table: Any = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read thresholds ({exc})") from None
    for part in section.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{path}: no [{section}] section; add one with a minimum per metric")
    known = metric_names()
    limits = {k: v for k, v in table.items() if not isinstance(v, dict)}
    for key, limit in limits.items():
        if key.removesuffix("_max") not in known:
            raise ValueError(f"{path} [{section}] {key}: no such metric; known: "
                             f"{', '.join(known)} (append _max for a maximum)")
        if isinstance(limit, bool) or not isinstance(limit, int | float):
            raise ValueError(f"{path} [{section}] {key}: the limit must be a number, got {limit!r}")
    return {k: float(v) for k, v in limits.items()}


def check_gate(summary: dict[str, Any], section: str,
               thresholds_path: Path = DEFAULT_THRESHOLDS) -> list[str]:
    """Each metric under its minimum (key `name`) or over its maximum (key `name_max`)."""
    failures = []
    for key, limit in load_thresholds(section, thresholds_path).items():
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
    p.add_argument("--suite", action="append", metavar="NAME",
                   help="a suite to run, repeatable (default: all; see evals/suites.py)")
    p.add_argument("--dataset", type=Path, action="append", metavar="FILE",
                   help=f"your own JSONL rows instead of the suites, repeatable (e.g. "
                        f"{DEFAULT_DATASET.name}), asked about ASSISTANT_CORPUS_DIR")
    p.add_argument("--llm", choices=["local", "openai", "none"],
                   help="answer generator (default: ASSISTANT_LLM, else local)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows of each suite")
    p.add_argument("--every", type=int, metavar="K", default=1,
                   help="only every K-th row (1st, K+1-th, ...): a fixed sample across all tags")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (default: <data_dir>/eval/<timestamp>, linked as latest)")
    p.add_argument("--compare", type=Path, metavar="OLD_DIR",
                   help="print what got better or worse since the run in OLD_DIR")
    p.add_argument("--gate", action="store_true",
                   help="exit 1 when a metric misses its threshold for this backend and suite")
    p.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS, metavar="FILE",
                   help="thresholds file for --gate (default: evals/thresholds.toml)")
    return p


def _own_suites(datasets: list[Path], settings: Settings) -> list[Suite]:
    rows = [row for path in datasets for row in load_dataset(path)]
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise ValueError(f"id {row.id!r} is in more than one dataset; ids must be unique")
        seen.add(row.id)
    return [Suite("dataset", "dev", settings.corpus_dir, rows)]


def suite_assistant(settings: Settings, suite: Suite, generator: Any = None,
                    own_store: bool = True) -> Assistant:
    """An assistant whose store holds the suite's documents (ingested now if need be). With
    `own_store`, the store lives under DATA_DIR/eval-stores/<suite's documents>; the model
    files stay where the settings put them."""
    if own_store:
        settings = settings.model_copy(update={
            "data_dir": settings.data_dir / "eval-stores" / suite.store_key,
            "model_dir": settings.resolved_model_dir})
    bot = Assistant(settings, generator=generator)
    ingested = bot.ingest([suite.docs])
    if not ingested.ok:
        print(f"warning: {suite.name}: ingest: {ingested.summary()}", file=sys.stderr)
    return bot


def run_suites(suites: list[Suite], settings: Settings, out_dir: Path, every: int = 1,
               limit: int | None = None, own_stores: bool = True) -> dict[str, Any]:
    """Run each suite into out_dir/<suite>/; the combined summary (also out_dir/summary.json)."""
    from tqdm import tqdm

    generator = None
    combined: dict[str, Any] = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
                                "backend": settings.llm, "model": _model(settings),
                                "every": every, "suites": {}}
    for suite in suites:
        rows = suite.rows[::every][:limit] if limit else suite.rows[::every]
        if not rows:
            continue
        bot = suite_assistant(settings, suite, generator, own_stores)
        if settings.llm != "none":
            generator = bot.generator()  # loaded once, shared by every suite
        with tqdm(total=len(rows), desc=f"{suite.name} ({settings.llm})", unit="q",
                  file=sys.stderr) as bar:
            summary, records = evaluate(bot, rows, lambda done, _: bar.update(done - bar.n))
        summary.update(suite=suite.name, split=suite.split, docs=str(suite.docs))
        save_run(out_dir / suite.name, summary, records, settings.data_dir)
        combined["suites"][suite.name] = {k: summary[k] for k in (
            "split", "questions", "failed_questions", "errors", "wall_s", "metrics", "counts",
            "by_tag")}
    report.write_combined(out_dir, combined)
    if out_dir.resolve().parent == (settings.data_dir / "eval").resolve():
        report.link_latest(out_dir)
    return combined


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        _parser().error("--limit must be at least 1")
    if args.every < 1:
        _parser().error("--every must be at least 1")
    try:
        overrides: dict[str, Any] = {"llm": args.llm} if args.llm else {}
        settings = Settings(**overrides)
        suites = (_own_suites(args.dataset, settings) if args.dataset
                  else select(all_suites(), args.suite))
        backend = gate_backend(settings.llm, args.every)
        sections = {s.name: (backend if args.dataset else f"{backend}.{s.name}") for s in suites}
        if args.gate:  # fail now, not after the run
            for section in sections.values():
                load_thresholds(section, args.thresholds)
        out_dir = args.out or default_out_dir(settings)
        combined = run_suites(suites, settings, out_dir, args.every, args.limit,
                              own_stores=not args.dataset)
        print(report.format_combined(combined))
        print(f"\nReports: {out_dir}/<suite>/report.html")
        if args.compare:
            print("\n" + report.compare_combined(args.compare, out_dir, combined))
        failures = [f"{name}: {f}" for name, section in sections.items() if args.gate
                    and name in combined["suites"]
                    for f in check_gate(combined["suites"][name], section, args.thresholds)]
    except (ValueError, AssistantError) as exc:  # pydantic's ValidationError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return gate_exit_code(failures, settings.llm, args.gate)
