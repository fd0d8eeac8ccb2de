"""The gate's limits from measured runs: one `[backend.suite]` table per suite of each answer
eval run, one `[claims-<backend>.<suite>]` table per suite of a claim-check run.

    python -m evals.thresholds RUN_DIR [RUN_DIR ...] > section.toml

Minimums are the measured rates rounded down to three places, maximums rounded up: the gate
holds the figures a run reached, with no slack. Paste the output into thresholds.toml after a
run that should become the new floor; never lower a limit to make a run pass. Not here: applying
the gate (`runner.check_gate`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from evals.runner import gate_backend

MINIMUMS = ["citation_validity", "fact_accuracy", "correct_refusal", "citation_recall",
            "citation_precision", "answer_relevance", "hit_at_k", "mrr", "update_lead",
            "update_both", "as_of_respected"]
MAXIMUMS = ["over_refusal", "opposite_of_quote"]
CLAIM_MINIMUMS = ["accuracy", "evidence_recall", "conflict_recall"]
CLAIM_MAXIMUMS = ["conflict_false_alarms", "unproven_support", "negated_supported"]


def _limits(metrics: dict[str, Any], counts: dict[str, Any], minimums: list[str],
            maximums: list[str]) -> list[str]:
    lines = []
    for metric in minimums:
        if metrics.get(metric) is not None:
            value = math.floor(metrics[metric] * 1000) / 1000
            n = f"  # n={counts[metric]}" if metric in counts else ""
            lines.append(f"{metric} = {value:.3f}{n}")
    for metric in maximums:
        if metrics.get(metric) is not None:
            value = math.ceil(metrics[metric] * 1000) / 1000
            n = f"  # n={counts[metric]}" if metric in counts else ""
            lines.append(f"{metric}_max = {value:.3f}{n}")
    return lines


def sections(combined: dict[str, Any]) -> str:
    """TOML tables `[backend.suite]` holding each suite's measured limits."""
    out = []
    for name, suite in combined["suites"].items():
        metrics, counts = suite["metrics"], suite["counts"]
        backend = gate_backend(combined["backend"], combined.get("every", 1))
        lines = [f"[{backend}.{name}]  # {suite['questions']} questions, "
                 f"{suite['split']}, measured {combined['created'][:10]}"]
        lines += _limits(metrics, counts, MINIMUMS, MAXIMUMS)
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def claim_sections(run: Path) -> str:
    """TOML tables `[claims-backend.suite]` from a claim-check run (a summary per suite folder)."""
    out = []
    for path in sorted(run.glob("*/summary.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        lines = [f"[claims-{summary['backend']}.{summary['suite']}]  # {summary['claims']} claims, "
                 f"{summary['split']}"]
        out.append("\n".join(lines + _limits(summary["metrics"], {}, CLAIM_MINIMUMS,
                                              CLAIM_MAXIMUMS)))
    return "\n\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    runs = argv if argv is not None else sys.argv[1:]
    if not runs:
        print(__doc__, file=sys.stderr)
        return 2
    for run in map(Path, runs):
        combined = run / "summary.json"
        print(sections(json.loads(combined.read_text(encoding="utf-8"))) if combined.exists()
              else claim_sections(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
