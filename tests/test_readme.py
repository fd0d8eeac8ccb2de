"""The README stays true: every setting is documented and CI runs the README's test command."""

from __future__ import annotations

from conftest import ROOT

from assistant.settings import Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"ASSISTANT_{name.upper()}" for name in Settings.model_fields
               if f"ASSISTANT_{name.upper()}" not in README]
    assert not missing


def test_ci_runs_the_readme_test_command() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    command = [line for line in lines if line and not line.startswith(("#", "set ", "cd "))][-1]
    assert f"`{command}`" in README or f"\n{command}\n" in README
