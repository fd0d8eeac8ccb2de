"""The eval: the golden data, the metric logic on hand-built answers, a real `none` run, and
the gate failing on deliberately broken assistants (a fault injection and a configuration).

Everything runs the real store, embedding model and extractive pipeline (llm="none"); the
local-LLM gate run is separate. Imports go through the submodules of `evals`.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS
from test_eval_gate import LOCAL_EVERY

from assistant import Answer, Assistant, Citation
from assistant.core.models import AnswerStream
from evals.dataset import DEFAULT_DATASET, Row, load_dataset
from evals.metrics import (
    Case,
    CitationPrecision,
    CitationRecall,
    CitationValidity,
    CorrectRefusal,
    FactAccuracy,
    OverRefusal,
    lexical_support,
    retrieval_rank,
    split_sentences,
)
from evals.runner import DEFAULT_THRESHOLDS, check_gate, load_thresholds, main, run_eval
from evals.suites import all_suites, golden_split
from evals.thresholds import sections

GOLDEN = load_dataset(DEFAULT_DATASET)
REFUSAL = "I can't answer that from the documents: none of them says it."


# --- the golden dataset -------------------------------------------------------------------
def test_golden_rows_are_complete_and_quote_the_corpus_verbatim() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    assert len(GOLDEN) >= 100 and len({r.id for r in GOLDEN}) == len(GOLDEN)
    for row in GOLDEN:
        if row.answerable:
            assert row.evidence and row.facts, row.id
        for quote in row.evidence:
            assert any(quote in text for text in texts), f"{row.id}: not verbatim: {quote!r}"
    assert any(not r.answerable for r in GOLDEN) and any(r.history for r in GOLDEN)


def test_every_corpus_quotes_its_documents_verbatim_as_extracted() -> None:
    """The rows' quotes (evidence, current, superseded, claims' evidence) are exact text of the
    documents as the extractors read them: a change in extraction that breaks one fails here,
    not silently in the citation metrics."""
    from assistant.index.documents import load_document

    for suite in all_suites():
        if suite.name.startswith("golden"):
            continue  # the seed corpus: the test above
        texts = [load_document(p, p.name).text for p in sorted(suite.docs.iterdir())
                 if p.suffix in (".txt", ".md", ".html", ".pdf", ".docx")]
        quotes = [(r.id, q) for r in suite.rows for q in (*r.evidence, *r.current, *r.superseded)]
        if suite.claims is not None:
            for line in suite.claims.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                quotes += [(row["id"], q) for c in row["claims"] for q in c.get("evidence", [])]
        missing = [i for i, q in quotes if not any(q in t for t in texts)]
        assert quotes and not missing, f"{suite.name}: not verbatim in {missing}"


def test_golden_references_pass_their_own_row_and_evidence_breaks_no_forbid() -> None:
    for row in GOLDEN:
        if not row.answerable:
            continue
        answer = _answer(row.reference)
        assert _score(FactAccuracy(), row, answer).value == 1, row.id
        quoted = _answer(" ".join(row.evidence))  # quoting the evidence is never forbidden
        assert "forbidden" not in " ".join(_score(FactAccuracy(), row, quoted).why), row.id


# --- malformed rows -----------------------------------------------------------------------
GOOD = {"id": "ok", "question": "Who?", "answerable": True, "facts": [["Microsoft"]],
        "evidence": ["Microsoft"]}


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": "x", "question": "Who?"', "not valid JSON"),
    (json.dumps({"id": "x", "question": "Who?"}), "missing key(s) answerable"),
    (json.dumps({**GOOD, "id": "x", "answerable": "yes"}), "answerable must be true or false"),
    (json.dumps({**GOOD, "id": "x", "facts": [["(unclosed"]]}), "not a valid regex"),
    (json.dumps({**GOOD, "id": "x", "fact": [["a"]]}), "unknown key(s) fact"),
    (json.dumps({**GOOD, "id": "x", "facts": []}), "needs at least one facts group"),
    (json.dumps({**GOOD, "id": "x", "facts": [[]]}), "facts group 1 must not be empty"),
    (json.dumps({**GOOD, "id": "x", "history": [{"role": "bot", "content": "hi"}]}),
     "history turn"),
    (json.dumps({**GOOD, "id": "x", "answerable": False}), "unanswerable row must have empty"),
    (json.dumps(GOOD), "duplicate id 'ok' (first on line 1)"),
    ("[1, 2]", "must be a JSON object"),
])
def test_malformed_rows_raise_naming_file_line_and_problem(tmp_path: Path, line: str,
                                                           message: str) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_dataset(path)
    assert f"{path}:3:" in str(caught.value) and message in str(caught.value)


def test_a_well_formed_own_dataset_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(
        {"id": "no", "question": "Capital of France?", "answerable": False}) + "\n")
    rows = load_dataset(path)
    assert [r.id for r in rows] == ["ok", "no"] and rows[1].forbid == [] and rows[0].history == []


# --- fact, forbid and refusal logic on hand-built answers ----------------------------------
def _answer(text: str, refused: bool = False, citations: list[Citation] | None = None) -> Answer:
    return Answer(question="q", text=text, citations=citations or [], refused=refused)


def _case(row: Row, answer: Answer, docs: dict[str, str] | None = None) -> Case:
    return Case(row, answer, (docs or {}).get, [], {"lexical": lexical_support})


def _score(metric: Any, row: Row, answer: Answer) -> Any:
    return metric.compute(_case(row, answer))


def _row(**fields: Any) -> Row:
    return Row(**{"id": "r", "question": "q", "answerable": True, **fields})


def test_facts_need_every_group_any_alternative_and_ignore_markers() -> None:
    row = _row(facts=[["\\$1 ?b(n|illion)?\\b", "one billion"], ["2019"]],
               forbid=["\\$10 ?b"])
    assert _score(FactAccuracy(), row, _answer("In 2019 Microsoft invested $1 billion [1].")
                  ).value == 1
    assert _score(FactAccuracy(), row, _answer("One billion dollars, in 2019 [2].")).value == 1
    missing = _score(FactAccuracy(), row, _answer("Microsoft invested $1 billion [1]."))
    assert missing.value == 0 and "fact missing: none of ['2019']" in missing.why
    forbidden = _score(FactAccuracy(), row, _answer("In 2019, $1 billion, later $10 billion."))
    assert forbidden.value == 0 and "forbidden claim" in forbidden.why[0]
    row = _row(facts=[["Texas\\.$"]])  # the [n] markers are gone before matching
    assert _score(FactAccuracy(), row, _answer("It is in Texas [1].")).value == 1


@pytest.mark.parametrize("text,quote,forbidden", [
    # the question's own words, quoted to deny them, are not claimed
    ("The sources found never say “Microsoft CEO Sam Altman”; they say: “OpenAI CEO Sam Altman spoke.” [1].",
     "OpenAI CEO Sam Altman spoke.", False),
    ("Microsoft CEO Sam Altman spoke [1].", "OpenAI CEO Sam Altman spoke.", True),
    # quoting the question's words is not a denial, nor is quoting words from nowhere
    ("“Microsoft CEO Sam Altman” praised the change [1].", "OpenAI CEO Sam Altman spoke.", True),
    ("He is the “Microsoft CEO Sam Altman of AI” [1].", "OpenAI CEO Sam Altman spoke.", True),
    # a cited source's sentence quoted whole is the source's, reported; a fragment of it is not
    ("They say: “Microsoft CEO Sam Altman, as some call him.” [1].", "Microsoft CEO Sam Altman, as some "
     "call him.", False),
    ("“Microsoft CEO Sam Altman” [1] spoke.", "Microsoft CEO Sam Altman, as some call him.", True),
])
def test_quoted_words_of_the_question_or_a_source_are_not_claims(text: str, quote: str,
                                                                 forbidden: bool) -> None:
    row = _row(question="What did Microsoft CEO Sam Altman say?", facts=[["Altman"]],
               forbid=["(?<!not )Microsoft CEO Sam Altman"])
    cited = [Citation(1, "d", "t", "s", quote, 0, len(quote), 1.0)]
    score = _score(FactAccuracy(), row, _answer(text, citations=cited))
    assert (score.value == 0) is forbidden, score.why


def test_a_denial_of_the_questions_words_needs_no_support_from_the_citation() -> None:
    """"never say “OpenAI end its partnership with Microsoft”" denies the question's words; the
    citation must support what the sentence says instead, not the words it denies."""
    quote = "While Microsoft and OpenAI maintain a close partnership, there have been signs of tension."
    row = _row(question="Why did OpenAI end its partnership with Microsoft?", facts=[["maintain"]])
    denial = (f"The sources found never say “OpenAI end its partnership with Microsoft”; they say: "
              f"“{quote}” [1].")
    for text, supported in ((denial, 1.0), (denial.replace("“OpenAI end", "“OpenAI ended"), 0.0)):
        case = _case(row, _answer(text, citations=[_cite(1, quote)]), {"doc": quote})
        assert CitationRecall("citation_recall", "lexical").compute(case).value == supported, text


def test_refusals_count_right_on_unanswerable_and_as_over_refusal_on_answerable() -> None:
    unanswerable = _row(answerable=False, forbid=["^\\W*OpenAI is owned by Google\\W*$"])
    assert _score(CorrectRefusal(), unanswerable, _answer(REFUSAL, refused=True)).value == 1
    answered = _score(CorrectRefusal(), unanswerable, _answer("OpenAI is owned by Google [1]."))
    assert answered.value == 0 and len(answered.why) == 2  # answered, and a forbidden claim
    assert _score(FactAccuracy(), unanswerable, _answer(REFUSAL, refused=True)) is None
    answerable = _row(facts=[["Texas"]])
    refused = _answer("Texas? " + REFUSAL, refused=True)
    assert _score(FactAccuracy(), answerable, refused).value == 0  # refused, even if it matches
    assert _score(OverRefusal(), answerable, refused).value == 1
    assert _score(OverRefusal(), answerable, _answer("Texas [1].")).value == 0
    assert _score(CorrectRefusal(), answerable, refused) is None


# --- citations: validity, lexical support, ALCE recall and precision ------------------------
def _cite(number: int, quote: str, start: int = 0, title: str = "Title") -> Citation:
    return Citation(number, "doc", title, "doc.txt", quote, start, start + len(quote), 0.9)


def test_citation_validity_compares_quote_with_the_document_span() -> None:
    doc = "Oracle’s stock surged by 7% following the announcement."
    good, shifted = _cite(1, doc[:27]), dataclasses.replace(_cite(2, doc[:27]), start=1, end=28)
    score = CitationValidity().compute(_case(_row(), _answer("x [1] [2].", citations=[good, shifted]),
                                             {"doc": doc}))
    assert (score.value, score.count) == (1, 2) and "citation [2]" in score.why[0]
    gone = CitationValidity().compute(_case(_row(), _answer("x [1].", citations=[good])))
    assert gone.value == 0 and "not in the store" in gone.why[0]


def test_lexical_support_needs_numbers_and_most_content_words() -> None:
    quote = "Oracle’s stock surged by 7% following the announcement of Stargate."
    assert lexical_support("Oracle's stock surged 7% after the Stargate announcement.", [quote])
    assert not lexical_support("Oracle's stock surged 9% after the announcement.", [quote])
    assert not lexical_support("Larry Ellison confirmed construction in Abilene, Texas.", [quote])
    assert not lexical_support("Oracle's stock surged by 7%.", [])
    assert lexical_support("Microsoft lost exclusivity.", ["Microsoft loses its exclusive role."])
    halves = ["Microsoft invested $1 billion.", "The investment came in 2019."]
    claim = "Microsoft invested $1 billion in 2019."
    assert lexical_support(claim, halves) and not lexical_support(claim, halves[:1])


def test_sentences_keep_their_markers_and_abbreviations_do_not_split() -> None:
    text = "The U.S. deal is big [1]. Oracle rose 7% [2, 3]. It’s in Texas."
    assert split_sentences(text) == ["The U.S. deal is big [1].", "Oracle rose 7% [2, 3].",
                                     "It’s in Texas."]


def test_a_source_quoted_whole_is_one_sentence_and_its_own_support() -> None:
    """An update's "Earlier, <title> said: “…”" quoting two sentences of a PDF, with a line
    break inside: it was split inside the quotation (an uncited half) and, its quote written
    on one line, not found in the answer (unsupported)."""
    quote = "Oracle opened the Austin site on 5 May.\nMore than 600 people came on the first day."
    text = ("Newest, “Notice” (3 March 2025): Oracle closed it [1]. Earlier, “Oracle news, "
            "version 2024.1” (7 October 2024) said: “Oracle opened the Austin site on 5 May. More "
            "than 600 people came on the first day.” [2].")
    assert len(split_sentences(text)) == 2
    assert split_sentences("He said “We closed it.” Then it reopened.") == [
        "He said “We closed it.”", "Then it reopened."]  # the quote ends with the sentence
    answer = _answer(text, citations=[
        dataclasses.replace(_cite(1, "Oracle closed it.", title="Notice"), published="2025-03-03"),
        dataclasses.replace(_cite(2, quote, 50, title="Oracle news, version 2024.1"),
                            published="2024-10-07")])
    recall = CitationRecall("r", "lexical").compute(_case(_row(), answer))
    assert (recall.value, recall.count) == (2, 2), recall.why


def test_alce_recall_and_precision_with_the_lexical_check() -> None:
    q1 = "Oracle’s stock surged by 7% following the announcement."
    q2 = "The first Stargate site is in Abilene, Texas."
    answer = _answer("Oracle's stock surged by 7% [1]. The first site is in Abilene, Texas [2, 1]. "
                     "Ellison confirmed it.", citations=[_cite(1, q1), _cite(2, q2, 100)])
    case = _case(_row(), answer)
    recall = CitationRecall("r", "lexical").compute(case)
    assert (recall.value, recall.count) == (2, 3)  # the uncited third sentence is unsupported
    precision = CitationPrecision("p", "lexical").compute(case)
    assert (precision.value, precision.count) == (2, 3)  # [1] is redundant in sentence 2
    assert precision.why == ("citation [1] of sentence 2 does not support it (lexical)",)
    refused = _case(_row(), _answer(REFUSAL, refused=True))
    assert CitationRecall("r", "lexical").compute(refused) is None


def test_retrieval_rank_finds_evidence_in_either_direction() -> None:
    assert retrieval_rank(["Abilene"], ["Texas", "site in Abilene, Texas"]) == 2
    assert retrieval_rank(["The first site, in Abilene, is big."], ["in Abilene"]) == 1
    assert retrieval_rank(["Abilene"], ["Texas"]) is None


# --- the gate -----------------------------------------------------------------------------
def test_gate_checks_minimums_maximums_and_rejects_unknown_metrics(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text("[none]\nfact_accuracy = 0.5\nover_refusal_max = 0.1\nmrr = 0.2\n")
    summary = {"metrics": {"fact_accuracy": 0.4, "over_refusal": 0.2, "mrr": None}}
    failures = check_gate(summary, "none", path)
    assert [f.split(" ")[0] for f in failures] == ["fact_accuracy", "over_refusal", "mrr:"]
    assert check_gate({"metrics": {"fact_accuracy": 0.5, "over_refusal": 0.1, "mrr": 0.3}},
                      "none", path) == []
    with pytest.raises(ValueError, match=r"no \[local\] section"):
        check_gate(summary, "local", path)
    path.write_text("[none]\nfact_acuracy = 0.5\n")
    with pytest.raises(ValueError, match="fact_acuracy: no such metric"):
        check_gate(summary, "none", path)


def test_a_sampled_run_is_gated_by_limits_measured_on_that_sample() -> None:
    """`--every 4` figures are not the full set's: their limits are `[local-every4.<suite>]`,
    and every suite the sampled gate of `make test` asks has one."""
    combined = {"backend": "local", "every": LOCAL_EVERY, "created": "2026-12-06T00:00:00",
                "suites": {"software": {"questions": 25, "split": "dev",
                                        "metrics": {"fact_accuracy": 0.5}, "counts": {}}}}
    assert sections(combined).startswith(f"[local-every{LOCAL_EVERY}.software]  # 25 questions, dev")
    assert sections({**combined, "every": 1}).startswith("[local.software]")
    for suite in all_suites():
        assert load_thresholds(f"local-every{LOCAL_EVERY}.{suite.name}")["fact_accuracy"] > 0


class ShiftedCitations:
    """Fault injection: the real assistant, but every citation's span is one character later."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)

    @staticmethod
    def shift(answer: Answer) -> Answer:
        cites = [dataclasses.replace(c, start=c.start + 1, end=c.end + 1) for c in answer.citations]
        return dataclasses.replace(answer, citations=cites)

    def ask(self, question: str, history: list[dict[str, str]] | None = None,
            as_of: str | None = None) -> Answer:
        return self.shift(self.bot.ask(question, history, as_of=as_of))

    def stream(self, question: str, history: list[dict[str, str]] | None = None) -> AnswerStream:
        inner = self.bot.stream(question, history)
        outer = AnswerStream(iter(()))

        def deltas() -> Iterator[str]:
            yield from inner
            assert inner.answer is not None
            outer.answer = self.shift(inner.answer)

        outer._deltas = deltas()
        return outer


def _failing(failures: list[str], metric: str) -> list[str]:
    return [f for f in failures if f.startswith(metric)]


def test_gate_fails_when_citations_are_shifted_by_one_character(corpus_bot: Assistant) -> None:
    rows = [r for r in GOLDEN if "single-fact" in r.tags][:6]
    healthy = run_eval(corpus_bot, rows)
    assert healthy["metrics"]["citation_validity"] == 1.0 and healthy["counts"]["citation_validity"]
    assert not _failing(check_gate(healthy, "none.golden-dev", DEFAULT_THRESHOLDS), "citation_validity")
    broken = run_eval(ShiftedCitations(corpus_bot), rows)  # type: ignore[arg-type]
    assert broken["metrics"]["citation_validity"] < 1.0
    assert _failing(check_gate(broken, "none.golden-dev", DEFAULT_THRESHOLDS), "citation_validity")


class NeverRefuses(ShiftedCitations):
    """Fault injection: the real assistant with refusal taken out. Where it would refuse, it
    answers with the best-matching retrieved sentence, correctly cited, as naive RAG does."""

    @staticmethod
    def shift(answer: Answer) -> Answer:
        return answer

    def ask(self, question: str, history: list[dict[str, str]] | None = None,
            as_of: str | None = None) -> Answer:
        answer = self.bot.ask(question, history, as_of=as_of)
        if not answer.refused:
            return answer
        hit = self.bot.search(question, k=1)[0]
        end = hit.text.find(". ") + 1 or len(hit.text)
        cite = Citation(1, hit.doc_id, hit.title, hit.source, hit.text[:end], hit.start,
                        hit.start + end, hit.score)
        return dataclasses.replace(answer, text=f"{cite.quote} [1]", citations=[cite],
                                   refused=False)

    def stream(self, question: str, history: list[dict[str, str]] | None = None) -> AnswerStream:
        answer = self.ask(question, history)
        stream = AnswerStream(iter([answer.text]))
        stream.answer = answer
        return stream


def test_gate_fails_when_refusal_is_taken_out(corpus_bot: Assistant) -> None:
    # correct_refusal counts only unanswerable rows; the [none.golden-dev] gate holds for dev's
    rows = [r for r in GOLDEN if not r.answerable and golden_split(r.id) == "dev"]
    healthy = run_eval(corpus_bot, rows)
    assert not _failing(check_gate(healthy, "none.golden-dev", DEFAULT_THRESHOLDS), "correct_refusal"), (
        "the real assistant misses the [none.golden-dev] correct_refusal minimum")
    broken = run_eval(NeverRefuses(corpus_bot), rows)  # type: ignore[arg-type]
    assert broken["metrics"]["correct_refusal"] == 0.0
    assert broken["metrics"]["citation_validity"] == 1.0  # only the refusals are broken
    assert _failing(check_gate(broken, "none.golden-dev", DEFAULT_THRESHOLDS), "correct_refusal")


# --- the command, end to end --------------------------------------------------------------
def test_eval_command_writes_the_report_links_latest_and_compares(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    dev = [r for r in GOLDEN if golden_split(r.id) == "dev"]
    assert main(["--llm", "none", "--suite", "golden-dev", "--limit", "3", "--out", str(first)]) == 0
    for name in ("summary.json", "rows.jsonl", "report.html", "report.md", "metrics.png",
                 "latency.png"):
        assert (first / "golden-dev" / name).stat().st_size > 0, name
    page = (first / "golden-dev" / "report.html").read_text(encoding="utf-8")
    assert all(html.escape(r.question) in page for r in dev[:3])
    assert "data:image/png;base64," in page
    rows = [json.loads(line) for line in (first / "golden-dev" / "rows.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [r.id for r in dev[:3]]
    combined = json.loads((first / "summary.json").read_text())
    assert combined["suites"]["golden-dev"]["questions"] == 3 and list(combined["suites"]) == ["golden-dev"]
    capsys.readouterr()
    # the default folder is linked as latest; three answerable rows measure no refusals,
    # so the [none.golden-dev] gate fails on correct_refusal ("not measured") and exits 1
    assert main(["--llm", "none", "--suite", "golden-dev", "--limit", "3", "--compare", str(first),
                 "--gate"]) == 1
    out = capsys.readouterr().out
    assert f"Compared with {first / 'golden-dev'}" in out and "correct_refusal: not measured" in out
    assert (tmp_path / "data" / "eval" / "latest" / "summary.json").exists()
