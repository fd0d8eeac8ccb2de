"""The web UI's "Timeline" tab: the dated events of the documents, oldest first.

An optional topic narrows the events to the text retrieved for it, an optional "as of" date to
the documents published by then. Each event (its date as the text gives it, the sentence, the
document) is clickable and opens the source viewer beside it with the sentence marked
(`viewer.document_html`, the chat's viewer). A click on anything with a class
"tl-<doc_id>-<start>-<end>" goes to this tab's own hidden button, so the other tabs' listeners
and viewers are left alone. Every quote and title is HTML-escaped. The events load when the
tab is opened. Not here: finding events (`Assistant.timeline`).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr

from assistant.core.errors import AssistantError
from assistant.core.models import Citation, TimelineEvent
from assistant.surfaces.viewer import (
    cite_js,
    click_listener_js,
    date_label,
    scroll_js,
    source_html,
    span_class,
)

if TYPE_CHECKING:
    from assistant.api import Assistant

esc = html.escape
LISTENER_JS = click_listener_js("tl", "timeline-go")
SCROLL_JS = scroll_js("timeline-viewer")


def _target(c: Citation) -> str:
    return span_class("tl", c)


def timeline_html(events: list[TimelineEvent], as_of: str = "") -> str:
    """One clickable row per event: its date, the sentence that gives it, its document."""
    if not events:
        return f'<p class="timeline-empty">No dated events{" as of " + esc(as_of) if as_of else ""}.</p>'
    rows = []
    for e in events:
        c = e.citation
        kind = ('<span class="kind">document published</span>' if e.kind == "published" else "")
        rows.append(f'<li><a href="#" class="event {_target(c)}" title="Show it in its document">'
                    f'<span class="when">{esc(e.label)}</span>{kind} '
                    f'<span class="quote">“{esc(c.quote)}”</span></a> '
                    f"<small>{esc(c.title)} · {esc(date_label(c.published))}</small></li>")
    return f'<ol class="timeline">{"".join(rows)}</ol>'


def build_timeline_tab(bot: Assistant, demo: gr.Blocks) -> None:
    """Add the "Timeline" tab to `demo` (call inside its `with gr.Blocks()` block)."""

    def show_events(topic: str, as_of: str) -> str:
        about = (topic.strip() or None) if isinstance(topic, str) else topic
        dated = (as_of.strip() or None) if isinstance(as_of, str) else as_of  # else the API says why
        try:
            events = bot.timeline(about, as_of=dated)
        except AssistantError as exc:
            return f'<div class="error">{esc(str(exc))}</div>'
        return timeline_html(events, dated or "")

    with gr.Tab("Timeline") as tab, gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                topic = gr.Textbox(label="Topic (optional)", elem_id="timeline-topic", scale=3,
                                   placeholder="e.g. Oracle; empty: every dated event")
                as_of = gr.Textbox(label="As of (optional date)", elem_id="timeline-as-of",
                                   scale=2, placeholder="e.g. 2024-12-31")
            run = gr.Button("Show timeline", variant="primary", elem_id="timeline-run")
            events = gr.HTML(elem_id="timeline-events")
        with gr.Column(scale=2):
            viewer = gr.HTML("<p>Click an event to see it in its document.</p>",
                             elem_id="timeline-viewer")
        cite_box = gr.Textbox(visible="hidden", elem_id="timeline-box")
        cite_go = gr.Button(visible="hidden", elem_id="timeline-go")
    run.click(show_events, [topic, as_of], events, api_name="timeline")
    topic.submit(show_events, [topic, as_of], events, api_visibility="private")
    as_of.submit(show_events, [topic, as_of], events, api_visibility="private")
    tab.select(show_events, [topic, as_of], events, api_visibility="private")
    cite_go.click(lambda cite: source_html(bot, cite), cite_box, viewer, js=cite_js("tl"),
                  api_visibility="private").then(None, js=SCROLL_JS)
    demo.load(None, js=LISTENER_JS, api_visibility="private")
