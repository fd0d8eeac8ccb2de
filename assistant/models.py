"""The view models at the boundary: what callers of `Assistant` get back.

Nothing outside the core sees Chroma records, store rows or llama-index nodes; these frozen
dataclasses are the contract (see the README's Python API section).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    number: int  # the [n] in the answer text
    doc_id: str
    title: str
    source: str
    quote: str  # exact text of the document: document.text[start:end] == quote
    start: int
    end: int
    score: float  # how strongly it supports the sentence that cites it


@dataclass(frozen=True)
class Conflict:
    """Two cited statements that disagree on the point asked."""

    point: str
    sides: tuple[Citation, Citation]


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with [n] markers
    citations: list[Citation]
    refused: bool
    conflicts: list[Conflict] = field(default_factory=list)
    standalone_question: str = ""
    backend: str = ""
    notice: str = ""  # e.g. "answered extractively because the LLM failed"
    timings: dict[str, float] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)  # each stage's decision and why

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentSummary:
    """One stored document, as listed (no text)."""

    doc_id: str
    title: str
    source: str  # path relative to the ingested folder, or the uploaded file's name
    publisher: str
    chunks: int
    ingested_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentText:
    """One stored document with the exact text its citations point into."""

    doc_id: str
    title: str
    source: str
    publisher: str
    author: str
    published: str
    text: str  # citation.quote == text[citation.start:citation.end]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- what an answer stream yields: evidence first, then verified text, then the Answer ----
@dataclass(frozen=True)
class EvidenceEvent:
    """The numbered quotes the answer will be drawn from (number = evidence number)."""

    evidence: list[Citation]


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class FinalEvent:
    answer: Answer


Event = EvidenceEvent | TextDelta | FinalEvent
