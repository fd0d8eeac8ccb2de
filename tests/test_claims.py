"""Claim checking (`claims.py`, `Assistant.check`): the splitter and the decision as tables on
constructed evidence, the checker over the real seed corpus (extractive), the CLI, the claims
eval CLI (`python -m evals.claims --suite <name>`) on the software corpus, the local model
(slow) and the "Check a claim" tab in a real Chromium (browser).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import running_ui

from assistant import Assistant
from assistant.answer.claims import ClaimChecker, split_claims
from assistant.answer.evidence import Evidence
from assistant.core.errors import QuestionError
from assistant.core.models import VERDICTS
from evals.claims import load_claims, main


def ev(text: str, relevance: float = 0.7, *, doc: str = "a", published: str = "",
       context: str = "", title: str = "Quillmate policy") -> Evidence:
    return Evidence(1, doc, title, f"{doc}.txt", text, 0, len(text), relevance, context, published)


# --- splitting ------------------------------------------------------------------------------
@pytest.mark.parametrize("statement,claims", [
    ("Microsoft lost all its exclusivity.", ["Microsoft lost all its exclusivity."]),
    ("Oracle's stock rose 7%. Google is a partner in Stargate.",
     ["Oracle's stock rose 7%.", "Google is a partner in Stargate."]),
    # clauses joined by "and", "but", "while" or ";" stay one claim (splitting them gained only
    # on the dev claims)
    ("Microsoft invested $1 billion in 2019 and Oracle joined as a partner in 2023.",
     ["Microsoft invested $1 billion in 2019 and Oracle joined as a partner in 2023."]),
    ("Microsoft keeps a right of first refusal; OpenAI may seek rival providers.",
     ["Microsoft keeps a right of first refusal; OpenAI may seek rival providers."]),
    ("Stargate is a venture between OpenAI, Oracle and SoftBank.",
     ["Stargate is a venture between OpenAI, Oracle and SoftBank."]),
    ("", []),
    ("...", []),
])
def test_split_claims(statement: str, claims: list[str]) -> None:
    spans = split_claims(statement)
    assert [statement[s:e] for s, e in spans] == claims
    assert split_claims(statement) == spans  # deterministic


# --- the decision on constructed evidence (no LLM) ---------------------------------------------
CHECKER = ClaimChecker(lambda q: ([], []))
LOCAL_ONLY = "Data recovery does not cover notebooks kept in local-only mode."
MONTHLY = "Monthly plans are not refunded, but you can cancel at any time."
BOUNTY = "Fernhill paid a bounty of $3,000."
CREDIT = ("The issue was reported by Jonas Feld, an independent researcher, and was fixed by "
          "Fernhill Labs' browser extensions team.")
DECISIONS = [
    # (family of claims, candidates, verdict)
    (["Monthly plans are not refunded.", "Monthly plans are never refunded."], [ev(MONTHLY)],
     "supported"),
    (["Fernhill paid a bounty of $3,000.", "Fernhill paid a $3,000 bounty."], [ev(BOUNTY)], "supported"),
    (["Fernhill paid a bounty of three thousand dollars.",  # a figure spelled out is the figure
      "Fernhill paid a three thousand dollar bounty."], [ev(BOUNTY)], "supported"),
    # negated: the claim affirms what the sentence denies, or the reverse
    (["Data recovery covers notebooks kept in local-only mode.",
      "Data recovery covers local-only notebooks."], [ev(LOCAL_ONLY)], "contradicted"),
    (["Monthly plans are refunded.", "Monthly plans can be refunded."], [ev(MONTHLY)], "contradicted"),
    # a wrong number, a wrong party
    (["Fernhill paid a bounty of $5,000.", "Fernhill paid a $300 bounty.",
      "Fernhill paid a bounty of five thousand dollars."], [ev(BOUNTY)], "contradicted"),
    (["The flaw was fixed by Jonas Feld.", "The issue was fixed by Jonas Feld."],
     [ev(CREDIT)], "contradicted"),
    # true by an older document, changed by a newer one
    (["Classic reaches end of life on 31 December 2024.",
      "Quillmate Classic reaches end of life on 31 December 2024."],
     [ev("Classic will reach end of life on 31 December 2024.", doc="old", published="2024-03-01"),
      ev("Its end of life moves from December 31, 2024 to June 30, 2025.", doc="new",
         published="2024-09-24", context="We're giving Quillmate Classic six more months.")],
     "outdated"),
    (["Plus costs $5 per month billed annually.", "Plus is $5 a month when billed annually."],
     [ev("Plus costs $5 per month, billed annually.", doc="old", published="2024-03-01"),
      ev("Plus rises from $5 to $6 per month when billed annually.", doc="new", published="2024-09-24")],
     "outdated"),
    # nothing on the point
    (["Fernhill has offices in Berlin.", "Team workspaces are hosted in Berlin."], [],
     "not in the documents"),
]


@pytest.mark.parametrize("family,pool,verdict", DECISIONS,
                         ids=["stated", "stated-figure", "stated-spelled", "negated", "negated-2",
                              "wrong-number", "wrong-party", "superseded-date", "superseded-price",
                              "unstated"])
def test_the_decision_on_constructed_evidence(family: list[str], pool: list[Evidence],
                                              verdict: str) -> None:
    for claim in family:
        decided = CHECKER.decide(claim, pool, [])
        assert decided.verdict == verdict, (claim, decided.reason)
        if verdict == "supported":
            assert decided.cited and decided.against is None
        if verdict == "outdated":
            assert decided.cited[0].published < decided.against.published  # type: ignore[union-attr]


def test_a_value_changed_from_the_claims_makes_it_outdated() -> None:
    """With no sentence found to support it, a claim whose value a sentence says changed was true
    until then: "outdated", citing that sentence (it holds both values), not "contradicted"."""
    change = ev("The Basic plan rises from $10 to $12 a month in June.", published="2024-03-01")
    for claim in ["The Basic plan costs $10 a month.", "Basic is $10 per month."]:
        decided = CHECKER.decide(claim, [change], [])
        assert decided.verdict == "outdated", (claim, decided.reason)
        assert decided.cited == [change] and "2024-03-01" in decided.reason
    for claim in ["The Basic plan costs $12 a month.", "The Basic plan costs $15 a month."]:
        assert CHECKER.decide(claim, [change], []).verdict != "outdated", claim
    # a sentence ranked above the change that denies the claim outright decides
    denial = ev("The Basic plan never costs $10 a month in Europe.", relevance=0.9)
    decided = CHECKER.decide("The Basic plan costs $10 a month.", [denial, change], [])
    assert decided.verdict == "contradicted", decided.reason


def test_a_wrong_party_in_the_active_voice_is_contradicted() -> None:
    for claim in ["Jonas Feld fixed the flaw.", "Jonas Feld fixed the web clipper flaw."]:
        assert CHECKER.decide(claim, [ev(CREDIT)], []).verdict == "contradicted", claim


def test_a_name_no_retrieved_text_mentions_is_not_in_the_documents() -> None:
    for claim in ["Quillmate is sold by Contoso.", "Fernhill partners with Contoso on sync."]:
        decided = CHECKER.decide(claim, [ev("Fernhill makes Quillmate, a note-taking app.")],
                                 ["contoso"])
        assert decided.verdict == "not in the documents" and "Contoso" in decided.reason


def test_a_claim_its_quote_negates_is_never_supported() -> None:
    for claim, sentence in [("Data recovery covers local-only notebooks.", LOCAL_ONLY),
                            ("Monthly plans are refunded.", MONTHLY),
                            ("The uptime commitment applies to Pro.",
                             "The uptime commitment does not apply to Pro.")]:
        for relevance in (0.5, 0.8, 0.99):
            assert CHECKER.decide(claim, [ev(sentence, relevance)], []).verdict != "supported"


def test_a_claim_affirming_an_item_its_lists_lead_in_negates_is_contradicted() -> None:
    item = replace(ev("theft, and damage caused by an attempted theft;", title="Veloria warranty"),
                   under="This warranty does not cover:", under_start=0)
    for claim in ["The warranty covers theft.", "Theft is covered by the warranty.",
                  "The warranty pays for damage caused by an attempted theft."]:
        decided = CHECKER.decide(claim, [item], [])
        assert decided.verdict == "contradicted" and "does not cover" in decided.reason, claim
    for claim in ["Theft is not covered by the warranty.", "The warranty covers the battery."]:
        decided = CHECKER.decide(claim, [item], [])
        assert decided.verdict != "contradicted", (claim, decided.reason)


def test_a_figure_only_the_sentence_before_holds_supports_nothing() -> None:
    """The sentence before says what "the plant" is; its figures are not the sentence's."""
    pool = [ev("The plant will employ 400 people.", 0.9,
               context="Acme's old plant in Boise cost $50 million and opened in 2019.")]
    for claim in ["The plant will employ 400 people at a cost of $50 million.",
                  "The plant, opened in 2019, will employ 400 people.",
                  "Acme's plant will employ 400 people and cost $50 million."]:
        assert CHECKER.decide(claim, pool, []).verdict != "supported", claim
    assert CHECKER.decide("The plant will employ 400 people.", pool, []).verdict == "supported"


def test_a_bound_on_a_quantity_is_no_denial() -> None:
    """"No more than five days" bounds the days; it does not deny the claim it is part of."""
    pool = [ev("While your bag is delayed, you may claim up to $60 per day for essential items, "
               "for a maximum of five days.", 0.9)]
    for claim in ["While your bag is delayed, you may claim up to $60 per day for essential items "
                  "for no more than five days.",
                  "While your bag is delayed, you may claim essential items for not longer than five "
                  "days, up to $60 per day."]:
        assert CHECKER.decide(claim, pool, []).verdict == "supported", claim
    denied = "While your bag is delayed, you may not claim $60 per day for essential items."
    assert CHECKER.decide(denied, pool, []).verdict == "contradicted"


# --- the real corpus, extractive -----------------------------------------------------------------
def exact(bot: Assistant, citations: list[Any]) -> None:
    for c in citations:
        assert bot.document(c.doc_id).text[c.start:c.end] == c.quote


@pytest.mark.parametrize("statement,verdict,quote", [
    ("Oracle's stock surged by 7% after the announcement.", "supported", "7%"),
    ("Oracle's stock surged by 17% after the announcement.", "contradicted", "7%"),
    ("Stargate will invest $50 billion in AI infrastructure.", "contradicted", "$500 billion"),
    ("Microsoft is still OpenAI's exclusive cloud provider.", "contradicted", "no longer"),
    ("Microsoft is no longer OpenAI's exclusive cloud provider.", "supported", "no longer"),
    ("Microsoft first invested in OpenAI in 2019 with $1 billion.", "supported", "2019"),
    ("The first Stargate site is in Abilene.", "supported", "Abilene"),  # "first": in its clause
])
def test_check_over_the_corpus(corpus_bot: Assistant, statement: str, verdict: str,
                               quote: str) -> None:
    (v,) = corpus_bot.check(statement).claims
    assert v.verdict == verdict, v.reason
    decisive = v.citations[0] if verdict == "supported" else v.contradiction
    assert decisive is not None and quote in decisive.quote
    assert v.claim == statement[v.start:v.end]
    exact(corpus_bot, [*v.citations, *([v.contradiction] if v.contradiction else [])])


def test_a_statement_is_checked_claim_by_claim(corpus_bot: Assistant) -> None:
    statement = ("Oracle's stock surged by 7% after the announcement. Stargate will invest $50 "
                 "billion in AI infrastructure.")
    result = corpus_bot.check(statement)
    assert [v.verdict for v in result.claims] == ["supported", "contradicted"]
    for v in result.claims:
        assert result.statement[v.start:v.end] == v.claim
    data = json.loads(json.dumps(result.to_dict()))
    assert [c["verdict"] for c in data["claims"]] == ["supported", "contradicted"]
    assert result.timings["total_s"] >= 0 and result.backend == "none"


@pytest.mark.parametrize("statement", ["", "   ", "x" * 2001, 7, None])
def test_bad_statements_are_clear_errors(corpus_bot: Assistant, statement: object) -> None:
    with pytest.raises(QuestionError, match="statement"):
        corpus_bot.check(statement)  # type: ignore[arg-type]


def test_cli_check(tmp_path: Path) -> None:
    from assistant.surfaces.cli import main as cli

    runner = CliRunner()
    assert runner.invoke(cli, ["ingest"]).exit_code == 0
    out = runner.invoke(cli, ["check", "Oracle's stock surged by 17% after the announcement.",
                              "--llm", "none"])
    assert out.exit_code == 0, out.output
    assert "[contradicted]" in out.output and "says otherwise: “Oracle’s stock surged by 7%" \
        in out.output
    data = json.loads(runner.invoke(cli, ["check", "Microsoft is no longer OpenAI's exclusive cloud "
                                          "provider.", "--json", "--llm", "none"]).output)
    assert data["claims"][0]["verdict"] == "supported"
    empty = runner.invoke(cli, ["check", " ", "--llm", "none"])
    assert empty.exit_code == 1 and "statement is empty" in empty.output


# --- the claims eval CLI, per suite --------------------------------------------------------------
def test_the_software_claims_are_written_from_its_documents() -> None:
    from evals.suites import CORPORA, corpus_suite

    suite = corpus_suite(CORPORA / "software")
    assert suite.claims is not None
    rows = load_claims(suite.claims)
    claims = [c for r in rows for c in r["claims"]]
    assert len(claims) >= 20 and len({r["id"] for r in rows}) == len(rows)
    assert {c["verdict"] for c in claims} <= set(VERDICTS)
    tags = {t for r in rows for t in r["tags"]}
    assert {"stated", "paraphrased", "negated", "wrong-number", "wrong-party", "unstated",
            "superseded"} <= tags


@pytest.fixture(scope="module")
def software_claims(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`python -m evals.claims --suite software --llm none`, run once: its summary."""
    out = tmp_path_factory.mktemp("claims-none")
    assert main(["--llm", "none", "--suite", "software", "--out", str(out)]) == 0
    summary: dict[str, Any] = json.loads((out / "software" / "summary.json").read_text(encoding="utf-8"))
    summary["rows"] = (out / "software" / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    return summary


def test_claims_eval_reports_the_software_suite(software_claims: dict[str, Any]) -> None:
    s = software_claims
    assert s["suite"] == "software" and s["backend"] == "none" and s["claims"] == len(s["rows"]) >= 20
    assert sum(sum(r.values()) for r in s["confusion"].values()) == s["claims"]


def test_no_claim_its_quote_negates_is_supported(software_claims: dict[str, Any]) -> None:
    assert software_claims["metrics"]["negated_supported"] == 0, software_claims["wrong"]


@pytest.mark.xfail(strict=True, reason="2 supported claims cite a span without the claim's names: "
                   "'Marisol Vega is the Head of Customer Support for Quillmate.' is supported by "
                   "'Marisol Vega, who led our customer support team for three years, left Fernhill "
                   "Labs in August ...' (a superseded claim, expected outdated); 'Annual Quillmate "
                   "plans can be refunded ...' cites a quote without 'Quillmate' (in its title only)")
def test_every_supported_claim_cites_a_span_with_its_names(software_claims: dict[str, Any]) -> None:
    assert software_claims["metrics"]["unproven_support"] == 0, software_claims["wrong"]


def test_claims_eval_gate_runs_per_suite(artifacts: Path) -> None:
    out = artifacts / "claims-none-software-gate"
    assert main(["--llm", "none", "--suite", "software", "--out", str(out), "--gate"]) == 0


def test_claims_eval_rejects_a_bad_dataset_and_an_unknown_suite(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"statement": "x", "claims": [{"verdict": "maybe", "evidence": []}]}\n')
    with pytest.raises(ValueError, match="maybe"):
        load_claims(bad)
    assert main(["--llm", "none", "--suite", "no-such-suite"]) == 2


# --- the local model ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("statement,verdict", [
    ("Oracle shares rose 7% after the announcement.", "supported"),
    ("Microsoft is still OpenAI's exclusive cloud provider.", "contradicted"),
    ("Microsoft owns OpenAI.", "not in the documents"),
])
def test_local_model_verdicts(local_bot: Assistant, statement: str, verdict: str) -> None:
    (v,) = local_bot.check(statement).claims
    assert v.verdict == verdict, v.reason
    if verdict == "supported":
        assert v.reason.startswith("judge:"), v.reason
    exact(local_bot, [*v.citations, *([v.contradiction] if v.contradiction else [])])


@pytest.mark.slow
def test_the_judge_cites_the_sentence_that_states_the_claim(local_bot: Assistant) -> None:
    """The sentence after the one that states a claim reads as stating it almost as surely
    (its context holds the claim: 0.82 against 0.85 here); the more relevant one, which states it
    itself, is the one cited."""
    judge = ClaimChecker(lambda q: ([], []), local_bot._pipeline().generator)
    after = ev("The researcher gave the money to a coding school.", 0.6, context=BOUNTY)
    decided = judge.decide("Fernhill paid a bounty of $3,000.", [ev(BOUNTY, 0.9), after], [])
    assert decided.verdict == "supported" and decided.reason.startswith("judge:"), decided.reason
    assert [e.text for e in decided.cited] == [BOUNTY]


# --- the "Check a claim" tab in Chromium -------------------------------------------------------------
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
