"""The timeline: dated events from the documents, in order, each an exact span.

An event is a sentence that gives a date ("In June 2023, Microsoft ... allowed OpenAI to sign a
deal with Oracle": June 2023), or, for a dated document, its first sentence at the document's
own date (the news it reports). A month without a year ("in July") is listed as such, after
the dated events: no year is invented for it, and an undated sentence gets no date at all.
With a topic, only sentences of the chunks retrieved for it count (and the dates of their
documents). Not here: reading dates
(`core.dates`) or a document's own date (`index.metadata`).
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.answer.evidence import DocumentView, is_heading, states_something
from assistant.core.dates import PartialDate, dates_in, month_names, parse_date
from assistant.core.models import Citation, TimelineEvent
from assistant.index.metadata import in_spans

LIMIT = 500  # events returned at most


def events(views: Iterable[tuple[str, DocumentView]], as_of: PartialDate | None = None,
           only: set[tuple[str, int, int]] | None = None) -> list[TimelineEvent]:
    """Dated events of the documents (doc_id, view), ordered; `only`: the sentences to use."""
    found: list[tuple[tuple[int, str], TimelineEvent]] = []
    for doc_id, view in views:
        published = parse_date(view.published)
        if as_of and published and published.starts() > as_of.covers_until():
            continue
        first = only is None or any(key[0] == doc_id for key in only)
        for start, end in view.sentences:
            text = view.text[start:end]
            if (in_spans(start, end, view.metadata) or is_heading(view.text, start, end)
                    or not states_something(text)):
                continue
            cite = Citation(0, doc_id, view.title, view.source, text, start, end, 0.0,
                            view.published or None)
            if first and not _captions(view, end):
                if published:
                    found.append(((0, published.starts()), TimelineEvent(
                        published.iso(), published.precision, published.human(), "published", cite)))
                first = False
            if only is not None and (doc_id, start, end) not in only:
                continue
            dated = dates_in(text)
            for date, _, _ in dated:
                found.append(((0, date.starts()), TimelineEvent(
                    date.iso(), date.precision, date.human(), "stated", cite)))
            for month in month_names(text, skip=[(s, e) for _, s, e in dated]):
                found.append(((1, view.published), TimelineEvent(
                    "", "month", f"{month} (no year given)", "stated", cite)))
    found.sort(key=lambda pair: pair[0])
    return [event for _, event in found[:LIMIT]]


def _captions(view: DocumentView, end: int) -> bool:
    """Whether the sentence ending at `end` is a picture's caption: the next line is metadata
    ("Image Source: ...")."""
    after = view.text.find("\n", end)
    return after >= 0 and any(s == after + 1 or view.text[after:s].strip() == ""
                              for s, _ in view.metadata if s > end)
