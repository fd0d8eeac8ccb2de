"""The source viewer's markup, and how a source's date is shown on every surface.

`document_html` renders a whole document, HTML-escaped, with one span marked; the chat,
claim and timeline tabs of the web UI share it, and the script that opens it from a click on
a quote (`click_listener_js`, `scroll_js`). `date_label` turns a document's ISO date (at
its precision) into the words the UI, the CLI and the HTTP sources footer print. Not here:
gradio components or event wiring (this module imports no UI library).
"""

from __future__ import annotations

import html

from assistant.api import Assistant
from assistant.core.dates import parse_date
from assistant.core.errors import AssistantError
from assistant.core.models import Citation

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


def source_html(bot: Assistant, cite: str) -> str:
    """The viewer for "doc_id:start:end" (what a click on a quote sends), or why it cannot show."""
    parts = cite.rsplit(":", 2) if isinstance(cite, str) else []
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return '<div class="error">Cannot show that source: expected "doc_id:start:end".</div>'
    try:
        return document_html(bot, parts[0], int(parts[1]), int(parts[2]))
    except (ValueError, AssistantError) as exc:
        return f'<div class="error">Cannot show that source: {esc(str(exc))}</div>'


def span_class(prefix: str, c: Citation) -> str:
    """The class that makes an element open `c` in the viewer of the tab that owns `prefix`."""
    return f"{prefix}-{esc(c.doc_id)}-{c.start}-{c.end}"


def click_listener_js(prefix: str, button_id: str) -> str:
    """One delegated listener (for `demo.load`): a click on anything with the class
    "<prefix>-<doc_id>-<start>-<end>" keeps "doc_id:start:end" in `window.__<prefix>Cite` and
    clicks the tab's hidden button, so each tab's viewer is left to its own clicks."""
    return """() => { document.addEventListener("click", (event) => {
  const el = event.target.closest && event.target.closest("[class*='PREFIX-']");
  const m = el && String(el.getAttribute("class")).match(/\\bPREFIX-(\\w+)-(\\d+)-(\\d+)\\b/);
  if (!m) return;
  event.preventDefault();
  window.__PREFIXCite = `${m[1]}:${m[2]}:${m[3]}`;
  document.getElementById("BUTTON").click();
}); }""".replace("PREFIX", prefix).replace("BUTTON", button_id)


def cite_js(prefix: str) -> str:
    """The hidden button's input: the span the listener kept."""
    return f"(x) => [window.__{prefix}Cite || x]"


def scroll_js(viewer_id: str) -> str:
    """Scroll the marked span of the viewer `viewer_id` into view."""
    return f"""() => setTimeout(() => document.querySelector("#{viewer_id} mark")
  ?.scrollIntoView({{block: "center", behavior: "smooth"}}), 100)"""
