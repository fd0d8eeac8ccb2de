"""The eval gate in CI: the full golden set, with the embedded default LLM and with `none`.

A metric under its minimum in evals/thresholds.toml fails the build. Reports are kept in
test-artifacts/eval-<backend>/ (report.html, report.md, summary.json, rows.jsonl).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.runner import main


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the local LLM answers 115 questions: ~20 minutes on 2 cores
@pytest.mark.parametrize("llm", ["none", "local"])
def test_golden_eval_meets_the_thresholds(llm: str, artifacts: Path) -> None:
    out = artifacts / f"eval-{llm}"
    code = main(["--llm", llm, "--out", str(out), "--gate"])
    report = (out / "report.md").read_text(encoding="utf-8") if (out / "report.md").exists() else ""
    assert code == 0, f"eval gate failed for {llm}; see {out}/report.html\n{report[:3000]}"
