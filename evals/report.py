"""The files of a run, the printed summary, and the comparison of two runs.

A run folder holds summary.json, rows.jsonl, report.md, report.html (self-contained: the
charts are embedded as base64 PNGs, every piece of text goes through html.escape) and the
charts as metrics.png and latency.png for a UI to show. Not here: computing any metric.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

CHART_METRICS = ["fact_accuracy", "correct_refusal", "citation_recall", "citation_precision",
                 "answer_relevance", "hit_at_k"]
LOWER_IS_BETTER = ("over_refusal", "latency_")


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _charts(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, bytes]:
    """metrics.png (chart metrics overall and by tag) and latency.png (histograms)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {"all": summary["metrics"], **summary["by_tag"]}
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.45 * len(groups) * 1.6))
    height = 0.8 / len(CHART_METRICS)
    for i, name in enumerate(CHART_METRICS):
        values = [groups[g].get(name) for g in groups]
        ax.barh([k + i * height for k in range(len(groups))],
                [float("nan") if v is None else v for v in values], height, label=name)
    ax.set_yticks([k + 0.4 - height / 2 for k in range(len(groups))], list(groups))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title(f"Metrics by tag ({summary['backend']})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05), ncol=3, fontsize="small")
    fig.tight_layout()
    charts = {}
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    charts["metrics.png"] = buffer.getvalue()
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    series = {key: [r["timings"][key] for r in records if key in r["timings"]]
              for key in ("total_s", "first_sentence_s")}
    everything = [v for values in series.values() for v in values] or [0.0]
    bins = list(np.linspace(0, max(everything) or 1.0, 21))
    for key, values in series.items():
        if values:
            ax.hist(values, bins=bins, alpha=0.6, label=key)
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title(f"Answer latency ({summary['backend']})")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    charts["latency.png"] = buffer.getvalue()
    plt.close(fig)
    return charts


def crosscheck_table(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(row, eval's figure, llama-index RetrieverEvaluator's figure); [] for runs without it."""
    check = summary.get("retrieval_crosscheck")
    if not check:
        return []
    metrics, counts = summary["metrics"], summary["counts"]
    return [(f"hit rate @{check['k']}", _fmt(metrics.get("hit_at_k")), _fmt(check["hit_rate"])),
            ("MRR", _fmt(metrics.get("mrr")), _fmt(check["mrr"])),
            ("questions scored", str(counts.get("hit_at_k", "")), str(check["questions"])),
            ("disagreements not explained by the definitions", "",
             str(len(check["disagreements"])))]


CROSSCHECK_NOTE = ("eval: a hit is a retrieved chunk containing (or inside) an evidence quote; "
                   "llama-index: relevant ids are the chunks (among the top {depth}) containing "
                   "one. Definitions in evals/crosscheck.py.")


def format_summary(summary: dict[str, Any]) -> str:
    """The overall metrics as a plain-text table, then the main ones by tag."""
    lines = [f"Eval: {summary['questions']} questions, backend {summary['backend']} "
             f"({summary['model']}), {summary['failed_questions']} with a failure",
             f"{'metric':<32}{'value':>8}{'n':>6}"]
    for name, value in summary["metrics"].items():
        n = summary["counts"].get(name, "")
        lines.append(f"{name:<32}{_fmt(value):>8}{n:>6}")
    short = ["fact_accuracy", "correct_refusal", "citation_recall", "hit_at_k"]
    lines += ["", f"{'tag':<24}{'n':>4}" + "".join(f"{s[:14]:>16}" for s in short)]
    for tag, values in summary["by_tag"].items():
        lines.append(f"{tag:<24}{values['questions']:>4}"
                     + "".join(f"{_fmt(values.get(s)):>16}" for s in short))
    if table := crosscheck_table(summary):
        lines += ["", f"{'retrieval cross-check':<48}{'eval':>8}{'llama-index':>13}"]
        lines += [f"{name:<48}{ours:>8}{theirs:>13}" for name, ours, theirs in table]
        lines += [f"  {d}" for d in summary["retrieval_crosscheck"]["disagreements"]]
    return "\n".join(lines)


def _markdown(summary: dict[str, Any], records: list[dict[str, Any]]) -> str:
    names = list(summary["metrics"])
    out = [f"# Eval report — {summary['backend']} ({summary['model']}), {summary['created']}", "",
           f"{summary['questions']} questions, {summary['failed_questions']} with a failure.", "",
           "| metric | value | n |", "|---|---:|---:|"]
    out += [f"| {n} | {_fmt(summary['metrics'][n])} | {summary['counts'].get(n, '')} |"
            for n in names]
    tag_names = [n for n in names if not n.startswith("latency_")]
    out += ["", "## By tag", "", "| tag | n | " + " | ".join(tag_names) + " |",
            "|---|---:|" + "---:|" * len(tag_names)]
    out += [f"| {t} | {v['questions']} | " + " | ".join(_fmt(v.get(n)) for n in tag_names) + " |"
            for t, v in summary["by_tag"].items()]
    if table := crosscheck_table(summary):
        check = summary["retrieval_crosscheck"]
        out += ["", "## Retrieval cross-check", "",
                "The eval's own retrieval metrics next to llama-index's `RetrieverEvaluator` "
                "(hit_rate, MRR) on `Assistant.as_retriever()`, same queries. "
                + CROSSCHECK_NOTE.format(depth=check["depth"]), "",
                "| | eval (hit_at_k, mrr) | llama-index RetrieverEvaluator |", "|---|---:|---:|"]
        out += [f"| {name} | {ours} | {theirs} |" for name, ours, theirs in table]
        out += [f"- {d}" for d in check["disagreements"]]
    out += ["", "![metrics](metrics.png)", "", "![latency](latency.png)", "", "## Failures", ""]
    for r in records:
        if r["failures"]:
            reasons = "; ".join(f.replace("|", "\\|") for f in r["failures"])
            out.append(f"- **{r['id']}**: {reasons}")
    return "\n".join(out) + "\n"


_CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{text-align:left}tr.fail{background:#fff0f0}.num{text-align:right}small{color:#666}
blockquote{margin:2px 0 2px 1em}"""


def _html(summary: dict[str, Any], records: list[dict[str, Any]], charts: dict[str, bytes]) -> str:
    e = html.escape
    title = e(f"Eval report — {summary['backend']} ({summary['model']}), {summary['created']}")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
             f"<style>{_CSS}</style></head><body><h1>{title}</h1>",
             f"<p>{summary['questions']} questions, {summary['failed_questions']} with a failure."
             "</p><table><tr><th>metric</th><th>value</th><th>n</th></tr>"]
    parts += [f"<tr><td>{e(n)}</td><td class='num'>{e(_fmt(v))}</td>"
              f"<td class='num'>{e(str(summary['counts'].get(n, '')))}</td></tr>"
              for n, v in summary["metrics"].items()]
    parts.append("</table>")
    if table := crosscheck_table(summary):
        check = summary["retrieval_crosscheck"]
        parts.append("<h2>Retrieval cross-check</h2><p>The eval's own retrieval metrics next to "
                     "llama-index's <code>RetrieverEvaluator</code> on <code>Assistant.as_retriever()"
                     f"</code>, same queries. {e(CROSSCHECK_NOTE.format(depth=check['depth']))}</p>"
                     "<table><tr><th></th><th>eval</th><th>llama-index</th></tr>")
        parts += [f"<tr><td>{e(name)}</td><td class='num'>{e(ours)}</td>"
                  f"<td class='num'>{e(theirs)}</td></tr>" for name, ours, theirs in table]
        parts.append("</table>" + "".join(f"<p>{e(d)}</p>" for d in check["disagreements"]))
    for name, png in charts.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<p><img alt='{e(name)}' src='data:image/png;base64,{data}'></p>")
    parts.append("<h2>Questions</h2><table><tr><th>id</th><th>question</th><th>answer</th>"
                 "<th>citations</th><th>what failed</th></tr>")
    for r in records:
        cites = "".join(
            f"<blockquote>[{c['number']}] {e(c['title'])} ({e(c['doc_id'])} {c['start']}-"
            f"{c['end']}){'' if c['valid'] else ' <b>INVALID</b>'}<br>“{e(c['quote'])}”"
            "</blockquote>" for c in r["citations"])
        failed = "<br>".join(e(f) for f in r["failures"]) or "—"
        parts.append(
            f"<tr class='{'fail' if r['failures'] else 'pass'}'><td>{e(r['id'])}<br><small>"
            f"{e(', '.join(r['tags']))}</small></td><td>{e(r['question'])}</td>"
            f"<td>{e(r['answer'])}</td><td>{cites}</td><td>{failed}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(out_dir: Path, summary: dict[str, Any], records: list[dict[str, Any]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False,
                                                     default=str) + "\n", encoding="utf-8")
    with (out_dir / "rows.jsonl").open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    charts = _charts(summary, records)
    for name, png in charts.items():
        (out_dir / name).write_bytes(png)
    (out_dir / "report.md").write_text(_markdown(summary, records), encoding="utf-8")
    (out_dir / "report.html").write_text(_html(summary, records, charts), encoding="utf-8")


def link_latest(out_dir: Path) -> None:
    """Point <out_dir's parent>/latest at out_dir: a relative symlink, or a copy without them."""
    latest = out_dir.parent / "latest"
    if latest.is_dir() and not latest.is_symlink():
        shutil.rmtree(latest)
    temp = out_dir.parent / f".latest-{os.getpid()}"
    try:
        temp.symlink_to(out_dir.name, target_is_directory=True)
        os.replace(temp, latest)
    except OSError:
        temp.unlink(missing_ok=True)
        latest.unlink(missing_ok=True)
        shutil.copytree(out_dir, latest)


def compare_runs(old_dir: Path, summary: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """Per question what got better or worse since the run in old_dir, then metric deltas."""
    try:
        old_summary = json.loads((old_dir / "summary.json").read_text(encoding="utf-8"))
        lines = (old_dir / "rows.jsonl").read_text(encoding="utf-8").splitlines()
        old = {r["id"]: r for r in map(json.loads, filter(None, lines))}
    except (OSError, ValueError) as exc:
        raise ValueError(f"--compare {old_dir}: not a run folder ({exc})") from None
    better: list[str] = []
    worse: list[str] = []
    for r in records:
        before = old.get(r["id"])
        if before is None:
            continue
        for name, label in (("fact_accuracy", "fact"), ("correct_refusal", "refusal")):
            a, b = before["metrics"].get(name), r["metrics"].get(name)
            if a is not None and b is not None and a != b:
                change = f"{r['id']}: {label} {'pass' if a else 'fail'} → {'pass' if b else 'fail'}"
                (better if b > a else worse).append(change)
        if before["refused"] != r["refused"]:
            change = f"{r['id']}: {'now refuses' if r['refused'] else 'now answers'}"
            (worse if r["refused"] == r["answerable"] else better).append(change)
    new_ids = {r["id"] for r in records}
    out = [f"Compared with {old_dir} ({old_summary.get('backend')}, {old_summary.get('created')}):",
           f"Better ({len(better)}):", *(f"  + {c}" for c in better),
           f"Worse ({len(worse)}):", *(f"  - {c}" for c in worse)]
    if set(old) - new_ids or new_ids - set(old):
        out.append(f"Only in the old run: {len(set(old) - new_ids)}; only in this run: "
                   f"{len(new_ids - set(old))}")
    out += ["", f"{'metric':<32}{'old':>8}{'new':>8}{'delta':>16}"]
    for name, value in summary["metrics"].items():
        prev = old_summary.get("metrics", {}).get(name)
        delta = "" if value is None or prev is None else f"{value - prev:+.3f}"
        if delta and float(delta) != 0:
            good = (float(delta) < 0) == name.startswith(LOWER_IS_BETTER)
            delta += " better" if good else " worse"
        out.append(f"{name:<32}{_fmt(prev):>8}{_fmt(value):>8}{delta:>16}")
    return "\n".join(out)


# --- a run over several suites ---------------------------------------------------------------
SUITE_COLUMNS = ["fact_accuracy", "correct_refusal", "over_refusal", "citation_precision",
                 "answer_relevance", "update_lead", "update_both", "as_of_respected",
                 "opposite_of_quote", "latency_total_s_median"]


def _suite_table(combined: dict[str, Any]) -> list[list[str]]:
    """Header and one row per suite: its split, questions and main metrics."""
    rows = [["suite", "split", "n", *SUITE_COLUMNS]]
    for name, s in combined["suites"].items():
        rows.append([name, s["split"], str(s["questions"]),
                     *(_fmt(s["metrics"].get(m)) for m in SUITE_COLUMNS)])
    return rows


def format_combined(combined: dict[str, Any]) -> str:
    """One row per suite (backend in the title), then each suite's main metrics by tag."""
    short = ["fact_accuracy", "correct_refusal", "hit_at_k"]
    lines = [f"Eval, backend {combined['backend']} ({combined['model']})"]
    table = _suite_table(combined)
    widths = [max(len(r[i]) for r in table) + 2 for i in range(len(table[0]))]
    lines += ["".join(cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w)
                      in enumerate(zip(row, widths, strict=True))) for row in table]
    for name, s in combined["suites"].items():
        lines += ["", f"{name} by tag{'':<14}{'n':>4}" + "".join(f"{m[:14]:>16}" for m in short)]
        for tag, values in s["by_tag"].items():
            lines.append(f"  {tag:<28}{values['questions']:>4}"
                         + "".join(f"{_fmt(values.get(m)):>16}" for m in short))
    return "\n".join(lines)


def write_combined(out_dir: Path, combined: dict[str, Any]) -> None:
    """summary.json (every suite's figures) and report.md (the suite table) of a whole run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(combined, indent=2, ensure_ascii=False,
                                                     default=str) + "\n", encoding="utf-8")
    table = _suite_table(combined)
    lines = [f"# Eval — {combined['backend']} ({combined['model']}), {combined['created']}", "",
             "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
    lines += ["", "Each suite's report: `<suite>/report.html`."]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def compare_combined(old_dir: Path, out_dir: Path, combined: dict[str, Any]) -> str:
    """`compare_runs` for each suite in both runs; question by question only on dev suites
    (test suites are reported, never read row by row)."""
    out = []
    for name, s in combined["suites"].items():
        old = old_dir / name
        if not (old / "summary.json").is_file():
            continue
        lines = (out_dir / name / "rows.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        text = compare_runs(old, {**s, "backend": combined["backend"]}, records)
        if s["split"] != "dev":
            text = text[text.index("\n\n") + 2:] if "\n\n" in text else ""
        out.append(f"== {name} ({s['split']})\n{text}")
    return "\n\n".join(out) or f"Nothing to compare: {old_dir} holds none of these suites."
