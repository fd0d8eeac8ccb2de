"""The evaluation of Partnership Assistant: a golden dataset, deterministic metrics, a gate.

    from evals import DEFAULT_DATASET, load_dataset, run_eval, check_gate
    summary = run_eval(bot, load_dataset(DEFAULT_DATASET), out_dir=Path("eval-out"))
    failures = check_gate(summary, bot.settings.llm)  # [] means the gate passes

`evals` imports `assistant`, never the reverse. The data lives in `datasets/`, the minimum
scores per backend in `thresholds.toml`.
"""

from evals.dataset import DEFAULT_DATASET, Row, load_dataset
from evals.runner import DEFAULT_THRESHOLDS, check_gate, default_out_dir, main, run_eval

__all__ = ["DEFAULT_DATASET", "DEFAULT_THRESHOLDS", "Row", "check_gate", "default_out_dir",
           "load_dataset", "main", "run_eval"]
