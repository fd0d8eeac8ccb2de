"""The claim-check eval: verdict accuracy and a confusion matrix per suite with claims.

    python -m evals.claims [--llm none|local|openai] [--suite NAME ...] [--limit N] [--every K]
                           [--out DIR] [--gate]

The suites are those of `suites.py` that have a claims file (the golden claims on the seed
corpus, with golden-dev, and each corpus's `claims.jsonl`). Each row is a statement with the
expected verdict of each of its claims, in order, and the evidence quotes that decide it
(verbatim text of a document). A row whose statement splits into another number of claims
scores every expected claim as wrong. Besides accuracy: evidence recall (a decided claim cites
an expected quote), conflict recall (a "sources differ" claim gets both sides) and the count of `supported`
verdicts without a span holding the claim's numbers and names (must be 0), and of claims whose
quote negates them called supported (`negated_supported`, must be 0). Writes summary.json and
rows.jsonl per suite; `--gate` applies `[claims-<backend>.<suite>]` of evals/thresholds.toml.
Exit codes as `python -m evals`: 0 done (gate passed), 1 gate failed, 2 could not run.
Not here: the checking itself (`assistant/answer/claims.py`).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import Assistant, AssistantError, Settings
from assistant.core.models import VERDICTS, ClaimVerdict
from evals.runner import gate_exit_code, suite_assistant
from evals.suites import all_suites, select

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


def load_claims(path: Path) -> list[dict[str, Any]]:
    """The rows of a claims dataset; ValueError naming the line for anything malformed."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
        if not row.get("statement") or not row.get("claims"):
            raise ValueError(f"{path}:{n}: a row needs a statement and its claims")
        for claim in row["claims"]:
            if claim.get("verdict") not in VERDICTS:
                raise ValueError(f"{path}:{n}: verdict {claim.get('verdict')!r} is not one of "
                                 f"{', '.join(VERDICTS)}")
        rows.append(row)
    return rows


def holds(claim: str, quote: str) -> bool:
    """Whether `quote` holds every number and capitalised name of the claim (a `supported`
    verdict must cite such a span); written apart from the assistant's own checks."""
    said = quote.lower()
    figures = re.findall(r"\d[\d,.]*\d|\d", claim)
    names = [w for w in re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][\w-]+", claim)]
    return all(f.replace(",", "") in said.replace(",", "") for f in figures) and all(
        n.lower().removesuffix("'s") in said for n in names)


def _cited(v: ClaimVerdict) -> list[str]:
    quotes = [c.quote for c in v.citations]
    quotes += [v.contradiction.quote] if v.contradiction else []
    return quotes + [c.quote for c in v.conflict or ()]


def score_row(row: dict[str, Any], got: list[ClaimVerdict]) -> list[dict[str, Any]]:
    """One record per expected claim: expected and predicted verdict, evidence and conflict hits."""
    split_ok = len(got) == len(row["claims"])
    records = []
    for i, expected in enumerate(row["claims"]):
        v = got[i] if split_ok else None
        predicted = v.verdict if v else "split error"
        cited = _cited(v) if v else []
        records.append({
            "id": f"{row['id']}#{i + 1}", "tags": row.get("tags", []),
            "claim": v.claim if v else row["statement"], "expected": expected["verdict"],
            "predicted": predicted, "correct": predicted == expected["verdict"],
            "reason": v.reason if v else f"split into {len(got)} claims, expected "
                                         f"{len(row['claims'])}",
            "evidence_hit": any(q in c or c in q for q in expected["evidence"] for c in cited)
            if expected["evidence"] else None,
            "sources_differ": bool(expected.get("sources_differ")),
            "conflict": bool(v and v.conflict),
            "unproven_support": bool(v and v.verdict == "supported" and
                                     not any(holds(v.claim, c.quote) for c in v.citations)),
            "cited": cited})
    return records


def summarise(records: list[dict[str, Any]], times: list[float]) -> dict[str, Any]:
    labels = [*VERDICTS, "split error"]
    matrix = {e: {p: 0 for p in labels} for e in VERDICTS}
    for r in records:
        matrix[r["expected"]][r["predicted"]] += 1
    with_evidence = [r for r in records if r["evidence_hit"] is not None and r["correct"]]
    differ = [r for r in records if r["sources_differ"]]
    same = [r for r in records if not r["sources_differ"]]
    by_tag: dict[str, float] = {}
    for tag in sorted({t for r in records for t in r["tags"]}):
        chosen = [r["correct"] for r in records if tag in r["tags"]]
        by_tag[tag] = round(sum(chosen) / len(chosen), 4)
    return {
        "claims": len(records),
        "metrics": {
            "accuracy": round(sum(r["correct"] for r in records) / len(records), 4),
            "evidence_recall": round(sum(r["evidence_hit"] for r in with_evidence) /
                                     len(with_evidence), 4) if with_evidence else None,
            "conflict_recall": round(sum(r["conflict"] for r in differ) / len(differ), 4)
            if differ else None,
            "conflict_false_alarms": round(sum(r["conflict"] for r in same) / len(same), 4)
            if same else None,
            "unproven_support": sum(r["unproven_support"] for r in records),
            "negated_supported": sum("negated" in r["tags"] and r["predicted"] == "supported"
                                     for r in records),
            "statement_s_median": round(statistics.median(times), 3) if times else None,
        },
        "confusion": matrix, "by_tag": by_tag,
        "wrong": [f"{r['id']}: expected {r['expected']}, got {r['predicted']} ({r['reason']})"
                  for r in records if not r["correct"]],
    }


def run(bot: Assistant, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from tqdm import tqdm

    records, times = [], []
    started = time.perf_counter()
    for row in tqdm(rows, desc=f"claims ({bot.settings.llm})", unit="statement", file=sys.stderr):
        t0 = time.perf_counter()
        check = bot.check(row["statement"])
        times.append(time.perf_counter() - t0)
        records += score_row(row, check.claims)
    summary = summarise(records, times)
    summary.update({"created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "backend": bot.settings.llm, "statements": len(rows),
                    "wall_s": round(time.perf_counter() - started, 2)})
    return summary, records


def check_gate(summary: dict[str, Any], section: str, path: Path = THRESHOLDS) -> list[str]:
    """Each metric under its minimum, or over its maximum (a key ending in _max), by the table
    `[section]` (`claims-<backend>.<suite>`)."""
    table: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    for part in section.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise ValueError(f"{path}: no [{section}] section")
    failures = []
    for key, limit in table.items():
        name = key.removesuffix("_max")
        value = summary["metrics"].get(name)
        if value is None:
            failures.append(f"{name}: not measured (its limit is {limit:g})")
        elif key.endswith("_max") and value > limit:
            failures.append(f"{name} = {value:.4g} is over its maximum {limit:g}")
        elif not key.endswith("_max") and value < limit:
            failures.append(f"{name} = {value:.4g} is under its minimum {limit:g}")
    return failures


def format_summary(summary: dict[str, Any], rows: bool) -> str:
    """The metrics and confusion matrix; the wrong claims one by one only when `rows` (dev)."""
    lines = [f"Claim check ({summary['backend']}, {summary.get('suite', '')}): {summary['claims']} "
             f"claims in {summary['statements']} statements, {summary['wall_s']} s"]
    lines += [f"  {k}: {v}" for k, v in summary["metrics"].items()]
    labels = [*VERDICTS, "split error"]
    lines.append("  confusion (rows expected, columns predicted: " + " | ".join(labels) + ")")
    for expected, row in summary["confusion"].items():
        lines.append(f"    {expected:>22}: " + "  ".join(f"{row[p]:>3}" for p in labels))
    lines += [f"  wrong: {w}" for w in summary["wrong"]] if rows else []
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.claims", description=__doc__.split("\n")[0])
    p.add_argument("--llm", choices=["local", "openai", "none"])
    p.add_argument("--suite", action="append", metavar="NAME",
                   help="a suite with claims, repeatable (default: every one that has them)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N statements of each")
    p.add_argument("--every", type=int, default=1, metavar="K",
                   help="only every K-th statement (a fixed sample: rows 1, 1+K, 1+2K, ...)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (default: <data_dir>/eval/claims-<backend>)")
    p.add_argument("--gate", action="store_true")
    p.add_argument("--thresholds", type=Path, default=THRESHOLDS)
    args = p.parse_args(argv)
    failures: list[str] = []
    try:
        settings = Settings(**({"llm": args.llm} if args.llm else {}))
        suites = [s for s in select(all_suites(), args.suite) if s.claims is not None]
        if args.gate:  # fail now, not after the run
            for suite in suites:
                check_gate({"metrics": {}}, f"claims-{settings.llm}.{suite.name}", args.thresholds)
        out_root = args.out or settings.data_dir / "eval" / f"claims-{settings.llm}"
        generator = None
        for suite in suites:
            assert suite.claims is not None
            rows = load_claims(suite.claims)[:: max(1, args.every)][: args.limit]
            bot = suite_assistant(settings, suite, generator)
            if settings.llm != "none":
                generator = bot.generator()
            summary, records = run(bot, rows)
            summary.update(suite=suite.name, split=suite.split,
                           sample={"every": args.every, "limit": args.limit})
            out = out_root / suite.name
            out.mkdir(parents=True, exist_ok=True)
            (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
            (out / "rows.jsonl").write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
            print(format_summary(summary, rows=suite.split == "dev") + f"\nReport: {out}\n")
            if args.gate:
                failures += [f"{suite.name}: {f}" for f in
                             check_gate(summary, f"claims-{settings.llm}.{suite.name}", args.thresholds)]
    except (ValueError, OSError, AssistantError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return gate_exit_code(failures, f"claims-{settings.llm}", args.gate)


if __name__ == "__main__":
    sys.exit(main())
