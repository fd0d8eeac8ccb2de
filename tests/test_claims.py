"""Claim checking: the splitter and each deterministic check table-driven, the checker over the
real corpus (extractive), the golden claims set and its gate, the CLI, the local model (slow)
and the "Check a claim" tab in a real Chromium (browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CORPUS, running_ui

from assistant import Assistant
from assistant.answer.claims import (
    ClaimChecker,
    _Decision,
    claim_text,
    holds,
    names,
    negated_words,
    number_clash,
    party_clash,
    polarity_clash,
    split_claims,
    stated_numbers,
)
from assistant.answer.evidence import Evidence
from assistant.core.errors import QuestionError
from evals.claims import DATASET, load_claims, main


def evidence(text: str, relevance: float = 0.7, context: str = "", doc: str = "doc",
             start: int = 0) -> Evidence:
    return Evidence(1, doc, "Title", f"{doc}.txt", text, start, start + len(text), relevance,
                    context)


# --- splitting ------------------------------------------------------------------------------
@pytest.mark.parametrize("statement,claims", [
    ("Microsoft lost all its exclusivity.", ["Microsoft lost all its exclusivity."]),
    ("Oracle's stock rose 7%. Google is a partner in Stargate.",
     ["Oracle's stock rose 7%.", "Google is a partner in Stargate."]),
    ("Microsoft invested $1 billion in 2019 and Oracle joined as a partner in 2023.",
     ["Microsoft invested $1 billion in 2019", "Oracle joined as a partner in 2023."]),
    ("The site is in Abilene, but Stargate will invest $50 billion in AI.",
     ["The site is in Abilene", "Stargate will invest $50 billion in AI."]),
    ("Microsoft keeps a right of first refusal; OpenAI may seek rival providers.",
     ["Microsoft keeps a right of first refusal", "OpenAI may seek rival providers."]),
    # a list of names, or a clause too short to be a claim, is not split
    ("Stargate is a venture between OpenAI, Oracle and SoftBank.",
     ["Stargate is a venture between OpenAI, Oracle and SoftBank."]),
    ("Revenue sharing and API exclusivity continue through 2030.",
     ["Revenue sharing and API exclusivity continue through 2030."]),
    ("", []),
])
def test_split_claims(statement: str, claims: list[str]) -> None:
    spans = split_claims(statement)
    assert [statement[s:e] for s, e in spans] == claims
    assert split_claims(statement) == spans  # deterministic


def test_a_clause_without_its_own_subject_borrows_the_sentence_s_first_name() -> None:
    statement = "Microsoft retains a right of first refusal and keeps API exclusivity."
    (s1, e1), (s2, e2) = split_claims(statement)
    assert claim_text(statement, s1, e1) == "Microsoft retains a right of first refusal"
    assert claim_text(statement, s2, e2) == "Microsoft keeps API exclusivity"


# --- the deterministic checks ---------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("Stargate will invest up to $500 billion.", {"500": ("billion", "to")}),
    ("Oracle’s stock surged by 7% following it.", {"7": ("%", "by")}),
    ("It began in 2019, with a $1 billion investment.", {"2019": ("year", "in"),
                                                         "1": ("billion", "a")}),
    ("10 buildings under development", {"10": ("building", "")}),
    ("No numbers here.", {}),
])
def test_stated_numbers(text: str, expected: dict[str, tuple[str, str]]) -> None:
    assert stated_numbers(text) == expected


@pytest.mark.parametrize("claim,sentence,clash", [
    ("Stargate will invest $50 billion.", "The initiative aims to invest up to $500 billion.",
     "the claim says 50, the source says 500"),
    ("Microsoft first invested in 2021.", "The role began in 2019, with a $1 billion investment.",
     "the claim says 2021, the source says 2019"),
    ("Oracle plans to expand to 50 sites.", "It plans to expand to 20 across locations.",
     "the claim says 50, the source says 20"),
    ("Oracle’s stock rose 7%.", "Oracle’s stock surged by 7% following the announcement.", ""),
    # different units are different things: 10 buildings do not contradict $1 billion
    ("Microsoft invested $1 billion.", "There are 10 buildings under development.", ""),
])
def test_number_clash(claim: str, sentence: str, clash: str) -> None:
    assert number_clash(claim, evidence(sentence)) == clash


@pytest.mark.parametrize("claim,sentence,clash", [
    ("Oracle is the largest investor in OpenAI.",
     "Microsoft, the largest investor in OpenAI, has relinquished its role.",
     "the source names Microsoft, not Oracle"),
    ("SoftBank Chairman Larry Ellison confirmed that construction has begun.",
     "At a White House press conference, Oracle Chairman Larry Ellison confirmed that "
     "construction has begun.", "the source names Oracle, not Softbank"),
    # a place the sentence does not give is not another party's place
    ("Oracle is building data centers in Abilene.",
     "At a White House press conference, Oracle confirmed that data centers are being built.", ""),
    ("Microsoft is the largest investor in OpenAI.",
     "Microsoft, the largest investor in OpenAI, has relinquished its role.", ""),
    # a sentence not about the claim's point says nothing about its parties
    ("Oracle is the largest investor in OpenAI.", "Microsoft joined Azure in July.", ""),
    # sentence openers and the acronym "AI" are not parties
    ("Microsoft will lose access if OpenAI develops AGI.",
     "However, if OpenAI develops artificial general intelligence (AGI), Microsoft will lose "
     "access to the company’s technology.", ""),
])
def test_party_clash(claim: str, sentence: str, clash: str) -> None:
    assert party_clash(claim, evidence(sentence)) == clash


@pytest.mark.parametrize("claim,sentence,clash", [
    ("Microsoft is still OpenAI's exclusive cloud provider.",
     "Microsoft is no longer the exclusive cloud provider for OpenAI.", True),
    ("Microsoft is no longer OpenAI's exclusive cloud provider.",
     "Microsoft is no longer the exclusive cloud provider for OpenAI.", False),
    ("Microsoft has given up its role as exclusive provider.",
     "Microsoft has relinquished its role as the exclusive provider.", False),
    # a negation elsewhere in the sentence is about something else
    ("Microsoft keeps a right of first refusal on new capacity.",
     "Microsoft will retain a right of first refusal for capacity but will no longer hold "
     "exclusivity.", False),
    ("Microsoft will no longer retain a right of first refusal.",
     "Microsoft will retain a right of first refusal for additional capacity.", True),
])
def test_polarity_clash(claim: str, sentence: str, clash: bool) -> None:
    assert polarity_clash(claim, sentence) is clash


def test_negated_words_and_names() -> None:
    assert {"exclus", "cloud", "provider"} <= negated_words("no longer the exclusive cloud provider")
    assert names("Oracle is the largest investor in OpenAI.") == {"oracle", "openai"}
    assert names("However, buildings rose.") == set()


@pytest.mark.parametrize("claim,quote,held", [
    ("Oracle’s stock rose 7%.", "Oracle’s stock surged by 7% following the announcement.", True),
    ("Oracle’s stock rose 17%.", "Oracle’s stock surged by 7% following the announcement.", False),
    ("Stargate aims to invest $500 billion.", "The initiative aims to invest $500 billion.", False),
    ("Stargate aims to invest $500 billion.",
     "The Stargate Project was announced. The initiative aims to invest $500 billion.", True),
])
def test_holds_every_number_and_name(claim: str, quote: str, held: bool) -> None:
    assert holds(claim, quote) is held


@pytest.mark.parametrize("claim,sentences,verdict", [
    ("Stargate will invest $50 billion in AI infrastructure.",
     ["The Stargate initiative aims to invest up to $500 billion in AI infrastructure."],
     "contradicted"),
    ("Oracle is the largest investor in OpenAI.",
     ["Microsoft, the largest investor in OpenAI, has relinquished its role.",
      "Oracle joined the mix as a cloud partner."], "contradicted"),
    ("Google is a partner in Stargate.", ["Oracle is a partner in the Stargate Project."],
     "not in the documents"),
    ("Microsoft lost all its exclusivity.",
     ["The loss of exclusivity signals a shift for Microsoft.",
      "Microsoft’s continued right to supply OpenAI’s needs for its API exclusively."],
     "partly supported"),
    ("Oracle's stock surged by 7%.", ["Oracle’s stock surged by 7% following the announcement."],
     "supported"),
    ("Oracle bought CoreWeave.", ["Oracle joined the mix as a significant cloud partner."],
     "not in the documents"),
    # a rise is not a fall
    ("Oracle's stock fell after the announcement.",
     ["Oracle’s stock surged by 7% following the announcement."], "contradicted"),
    # a figure from the sentence before is another fact: "20 across multiple locations"
    ("Oracle is building 20 data centers in Abilene.",
     ["The first site, in Abilene, is expected to play a central role for Oracle."],
     "not in the documents"),
    # a figure no sentence states, and none states another in its place
    ("Microsoft paid $2 billion for its right of first refusal.",
     ["Microsoft will retain a right of first refusal for additional capacity."],
     "not in the documents"),
])
def test_deterministic_decisions(claim: str, sentences: list[str], verdict: str) -> None:
    checker = ClaimChecker(None, lambda doc_id: "")  # type: ignore[arg-type]
    assert checker.decide(claim, [evidence(s, 0.7) for s in sentences]).verdict == verdict


def test_supported_without_a_span_holding_the_numbers_is_not_supported() -> None:
    """The final check in code: whatever decided `supported`, the citation must hold the
    claim's numbers and names, or the verdict falls to `not in the documents`."""
    text = "Oracle’s stock surged following the announcement."
    checker = ClaimChecker(None, lambda doc_id: text)  # type: ignore[arg-type]
    e = evidence(text)
    claim = "Oracle’s stock surged by 7%."
    v = checker._verdict(claim, 0, len(claim), claim, [e], _Decision("supported", "judge", [e]))
    assert v.verdict == "not in the documents" and not v.citations
    ok = checker._verdict(claim, 0, len(claim), "Oracle’s stock surged.", [e],
                          _Decision("supported", "judge", [e]))
    assert ok.verdict == "supported" and ok.citations[0].quote == text


# --- the real corpus, extractive --------------------------------------------------------------
def _exact(bot: Assistant, citations: list[Any]) -> None:
    for c in citations:
        assert bot.document(c.doc_id).text[c.start:c.end] == c.quote


def test_check_over_the_corpus(corpus_bot: Assistant) -> None:
    result = corpus_bot.check("Oracle's stock surged by 7% after the announcement and Stargate "
                              "will invest $50 billion in AI infrastructure. Microsoft lost all "
                              "its exclusivity. Google is a partner in the Stargate Project.")
    verdicts = [v.verdict for v in result.claims]
    assert verdicts == ["supported", "contradicted", "partly supported", "not in the documents"]
    supported, contradicted, partly, absent = result.claims
    assert "7%" in supported.citations[0].quote
    assert "$500 billion" in contradicted.contradiction.quote  # type: ignore[union-attr]
    assert "API" in partly.contradiction.quote and partly.citations  # type: ignore[union-attr]
    assert not absent.citations and "mentions Google" in absent.reason
    for v in result.claims:
        assert result.statement[v.start:v.end] == v.claim
        _exact(corpus_bot, [*v.citations, *([v.contradiction] if v.contradiction else []),
                            *(v.conflict or ())])
    assert json.loads(json.dumps(result.to_dict()))["claims"][0]["verdict"] == "supported"


def test_sources_that_disagree_are_both_cited(corpus_bot: Assistant) -> None:
    (v,) = corpus_bot.check("OpenAI's AI models will continue to run exclusively on "
                            "Microsoft's Azure platform.").claims
    assert v.verdict == "supported" and v.conflict is not None
    assert v.conflict[0].doc_id != v.conflict[1].doc_id
    _exact(corpus_bot, list(v.conflict))


@pytest.mark.parametrize("statement", ["", "   ", "x" * 2001, 7, None])
def test_bad_statements_are_clear_errors(corpus_bot: Assistant, statement: object) -> None:
    with pytest.raises(QuestionError, match="statement"):
        corpus_bot.check(statement)  # type: ignore[arg-type]


def test_cli_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.surfaces.cli import main as cli

    runner = CliRunner()
    assert runner.invoke(cli, ["ingest"]).exit_code == 0
    out = runner.invoke(cli, ["check", "Oracle's stock surged by 17% after the announcement.",
                              "--llm", "none"])
    assert out.exit_code == 0, out.output
    assert "[contradicted]" in out.output and "says otherwise: “Oracle’s stock surged by 7%" \
        in out.output
    data = json.loads(runner.invoke(cli, ["check", "Google is a partner in Stargate.", "--json",
                                          "--llm", "none"]).output)
    assert data["claims"][0]["verdict"] == "not in the documents"
    empty = runner.invoke(cli, ["check", " ", "--llm", "none"])
    assert empty.exit_code == 1 and "statement is empty" in empty.output


# --- the golden claims set and its gate -------------------------------------------------------
def test_golden_claims_are_written_from_the_corpus() -> None:
    corpus = " ".join(p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt"))
    rows = load_claims(DATASET)
    claims = [c for r in rows for c in r["claims"]]
    assert len(claims) >= 40 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        for claim in row["claims"]:
            for quote in claim["evidence"]:
                assert quote in corpus, f"{row['id']}: not verbatim: {quote!r}"
            assert bool(claim["evidence"]) == (claim["verdict"] != "not in the documents")
    tags = {t for r in rows for t in r["tags"]}
    assert {"exact", "paraphrased", "number", "year", "party", "overstated", "compound",
            "off-topic", "sources-differ"} <= tags
    assert {c["verdict"] for c in claims} == {"supported", "contradicted", "partly supported",
                                              "not in the documents"}


def test_claims_eval_extractive_meets_its_gate(artifacts: Path) -> None:
    out = artifacts / "eval-claims-none"
    assert main(["--llm", "none", "--out", str(out), "--gate"]) == 0, \
        (out / "summary.json").read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["unproven_support"] == 0
    assert sum(sum(row.values()) for row in summary["confusion"].values()) == summary["claims"]


def test_claims_eval_rejects_a_bad_dataset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"statement": "x", "claims": [{"verdict": "maybe", "evidence": []}]}\n')
    with pytest.raises(ValueError, match="maybe"):
        load_claims(bad)
    assert main(["--llm", "none", "--dataset", str(bad)]) == 2


# --- the local model ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("statement,verdict", [
    # each has a best match in the unsure band, so the model's yes/no decides it
    ("Oracle shares rose 7% after the announcement.", "supported"),
    ("Ten buildings are under development in Texas.", "supported"),
    ("Microsoft owns OpenAI.", "not in the documents"),
    ("The Abilene site is the smallest Stargate site.", "not in the documents"),
])
def test_local_model_verdicts(local_bot: Assistant, statement: str, verdict: str) -> None:
    (v,) = local_bot.check(statement).claims
    assert v.verdict == verdict and v.reason.startswith("judge:"), v.reason
    _exact(local_bot, v.citations)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_claims_eval_local_meets_its_gate(artifacts: Path) -> None:
    out = artifacts / "eval-claims-local"
    assert main(["--llm", "local", "--out", str(out), "--gate"]) == 0, \
        (out / "summary.json").read_text(encoding="utf-8")


# --- the "Check a claim" tab in Chromium -------------------------------------------------------
@pytest.mark.browser
def test_check_tab_marks_claims_and_opens_their_spans(tmp_path: Path, artifacts: Path) -> None:
    from test_browser import CHROMIUM, browser_page

    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    statement = ("Oracle’s stock surged by 7% following the announcement. "
                 "Stargate will invest $50 billion in AI infrastructure.")
    with running_ui(tmp_path / "data", llm="none") as (url, bot), browser_page(url) as (p, _):
        expected = bot.check(statement).claims
        p.get_by_role("tab", name="Check a claim").click()
        p.locator("#claim-input textarea").fill(statement)
        p.locator("#check").click()
        supported = p.locator("#check-result a.claim.verdict-supported")
        contradicted = p.locator("#check-result a.claim.verdict-contradicted")
        supported.wait_for()
        assert supported.count() == 1 and contradicted.count() == 1
        assert supported.inner_text().startswith("Oracle’s stock surged by 7%")
        assert contradicted.inner_text().startswith("Stargate will invest $50 billion")
        for link, quote in [(supported, expected[0].citations[0].quote),
                            (contradicted, expected[1].contradiction.quote)]:  # type: ignore[union-attr]
            link.click()
            p.wait_for_function("""(q) => { const m = document.querySelector("#check-viewer mark");
                                           return m && m.innerText === q; }""", arg=quote)
        assert "$500 billion" in p.locator("#check-viewer mark").inner_text()
        p.screenshot(path=str(artifacts / "check-a-claim.png"), full_page=True)
