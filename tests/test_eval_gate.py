"""The eval gate in CI: every suite (golden dev and test, each corpus under evals/corpora), with
the embedded default LLM and with `none`, and the claim-check eval of every suite with claims.
The local LLM answers a fixed quarter of each suite (every 4th row, `--every 4`, gated by the
`[local-every4.*]` thresholds) so that `make test` stays under 40 minutes on 2 cores; `none`
and both claim checks take every row.

A metric under its minimum in evals/thresholds.toml fails the build. Reports are kept in
test-artifacts/eval-<backend>/ and test-artifacts/claims-<backend>/ (report.html, report.md,
summary.json, rows.jsonl per suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import claims, runner

LOCAL_EVERY = 4


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the local LLM reads 177 questions: 7 to 9 minutes on 2 cores
@pytest.mark.parametrize("llm", ["none", "local"])
@pytest.mark.parametrize("kind", ["eval", "claims"])
def test_eval_meets_the_thresholds(kind: str, llm: str, artifacts: Path) -> None:
    out = artifacts / f"{kind}-{llm}"
    run = runner.main if kind == "eval" else claims.main
    sample = ["--every", str(LOCAL_EVERY)] if (kind, llm) == ("eval", "local") else []
    code = run(["--llm", llm, "--out", str(out), "--gate", *sample])
    reports = "\n".join(p.read_text(encoding="utf-8")[:1500] for p in sorted(out.glob("*/report.md")))
    assert code == 0, f"{kind} gate failed for {llm}; see {out}/<suite>/\n{reports}"
