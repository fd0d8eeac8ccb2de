"""The view models at the boundary: what callers of `Assistant` get back.

Nothing outside the core sees Chroma records, store rows or llama-index nodes; these frozen
dataclasses are the contract (see the README's Python API section).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

History = list[dict[str, str]]  # earlier turns: {"role": "user"|"assistant", "content": ...}


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
    published: str | None = None  # its document's date (ISO, at the precision given); None: undated


@dataclass(frozen=True)
class Conflict:
    """Two cited statements that disagree on the point asked. `newer` is the index in `sides`
    of the statement from the later document (each side's date is its `published`); None when
    both have one date, or a side is undated: then the sources simply differ."""

    point: str
    sides: tuple[Citation, Citation]
    newer: int | None = None


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    score: float
    published: str | None = None  # its document's date (ISO, at the precision given); None: undated


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
    published: str = ""  # ISO date at the precision known (2025, 2025-01, 2025-01-21); "" undated
    published_from: str = ""  # where the date was read: manifest, front matter, HTML meta, ...

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
    published: str  # ISO date at the precision known; "" when undated
    text: str  # citation.quote == text[citation.start:citation.end]
    published_from: str = ""  # where the date was read: manifest, front matter, HTML meta, ...

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


class AnswerStream:
    """`for text in stream` gives text deltas; `stream.events()` gives every event.
    `evidence` and `answer` are set as their events pass."""

    def __init__(self, events: Iterator[Event]) -> None:
        self._events = events
        self.evidence: list[Citation] = []
        self.answer: Answer | None = None

    def events(self) -> Iterator[Event]:
        for event in self._events:
            if isinstance(event, EvidenceEvent):
                self.evidence = event.evidence
            elif isinstance(event, FinalEvent):
                self.answer = event.answer
            yield event

    def __iter__(self) -> Iterator[str]:
        for event in self.events():
            if isinstance(event, TextDelta):
                yield event.text


# --- the claim check (`Assistant.check`) ----------------------------------------------------
VerdictName = Literal["supported", "contradicted", "partly supported", "not in the documents",
                      "outdated"]
VERDICTS: tuple[VerdictName, ...] = ("supported", "contradicted", "partly supported",
                                     "not in the documents", "outdated")


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim of a statement and what the documents say about it."""

    claim: str  # statement[start:end]
    start: int
    end: int
    verdict: VerdictName
    reason: str
    citations: list[Citation]  # the spans that decide it (supporting first; for an outdated
    # claim with no support, the sentence saying its value changed)
    contradiction: Citation | None = None  # for contradicted / partly: the sentence saying otherwise
    supported_part: str = ""  # for partly supported: what the documents do bear out
    conflict: tuple[Citation, Citation] | None = None  # two sources disagreeing on its point


@dataclass(frozen=True)
class ClaimCheck:
    statement: str
    claims: list[ClaimVerdict]
    backend: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event: a sentence that gives a date, or a document's own date for its news."""

    date: str  # ISO at the precision given ("2019", "2023-06", "2025-01-21"); "" when no year is given
    precision: str  # "day", "month" or "year"
    label: str  # "21 January 2025", "June 2023", "July (no year given)"
    kind: str  # "stated": the sentence gives the date; "published": the document's date
    citation: Citation  # the sentence, an exact span of its document

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
