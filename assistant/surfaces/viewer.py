"""The source viewer's markup: a whole document, HTML-escaped, with one span marked.

Shared by the chat tab and the claim tab of the web UI (`ui.py`, `ui_claims.py`). Not here:
gradio components or event wiring.
"""

from __future__ import annotations

import html

from assistant.api import Assistant

esc = html.escape


def document_html(bot: Assistant, doc_id: str, start: int | None = None,
                  end: int | None = None) -> str:
    """The whole document as escaped text, the span [start:end] in <mark id="cited">."""
    doc = bot.document(doc_id)
    meta = " · ".join(esc(x) for x in (doc.publisher, doc.source) if x)
    text, body = doc.text, esc(doc.text)
    if start is not None and end is not None:
        body = (f'{esc(text[:start])}<mark id="cited">{esc(text[start:end])}</mark>'
                f"{esc(text[end:])}")
    return (f'<div class="doc"><div class="doc-title">{esc(doc.title)}</div>'
            f'<div class="doc-meta">{meta}</div><pre class="doc-text">{body}</pre></div>')
