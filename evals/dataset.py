"""Eval rows: load a JSONL dataset and reject malformed rows with the file and line to fix.

One JSON object per line (see `datasets/README.md`): the question, its chat history, whether
the documents answer it, regex groups for the facts a right answer states, verbatim evidence
quotes, regexes for claims it must not make, and tags. Only `id`, `question` and `answerable`
are required; the rest default to empty (`as_of`, `current` and `superseded` are for rows
about dated documents: see `corpora/FORMAT.md`). Not here: checking that evidence is verbatim in some
corpus (a dataset may target any documents; the tests check the golden set against ours).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATASET = Path(__file__).resolve().parent / "datasets" / "golden.jsonl"

_REQUIRED = ("id", "question", "answerable")
_OPTIONAL = ("history", "reference", "facts", "evidence", "forbid", "tags", "as_of", "current",
             "superseded")
_ROLES = ("user", "assistant")
_ISO_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True)
class Row:
    id: str
    question: str
    answerable: bool
    history: list[dict[str, str]] = field(default_factory=list)
    reference: str = ""
    facts: list[list[str]] = field(default_factory=list)  # every group, any alternative
    evidence: list[str] = field(default_factory=list)  # exact quotes of the documents
    forbid: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    as_of: str = ""  # ISO date: only documents published on or before it count
    current: list[str] = field(default_factory=list)  # update rows: quotes of the newest value
    superseded: list[str] = field(default_factory=list)  # ... and of the value it replaced


def _strings(value: Any, what: str, allow_empty_list: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{what} must be a list of non-empty strings, got {value!r}")
    if not value and not allow_empty_list:
        raise ValueError(f"{what} must not be empty")
    return value


def _patterns(values: list[str], what: str) -> None:
    for pattern in values:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{what}: {pattern!r} is not a valid regex ({exc})") from None


def _history(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValueError(f"history must be a list of turns, got {value!r}")
    for turn in value:
        if (not isinstance(turn, dict) or set(turn) != {"role", "content"}
                or turn["role"] not in _ROLES or not isinstance(turn["content"], str)):
            raise ValueError(
                f"each history turn must be {{\"role\": \"user\"|\"assistant\", \"content\": "
                f"str}}, got {turn!r}")
    return value


def parse_row(data: Any) -> Row:
    """One row from its decoded JSON; ValueError says what is wrong (without the location)."""
    if not isinstance(data, dict):
        raise ValueError(f"a row must be a JSON object, got {type(data).__name__}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(_REQUIRED + _OPTIONAL)}")
    for key in ("id", "question"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise ValueError(f"{key} must be a non-empty string, got {data[key]!r}")
    if not isinstance(data["answerable"], bool):
        raise ValueError(f"answerable must be true or false, got {data['answerable']!r}")
    if not isinstance(data.get("reference", ""), str):
        raise ValueError(f"reference must be a string, got {data['reference']!r}")
    facts = data.get("facts", [])
    if not isinstance(facts, list):
        raise ValueError(f"facts must be a list of groups (lists of regexes), got {facts!r}")
    for i, group in enumerate(facts, 1):
        _patterns(_strings(group, f"facts group {i}", allow_empty_list=False), f"facts group {i}")
    evidence = _strings(data.get("evidence", []), "evidence")
    forbid = _strings(data.get("forbid", []), "forbid")
    _patterns(forbid, "forbid")
    tags = _strings(data.get("tags", []), "tags")
    as_of = data.get("as_of", "")
    if not isinstance(as_of, str) or (as_of and not _ISO_DATE.fullmatch(as_of)):
        raise ValueError(f"as_of must be an ISO date (YYYY, YYYY-MM or YYYY-MM-DD), got {as_of!r}")
    current = _strings(data.get("current", []), "current")
    superseded = _strings(data.get("superseded", []), "superseded")
    if data["answerable"] and (not facts or not evidence):
        raise ValueError("an answerable row needs at least one facts group and one evidence "
                         "quote (they are what its answer and retrieval are scored against)")
    if not data["answerable"] and (facts or evidence):
        raise ValueError("an unanswerable row must have empty facts and evidence "
                         "(only forbid is checked on it)")
    return Row(id=data["id"], question=data["question"], answerable=data["answerable"],
               history=_history(data.get("history", [])), reference=data.get("reference", ""),
               facts=facts, evidence=evidence, forbid=forbid, tags=tags, as_of=as_of,
               current=current, superseded=superseded)


def load_dataset(path: Path) -> list[Row]:
    """All rows of a JSONL file (blank lines skipped); ValueError names file, line and problem."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the dataset ({exc})") from None
    rows: list[Row] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = parse_row(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno})"
                             ) from None
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        if row.id in first_line:
            raise ValueError(f"{path}:{number}: duplicate id {row.id!r} "
                             f"(first on line {first_line[row.id]})")
        first_line[row.id] = number
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: the dataset has no rows")
    return rows
