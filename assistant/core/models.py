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
VerdictName = Literal["supported", "contradicted", "partly supported", "not in the documents"]
VERDICTS: tuple[VerdictName, ...] = ("supported", "contradicted", "partly supported",
                                     "not in the documents")


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim of a statement and what the documents say about it."""

    claim: str  # statement[start:end]
    start: int
    end: int
    verdict: VerdictName
    reason: str
    citations: list[Citation]  # the spans that decide it (supporting first)
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
