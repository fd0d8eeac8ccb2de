"""The source viewer's markup, and how a source's date is shown on every surface.

`document_html` renders a whole document, HTML-escaped, with one span marked; the chat,
claim and timeline tabs of the web UI share it. `date_label` turns a document's ISO date (at
its precision) into the words the UI, the CLI and the HTTP sources footer print. Not here:
gradio components or event wiring (this module imports no UI library).
"""

from __future__ import annotations

import html

from assistant.api import Assistant
from assistant.core.dates import parse_date

esc = html.escape
UNDATED = "undated"


def date_label(published: str | None) -> str:
    """"21 January 2025", "January 2025", "2025", or "undated" for no (or no readable) date."""
    date = parse_date(published) if published else None
    return date.human() if date else UNDATED


def document_html(bot: Assistant, doc_id: str, start: int | None = None,
                  end: int | None = None) -> str:
    """The whole document as escaped text, the span [start:end] in <mark id="cited">; its
    date (and where the date was read) in the meta line."""
    doc = bot.document(doc_id)
    dated = (f"published {date_label(doc.published)}"
             + (f" ({doc.published_from})" if doc.published_from else "")
             if doc.published else UNDATED)
    meta = " · ".join(esc(x) for x in (doc.publisher, doc.source, dated) if x)
    text, body = doc.text, esc(doc.text)
    if start is not None and end is not None:
        body = (f'{esc(text[:start])}<mark id="cited">{esc(text[start:end])}</mark>'
                f"{esc(text[end:])}")
    return (f'<div class="doc"><div class="doc-title">{esc(doc.title)}</div>'
            f'<div class="doc-meta">{meta}</div><pre class="doc-text">{body}</pre></div>')
