"""The web UI's "Check a claim" tab: paste a statement, see each claim marked by its verdict.

Each claim is highlighted in the colour of its verdict; it and each of its quotes are clickable
and open the source viewer beside it with the deciding span marked (`viewer.document_html`, the
chat's viewer). A click on anything with a class "check-<doc_id>-<start>-<end>" goes to this
tab's own hidden button, so the chat's citation listener and viewer are left alone. Every
statement, quote and reason is HTML-escaped. Not here: deciding verdicts (`claims.py`).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.core.errors import AssistantError
from assistant.core.models import Citation, ClaimCheck, ClaimVerdict
from assistant.surfaces.viewer import cite_js, click_listener_js, scroll_js, source_html, span_class

if TYPE_CHECKING:
    from assistant.api import Assistant

esc = html.escape
COLOURS = {"supported": "#d3f2d9", "contradicted": "#f8d0d0", "partly supported": "#fbecc2",
           "not in the documents": "#e3e3e3"}
LISTENER_JS = click_listener_js("check", "check-go")
SCROLL_JS = scroll_js("check-viewer")


def _target(c: Citation) -> str:
    return span_class("check", c)


def _quote(label: str, c: Citation) -> str:
    return (f'<li><span class="label">{esc(label)}</span> <a href="#" class="quote {_target(c)}">'
            f"“{esc(c.quote)}”</a> <small>{esc(c.title)}</small></li>")


def _deciding(v: ClaimVerdict) -> Citation | None:
    return v.contradiction if v.verdict == "contradicted" else next(iter(v.citations), None)


def check_html(result: ClaimCheck) -> str:
    """The statement with each claim highlighted by verdict, then each claim's evidence."""
    text, parts, at = result.statement, [], 0
    for i, v in enumerate(result.claims, 1):
        link = _deciding(v)
        parts.append(esc(text[at:v.start]))
        parts.append(f'<a href="#" class="claim verdict-{v.verdict.replace(" ", "-")} '
                     f'{_target(link) if link else ""}" title="{esc(v.verdict)}" '
                     f'style="background:{COLOURS[v.verdict]};color:inherit;padding:1px 2px">'
                     f"{esc(text[v.start:v.end])}<sup>{i}</sup></a>")
        at = v.end
    parts.append(esc(text[at:]))
    items = []
    for v in result.claims:
        quotes = [_quote("cites", c) for c in v.citations]
        quotes += [_quote("says otherwise", v.contradiction)] if v.contradiction else []
        quotes += [_quote("sources differ", c) for c in v.conflict or ()]
        part = f"<div>Supported part: “{esc(v.supported_part)}”</div>" if v.supported_part else ""
        items.append(f'<li class="claim-result"><b class="verdict" style="background:'
                     f'{COLOURS[v.verdict]}">{esc(v.verdict)}</b> {esc(v.claim)}'
                     f"<div><small>{esc(v.reason)}</small></div>{part}<ul>{''.join(quotes)}</ul></li>")
    return (f'<div class="checked">{"".join(parts)}</div>'
            f'<ol class="claim-results">{"".join(items)}</ol>')


def build_check_tab(bot: Assistant, demo: gr.Blocks, busy: dict[str, Any] | None = None) -> None:
    """Add the "Check a claim" tab to `demo` (call inside its `with gr.Blocks()` block)."""

    def check(statement: str) -> str:
        try:
            return check_html(bot.check(statement))
        except AssistantError as exc:
            return f'<div class="error">{esc(str(exc))}</div>'

    with gr.Tab("Check a claim"), gr.Row():
        with gr.Column(scale=3):
            statement = gr.Textbox(label="Statement to check", lines=4, elem_id="claim-input",
                                   placeholder="Paste one or more claims, e.g. “Microsoft lost "
                                               "all its exclusivity.”")
            run = gr.Button("Check", variant="primary", elem_id="check")
            result = gr.HTML(elem_id="check-result")
        with gr.Column(scale=2):
            viewer = gr.HTML("<p>Click a claim or a quote to see it in its document.</p>",
                             elem_id="check-viewer")
        cite_box = gr.Textbox(visible="hidden", elem_id="check-box")
        cite_go = gr.Button(visible="hidden", elem_id="check-go")
    run.click(check, statement, result, api_name="check", **(busy or {}))
    statement.submit(check, statement, result, api_visibility="private", **(busy or {}))
    cite_go.click(lambda cite: source_html(bot, cite), cite_box, viewer, js=cite_js("check"),
                  api_visibility="private").then(None, js=SCROLL_JS)
    demo.load(None, js=LISTENER_JS, api_visibility="private")
