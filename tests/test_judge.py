"""The answerability judge: the deterministic one table-driven, the LLM one with the real model.

The deterministic rows use hand-made evidence (relevance as evidence selection would give it),
so each row tests one rule; the slow rows ask the real 1.5B model over the real corpus.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.evidence import Evidence
from assistant.answer.judge import LEAST_RELEVANCE, RuleJudge
from assistant.answer.question import profile
from assistant.answer.roles import bound_roles, modified_phrase, name_runs, role_phrases
from assistant.answer.verify import (
    cessation,
    claim_and_citations,
    contradicts_cessation,
    makes_current,
    misbound_roles,
    states_cessation,
)
from assistant.core.text import content_words, covers, stem


def evidence(text: str, relevance: float = 0.7, context: str = "", number: int = 1) -> Evidence:
    return Evidence(number, "doc", "Title", "doc.txt", text, 0, len(text), relevance, context)


@pytest.mark.parametrize("question,sentences,answerable", [
    # the kind of answer asked for must be there: a count, a date, a name the question lacks
    ("How many jobs will Stargate create?", ["10 buildings are under development in Texas."], False),
    ("When did Microsoft first invest?", ["Microsoft is the largest investor in OpenAI."], False),
    ("Who chairs Oracle?", ["Oracle Chairman Larry Ellison confirmed that construction began."], True),
    ("Who chairs Oracle?", ["Oracle, a late entrant to the cloud market, has emerged."], False),
    # ... and be about what is asked: some of the question's focus words, at least a quarter
    ("When did Microsoft first invest in OpenAI and how much?",
     ["Microsoft’s role began in 2019, with a $1 billion investment."], True),
    ("When did Oracle buy CoreWeave?", ["In 2023, Oracle joined the mix as a cloud partner."], False),
    ("How much did Microsoft pay for its right of first refusal?",
     ["Microsoft invested $1 billion in 2019."], False),
    # a percentage about the names asked about answers a percentage question in other words;
    # one about another name, or any other number, does not
    ("By what percentage did Oracle shares climb?", ["Oracle’s stock surged by 7% on the news."], True),
    ("By what percentage did Microsoft shares climb?", ["Oracle’s stock surged by 7% on the news."],
     False),
    ("How many Oracle shares does Larry Ellison own?",
     ["Oracle Chairman Larry Ellison said 10 buildings are under way."], False),
    # a noun that only names an amount ("budget") is stated by any sum; a flow ("revenue") is not
    ("What is the Stargate budget?", ["Stargate aims to invest up to $500 billion."], True),
    ("How much revenue does Microsoft earn?", ["Microsoft made a $1 billion investment."], False),
    ("How much revenue does Microsoft earn from OpenAI's API?",
     ["Microsoft’s revenue from OpenAI reached $1 billion."], False),  # "OpenAI's API": two names
    # a count is of what its sentence (or the one before) names: not of Abilene's buildings
    ("How many buildings are being built in Abilene?",
     ["Larry Ellison said 10 buildings are under development in Texas."], False),
    ("How many buildings are being built in Texas?",
     ["Larry Ellison said 10 buildings are under development in Texas."], True),
    # a role question: a sentence giving the name a role, not one giving it to another name
    ("What does Microsoft act as for OpenAI?",
     ["Microsoft identified OpenAI as a competitor in July."], False),
    ("What does Microsoft act as for OpenAI?",
     ["Microsoft, the largest investor in OpenAI, has relinquished its role."], True),
    # a sentence too far from the question in meaning does not answer it, whatever its words
    ("Where is the first Stargate site?",
     ["The first site, in Abilene, is expected to play a central role."], True),
])
def test_rule_judge(question: str, sentences: list[str], answerable: bool) -> None:
    verdict = RuleJudge().judge(profile(question), [evidence(s, number=i)
                                                    for i, s in enumerate(sentences, 1)])
    assert verdict.answerable is answerable, verdict.reason
    assert bool(verdict.picked) is answerable and verdict.reason


@pytest.mark.parametrize("question,sentence,synonyms", [
    # counted: the same word in another form, or a true synonym (MiniLM similarity >= 0.75)
    ("Which AI tool helped write the piece?", "It was made with writing support from ChatGPT.",
     ["write~writing"]),
    ("Who is OpenAI's biggest backer?", "Microsoft is the largest investor in OpenAI.",
     ["biggest~largest"]),
    # not counted: related words that are not the thing asked (similarities 0.57-0.74)
    ("When did Oracle buy CoreWeave?", "Oracle signed a deal in 2023.", []),
    ("Why did OpenAI stop using Azure?", "OpenAI is continuing on Azure.", []),
    ("In what year did Microsoft name OpenAI a competitor?", "Microsoft did so in June.", []),
    ("How many buildings are being built in Abilene?", "Construction of 10 buildings began.", []),
])
def test_rule_judge_counts_synonyms_by_word_vectors(question: str, sentence: str,
                                                    synonyms: list[str]) -> None:
    from assistant.answer.evidence import SentenceVectors
    from assistant.index.embedding import MiniLMEmbedding

    words = SentenceVectors(MiniLMEmbedding())
    _, counted = RuleJudge(words).coverage(profile(question), sentence)
    assert counted == synonyms


STARGATE_BEFORE = ("The change was revealed during the announcement of the Stargate Project, a joint "
                   "venture between OpenAI, Oracle, SoftBank, and others.")
STARGATE_AMOUNT = "The initiative aims to invest up to $500 billion over the next four years."


@pytest.mark.parametrize("question,answerable", [
    # one name only in the sentence before: "The initiative" refers back to it
    ("How much will the Stargate Project invest?", True),
    # two names only in the sentence before: whose amount it is, the sentence does not say
    ("How much is Oracle investing in Stargate?", False),
    # one name, only in the sentence before, among others: whose amount, the words do not say
    pytest.param("How much will SoftBank invest?", False, marks=pytest.mark.xfail(
        strict=True, reason="a limit: one name before is taken for what 'The initiative' means")),
])
def test_an_amount_is_of_what_its_sentence_names(question: str, answerable: bool) -> None:
    verdict = RuleJudge().judge(profile(question), [evidence(STARGATE_AMOUNT, context=STARGATE_BEFORE)])
    assert verdict.answerable is answerable, verdict.reason


def test_a_question_only_about_names_is_answered_by_a_sentence_holding_them() -> None:
    """"Who is Sam Altman?" has no focus words: the names are what a sentence must hold,
    however low MiniLM rates the long sentence that holds them."""
    question = profile("Who is Sam Altman, according to the articles?")
    text = "Microsoft CEO Satya Nadella discussed the dynamic with OpenAI CEO Sam Altman."
    assert RuleJudge().judge(question, [evidence(text, LEAST_RELEVANCE - 0.1)]).answerable
    other = "Microsoft CEO Satya Nadella discussed the dynamic on a podcast."
    assert not RuleJudge().judge(question, [evidence(other, LEAST_RELEVANCE - 0.1)]).answerable


def test_rule_judge_puts_the_sentence_holding_more_of_the_question_first() -> None:
    question = profile("What shifted in the OpenAI-Microsoft relationship?")
    sentences = [evidence("Microsoft identified OpenAI as a competitor, signaling an evolving "
                          "relationship.", 0.8, number=1),
                 evidence("The loss of exclusivity signals a shift in the relationship.", 0.7,
                          number=2)]
    assert RuleJudge().judge(question, sentences).picked == (2, 1)


def test_rule_judge_needs_relevance_when_words_are_missing() -> None:
    question = profile("Where will the first Stargate site be built?")
    text = "The first site, in Abilene, is expected to play a central role."
    assert RuleJudge().judge(question, [evidence(text, LEAST_RELEVANCE)]).answerable
    assert not RuleJudge().judge(question, [evidence(text, LEAST_RELEVANCE - 0.01)]).answerable


@pytest.mark.parametrize("sentence,supporting,off", [
    # supported only by a sentence the judge did not pick, and none of the question's words
    ("Oracle’s stock surged by 7% following the announcement.", (3,), True),
    # supported by a picked sentence
    ("Oracle’s stock surged by 7% following the announcement.", (1,), False),
    # shares the question's focus ("site")
    ("The first site is expected to play a central role.", (3,), False),
])
def test_off_point_sentences(sentence: str, supporting: tuple[int, ...], off: bool) -> None:
    from assistant.answer.judge import Verdict
    from assistant.answer.pipeline import off_point

    question = profile("Where is the first Stargate site?")
    assert off_point(sentence, supporting, Verdict(True, (1,), "picked"), question) is off


class _NoLogits:
    """Stands in for the LLM where the rescue must decide without asking it: any call fails."""

    def choose(self, messages: object, options: list[str]) -> None:
        raise AssertionError("the deterministic conditions should have decided")


@pytest.mark.parametrize("question,draft,sentences,why", [
    # the drafter, too, finds nothing
    ("Who heads Oracle's board?", "I don't know.", ["Oracle Chairman Larry Ellison spoke."],
     "finds no answer"),
    # the draft answers with the wrong kind: a month for "what year"
    ("In what year did Microsoft identify OpenAI as a competitor?",
     "In July, Microsoft identified OpenAI as a competitor [1].",
     ["Microsoft identified OpenAI as a competitor in July."], "not the kind asked for (year)"),
    # a bare "[1]" points at a sentence that has no count of buildings
    ("How many buildings are being built in Abilene?", "[1]",
     ["The first site, in Abilene, is expected to play a central role."], "not the kind asked for"),
    # the draft and its evidence leave out a name the question asks about: a tempting neighbour
    ("When did Oracle buy CoreWeave?",
     "In June 2023, Microsoft allowed OpenAI to sign a deal with Oracle [1].",
     ["In June 2023, Microsoft allowed OpenAI to sign a deal with Oracle.",
      "Microsoft supplemented Azure with providers including CoreWeave."], "mentions coreweave"),
])
def test_llm_judge_refuses_drafts_that_cannot_be_the_answer(question: str, draft: str,
                                                           sentences: list[str], why: str) -> None:
    from assistant.answer.judge import LLMJudge

    judge = LLMJudge(_NoLogits())  # type: ignore[arg-type]
    verdict = judge.rescue(profile(question), draft,
                           [evidence(s, number=i) for i, s in enumerate(sentences, 1)])
    assert verdict is not None and not verdict.answerable
    assert why in verdict.reason


@pytest.mark.parametrize("draft", ["Image Source: ChatGPT-4o", "image source: ChatGPT-4o. [2]"])
def test_a_draft_that_copies_an_evidence_sentence_is_stated_by_it(draft: str) -> None:
    """A sentence states itself: no yes/no is asked (it once rated this copy 0.22), and the
    copy is cited to the sentence it copies, whatever marker the draft gave."""
    from assistant.answer.judge import LLMJudge

    sentences = [evidence("SOURCE: TECHCRUNCH | PHOTO: GETTYIMAGES", number=1),
                 Evidence(2, *AINEWS, "Image Source: ChatGPT-4o", 0, 24, 0.4)]  # AiNews: its name
    verdict = LLMJudge(_NoLogits()).rescue(  # type: ignore[arg-type]
        profile("What is given as the image source for the AiNews article?"), draft, sentences)
    assert verdict is not None and verdict.answerable and verdict.picked == (2,), verdict


class _NoLogitsBackend:
    """An endpoint that offers no logits (as some OpenAI-compatible servers do): `rescue` then
    returns None, which shows the yes/no was reached rather than decided before it."""

    def choose(self, messages: object, options: list[str]) -> None:
        return None


AINEWS = ("ainews", "Microsoft Loses Exclusive Cloud Role for OpenAI", "ainews-microsoft.txt")


@pytest.mark.parametrize("question,copy", [
    # the document's title names Microsoft and OpenAI; the question does not mean the document
    ("What percentage of OpenAI does Microsoft own?",
     "Oracle’s stock surged by 7% following the announcement."),
    # the copy holds none of the question's words: the yes/no must decide, not the copy
    ("When was the AiNews article published?", "Microsoft’s growth with OpenAI began in 2019."),
])
def test_a_copy_of_a_tempting_sentence_is_not_taken_as_stated(question: str, copy: str) -> None:
    from assistant.answer.judge import LLMJudge

    sentence = Evidence(1, *AINEWS, copy, 0, len(copy), 0.4)
    verdict = LLMJudge(_NoLogitsBackend()).rescue(profile(question), copy, [sentence])  # type: ignore[arg-type]
    assert verdict is None or not verdict.answerable, verdict


@pytest.mark.slow
@pytest.mark.parametrize("question,rescued", [
    # paraphrases the word checks miss: the draft's answer is stated by the sentence it cites
    # ("give up" is "relinquished")
    ("What role did Microsoft give up in its relationship with OpenAI?", True),
    ("How did investors react to Oracle after the news?", True),
    # the appositive set apart: "Microsoft, the largest investor in OpenAI" (P(yes) 0.44 -> 0.55)
    ("Which company is the top financial backer of OpenAI?", True),
    # tempting evidence: the draft is not stated, or not the kind, or leaves out a name asked about
    ("How many data centers does CoreWeave run for OpenAI?", False),
    ("In what year did Microsoft identify OpenAI as a competitor?", False),
    ("When did Oracle buy CoreWeave?", False),
])
def test_llm_judge_rescues_paraphrases_with_the_real_model(local_bot: Assistant, question: str,
                                                           rescued: bool) -> None:
    """Where the word checks refuse, the real 1.5B model drafts and a separate yes/no on the
    draft's answer decides; the trace keeps the draft and P(yes)."""
    answer = local_bot.ask(question)
    step = next(s for s in answer.trace if s["stage"] == "answerability")
    assert step["rules"] == "refuse" and "draft" in step, step
    assert (step["decision"] == "answer") is rescued, step


@pytest.mark.slow
def test_stated_ranks_a_stated_claim_above_an_unstated_one(local_bot: Assistant) -> None:
    from assistant.answer.judge import STATED_AT, stated

    quote = ["The initiative aims to invest up to $500 billion in AI infrastructure across the "
             "United States over the next four years."]
    yes = stated(local_bot.generator(), "The initiative aims to invest up to $500 billion.", quote)
    no = stated(local_bot.generator(), "SoftBank is contributing $10 billion to Stargate.", quote)
    assert yes is not None and no is not None
    assert yes >= STATED_AT > no


@pytest.mark.parametrize("sentence,repeats", [
    ("The change was revealed during Trump's announcement of the Stargate Project, which was "
     "revealed during Trump's announcement of the Stargate Project.", True),
    ("The first site, in Abilene, is expected to play a central role in the Stargate Project.", False),
    ("Microsoft will retain a right of first refusal, and a right of first refusal only.", False),
])
def test_a_sentence_that_repeats_itself_is_degenerate(sentence: str, repeats: bool) -> None:
    from assistant.answer.verify import repeats_itself

    assert repeats_itself(sentence) is repeats


@pytest.mark.parametrize("claim,question,evidence_text,echoed", [
    # a false premise repeated as fact: the question's word, in no evidence
    ("Microsoft acquired Oracle to expand its cloud.", "Why did Microsoft acquire Oracle?",
     "Microsoft allowed OpenAI to sign a deal with Oracle.", {"acquire"}),
    ("Microsoft sold its stake to raise money.", "Why did Microsoft sell its stake in OpenAI?",
     "Microsoft is the largest investor in OpenAI.", {"stake"}),  # "sold": under five letters
    # the question's asking words are not premises, in any form ("described" ~ "describe")
    ("Oracle is described as a key initial technology partner.",
     "How is Oracle described in relation to the Stargate Project?",
     "Oracle has emerged as a “key initial technology partner” in the Stargate Project.", set()),
    ("According to the article, Oracle joined in 2023.", "According to the article, when did Oracle join?",
     "In 2023, Oracle joined the mix.", set()),
    # "Yes" affirms the question itself: its words are claimed, though the sentence goes on
    ("Yes, Microsoft retained a right of first refusal but no longer held exclusivity.",
     "Did Microsoft override the exclusivity clause?",
     "Microsoft will retain a right of first refusal but will no longer hold exclusivity.",
     {"override", "clause"}),
    ("Yes, OpenAI's models still run exclusively on Azure.", "Do OpenAI's models still run on Azure?",
     "OpenAI’s AI models will continue to run exclusively on Microsoft’s Azure platform.", set()),
    ("Yes.", "What did Microsoft override?", "Microsoft will retain a right.", set()),  # not yes/no
    # words the evidence has are not echoes; short words are not checked
    ("Oracle's stock surged by 7%.", "Why did Oracle's stock surge?",
     "Oracle’s stock surged by 7% following the announcement.", set()),
])
def test_a_premise_echoed_as_fact_is_caught(claim: str, question: str, evidence_text: str,
                                            echoed: set[str]) -> None:
    from assistant.answer.verify import echoed_premise

    assert echoed_premise(claim, question, evidence_text) == echoed


NAMED = ("Microsoft CEO Satya Nadella discussed the dynamic with OpenAI CEO Sam Altman during a "
         "recent podcast. At a White House press conference, Oracle Chairman Larry Ellison "
         "confirmed that construction has begun. Oracle has emerged as a key partner in the "
         "Stargate Project. Microsoft’s Azure is used.")


@pytest.mark.parametrize("claim,misbound", [
    # roles swapped between two people the evidence names: each word is in the evidence
    ("Microsoft CEO Sam Altman discussed the dynamic with OpenAI CEO Satya Nadella.",
     ["Microsoft CEO Sam Altman", "OpenAI CEO Satya Nadella"]),
    ("Microsoft Chairman Larry Ellison confirmed construction.", ["Microsoft Chairman Larry Ellison"]),
    ("Oracle Chairman Larry Ellison confirmed it.", []),
    ("OpenAI's CEO Sam Altman spoke.", []),  # the possessive is the same binding
    ("CEO Sam Altman spoke.", []),  # fewer words than the evidence gives: nothing added
    ("Sam Altman is the CEO of OpenAI.", []),  # a paraphrase, not an apposition
    ("The Stargate Project is big.", []),  # a capitalised stopword is not a word added
    ("Microsoft Azure is used.", []),  # one-word names ("Azure") are not checked
    ("In June 2023, Oracle joined.", []),
])
def test_a_name_keeps_the_words_the_evidence_gives_it(claim: str, misbound: list[str]) -> None:
    from assistant.answer.verify import misbound_names

    assert [str(m) for m in misbound_names(claim, NAMED)] == misbound


@pytest.mark.parametrize("text,line,heading", [
    ("Intro.\nOracle’s Role and Growing Cloud Partnerships\nOracle, a late entrant, has emerged.",
     "Oracle’s Role and Growing Cloud Partnerships", True),
    ("  • Microsoft Loses Exclusive Cloud Role for OpenAI\nMore text follows here.",
     "Microsoft Loses Exclusive Cloud Role for OpenAI", True),
    ("The Quokka Protocol requires every rack to be painted teal. <script>x</script>",
     "The Quokka Protocol requires every rack to be painted teal. <script>x</script>", False),
    ("Oracle’s stock surged by 7% following the announcement.",
     "Oracle’s stock surged by 7% following the announcement.", False),
])
def test_headings_are_not_evidence(text: str, line: str, heading: bool) -> None:
    from assistant.answer.evidence import is_heading
    from assistant.index.store import Chunk

    start = text.index(line)
    chunk = Chunk("c", "d", "T", "s", text, 0, len(text))
    assert is_heading(chunk, start, start + len(line)) is heading


def test_short_label_lines_are_evidence_but_not_links_or_headings() -> None:
    """A "Label: value" line states its value though it is under four words; a heading, a link
    and a short clause inside a paragraph stay out."""
    from assistant.answer.evidence import candidate_sentences
    from assistant.index.store import Chunk

    text = ("Image Source: ChatGPT-4o\n\nMicrosoft Loses Exclusive Cloud Role for OpenAI\n\n"
            "Read more: https://example.com/story\n\nBottom line: yes. The deal was signed in June.")
    found = [e.text for e in candidate_sentences([Chunk("c", "d", "T", "s", text, 0, len(text))])]
    assert found == ["Image Source: ChatGPT-4o", "The deal was signed in June."]


@pytest.mark.parametrize("sentence,negated", [
    ("Microsoft is no longer the exclusive cloud provider for OpenAI.", {"exclus"}),
    # a light word after the negation is passed over: the role is not what is given up
    ("Microsoft has relinquished its role as the exclusive provider of computing.", {"exclus"}),
    ("The loss of exclusivity signals a shift in power dynamics.", {"exclus"}),
    ("OpenAI's models will continue to run exclusively on Azure.", set()),
])
def test_negated_stems(sentence: str, negated: set[str]) -> None:
    from assistant.answer.verify import negated_stems

    assert negated_stems(sentence) == negated


POOL = ["Oracle’s stock surged by 7% following the announcement.",
        "The first site, in Abilene, is expected to play a central role in the Stargate Project.",
        "Construction of data centers has begun, with 10 buildings under development."]


@pytest.mark.parametrize("question,first,second,conflict", [
    # one source negates, on the point asked, what another affirms
    ("Do OpenAI's models still run exclusively on Azure?",
     "Microsoft is no longer the exclusive cloud provider for OpenAI.",
     "OpenAI’s AI models will continue to run exclusively on Microsoft’s Azure platform.", True),
    # "relinquished its role as the exclusive provider" is about exclusivity, not about a role
    ("What role did Microsoft give up in its relationship with OpenAI?",
     "Microsoft has relinquished its role as the exclusive provider of computing capacity.",
     "Microsoft’s pivotal role in OpenAI’s growth began in 2019.", False),
    # "the loss of exclusivity" negates exclusivity: it agrees with "no longer hold exclusivity"
    ("Did Microsoft override the exclusivity clause?",
     "Microsoft will retain a right of first refusal but will no longer hold exclusivity.",
     "The loss of exclusivity signals a shift in power dynamics.", False),
    # a condition is not a statement of fact
    ("Will Microsoft keep access to OpenAI's technology?",
     "If OpenAI develops AGI, Microsoft will lose access to the company’s technology.",
     "Microsoft keeps access to OpenAI’s technology for its products.", False),
])
def test_conflicts_are_two_statements_that_disagree_on_the_point(question: str, first: str,
                                                                 second: str, conflict: bool) -> None:
    from assistant.answer.verify import find_conflicts

    sentences = [evidence(first, number=1), Evidence(2, "other", "Other", "other.txt", second, 0,
                                                     len(second), 0.7)]
    # the pool is wider than the two: a word in half of it names the subject, not the point
    sentences += [evidence(text, number=n) for n, text in enumerate(POOL, 3)]
    assert bool(find_conflicts(question, sentences)) is conflict


EXCERPT_QUOTES = ["Additionally, Microsoft identified OpenAI as a competitor in July, signaling change.",
                  "Microsoft is no longer the exclusive cloud provider for OpenAI.",
                  "Oracle Chairman Larry Ellison confirmed that construction began."]


@pytest.mark.parametrize("claim,quote", [
    # a bare answer cut word for word from one sentence is supported by it
    ("July", 0), ("July.", 0), ("Larry Ellison.", 2),
    # not an excerpt: cut from after a negation, too long to be a bare answer, not in any quote
    ("the exclusive cloud provider", None),
    ("Microsoft identified OpenAI as a competitor", None),
    ("September", None), ("in", None),
])
def test_a_bare_answer_cut_from_a_sentence_is_an_excerpt(claim: str, quote: int | None) -> None:
    from assistant.answer.verify import excerpt_of

    assert excerpt_of(claim, EXCERPT_QUOTES) == quote


@pytest.mark.parametrize("draft,question,kept,why", [
    # the judge found it stated: a support score below the threshold does not drop it, and it
    # is cited to what the judge read (the draft's own [2])
    ("Alicia Shapiro wrote the article [2].", "Who wrote the AiNews.com article?", True, ""),
    # a question asking what fills its predicate: repeating its words ("behind") is the form
    ("OpenAI, Oracle and SoftBank are behind the Stargate Project [1].",
     "Which companies are behind the Stargate Project?", True, ""),
    # a question taking its predicate as given: the echoed premise still fails
    ("Microsoft acquired Oracle in June 2023 [1].", "Why did Microsoft acquire Oracle?", False,
     "premise in no evidence"),
    # numbers in no evidence fail whatever the judge said
    ("Oracle is investing $50 billion [1].", "How much is Oracle investing?", False,
     "numbers in no evidence"),
])
def test_a_judged_sentence_keeps_the_hard_checks(draft: str, question: str, kept: bool,
                                                 why: str) -> None:
    from assistant.answer.evidence import SentenceVectors
    from assistant.answer.verify import check_sentence
    from assistant.index.embedding import MiniLMEmbedding

    sentences = [evidence("The Stargate Project is a joint venture between OpenAI, Oracle, SoftBank "
                          "and others, announced in June 2023.", number=1),
                 evidence("Editor’s Note: This article was created by Alicia Shapiro, CMO of "
                          "AiNews.com, with writing support from ChatGPT.", number=2)]
    vectors = SentenceVectors(MiniLMEmbedding())
    checked = check_sentence(draft, sentences, vectors, 0.99, question, judged=True)
    assert checked.supported is kept, checked.reason
    assert why in checked.reason
    if kept:
        assert checked.evidence == tuple(int(n) for n in draft[-3:-2])
    assert not check_sentence(draft, sentences, vectors, 0.99, question).supported


@pytest.mark.parametrize("claim,sentence,reversed_", [
    # the claim drops the negation its evidence has: every other word matches
    ("Microsoft remains the exclusive cloud provider for OpenAI under the new deal.",
     "In a significant shift, Microsoft is no longer the exclusive cloud provider for OpenAI.", True),
    ("Microsoft keeps its exclusivity.",
     "Microsoft will retain a right of first refusal but will no longer hold exclusivity.", True),
    # same polarity, or about another word than the negated one
    ("Microsoft is no longer the exclusive cloud provider.",
     "In a significant shift, Microsoft is no longer the exclusive cloud provider for OpenAI.", False),
    ("Microsoft will retain a right of first refusal.",
     "Microsoft will retain a right of first refusal but will no longer hold exclusivity.", False),
    ("Microsoft relinquished its role as the exclusive provider.",
     "Microsoft has relinquished its role as the exclusive provider of computing capacity.", False),
    ("Oracle's stock surged by 7%.", "Oracle’s stock surged by 7% following the announcement.", False),
])
def test_a_claim_that_drops_its_evidence_negation_is_caught(claim: str, sentence: str,
                                                            reversed_: bool) -> None:
    from assistant.answer.verify import reverses

    assert reverses(claim, sentence) is reversed_


@pytest.mark.parametrize("word,stemmed", [
    ("exclusively", "exclus"), ("exclusivity", "exclus"), ("exclusive", "exclus"),
    ("largely", "large"), ("deeply", "deep"),  # adverbs lose "-ly"
    ("supply", "supply"), ("fully", "fully"),  # "-ly" after a doubled consonant is no adverb's
    ("supplier", "supplier"), ("only", "only"),
])
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize("text,words", [
    ("Oracle's stock", {"oracle", "stock"}),
    ("the two companies' partnership", {"company", "partnership"}),  # a plural's possessive too
    ("OpenAI’s APIs", {"openai", "apis"}),
])
def test_content_words_drop_possessives(text: str, words: set[str]) -> None:
    assert content_words(text) == words


@pytest.mark.parametrize("text,words", [
    # irregular forms meet their dictionary form: "wrote" is "write", "bought" is "buy"
    ("Who wrote the article?", {"write", "article"}),
    ("Oracle bought CoreWeave", {"oracle", "buy", "coreweave"}),
    ("Microsoft paid", {"microsoft", "pay"}),
    # prepositions are not content: "behind" asks nothing a sentence must repeat
    ("Which companies are behind the Stargate Project?", {"company", "stargate", "project"}),
])
def test_content_words_are_lemmas_without_prepositions(text: str, words: set[str]) -> None:
    assert content_words(text) == words


def test_supply_and_supplier_are_the_same_word() -> None:
    found = content_words("right to supply computing")
    assert covers(content_words("sole compute supplier"), found) == pytest.approx(2 / 3)  # not "sole"


@pytest.mark.parametrize("sentence,claim,cited", [
    # the drafter pointing at its prompt is not part of what it claims
    ("The Stargate budget is $500 billion, as mentioned in evidence [1].",
     "The Stargate budget is $500 billion.", [1]),
    ("Sam Altman is the CEO of OpenAI, as stated in the evidence sentences [1, 2].",
     "Sam Altman is the CEO of OpenAI.", [1, 2]),
    ("Oracle joined in 2023, as explicitly stated in evidence.", "Oracle joined in 2023.", []),
    # only at the end of the claim: elsewhere the words are the claim's own
    ("This is stated in evidence sentence [3].", "This is stated in evidence sentence.", [3]),
    ("[2]", "second", [2]),  # a bare marker points at the answer
])
def test_claim_and_citations(sentence: str, claim: str, cited: list[int]) -> None:
    evidence = [Evidence(n, "doc", "Title", "source", text, 0, len(text), 0.5)
                for n, text in enumerate(["first", "second", "third"], 1)]
    assert claim_and_citations(sentence, evidence) == (claim, cited)


EVIDENCE_ROLES = ("Additionally, Microsoft identified OpenAI as a competitor in July. In 2023, Oracle "
                  "joined the mix as a significant cloud partner. Microsoft, the largest investor in "
                  "OpenAI, has relinquished its role as the exclusive provider of computing capacity.")


@pytest.mark.parametrize("claim,reversed_roles", [
    # the role the evidence gives one name, given to another: a reversal support scores miss
    ("Microsoft acts as a competitor for OpenAI in July.",
     ["microsoft as competitor (the evidence: openai)"]),
    ("CoreWeave joined as a cloud partner.", ["coreweave as partner (the evidence: oracle)"]),
    # the evidence's own binding, in other words or possessive
    ("Microsoft identified OpenAI as a competitor.", []),
    ("OpenAI's status as a competitor was noted in July.", []),
    ("Oracle came in as a cloud partner in 2023.", []),
    # a comma breaks the binding: "OpenAI, has relinquished its role as ..." binds nothing
    ("Microsoft acted as the exclusive provider of computing capacity.", []),
    ("The company acts as a competitor.", []),  # not a name: not checked
])
def test_a_role_given_to_another_name_is_caught(claim: str, reversed_roles: list[str]) -> None:
    assert misbound_roles(claim, EVIDENCE_ROLES) == reversed_roles


@pytest.mark.parametrize("sentence,roles", [
    ("Microsoft, the largest investor in OpenAI, has relinquished its role.", [("microsoft", "investor")]),
    ("Previously, Microsoft was the exclusive host for OpenAI’s AI workloads.", [("microsoft", "host")]),
    ("Microsoft is OpenAI's largest investor.", [("microsoft", "investor")]),
    ("Additionally, Microsoft identified OpenAI as a competitor in July.", [("openai", "competitor")]),
    ("Oracle has emerged as a “key initial technology partner” in the Stargate Project.",
     [("oracle", "partner")]),
    ("Oracle, a late entrant to the cloud market, grew.", [("oracle", "entrant")]),
    # a denial, a pronoun or a comma before "as" binds nothing
    ("Microsoft is no longer the exclusive cloud provider for OpenAI.", []),
    ("It was the exclusive host.", []),
    ("Microsoft, the investor, has relinquished its role as the exclusive provider.",
     [("microsoft", "investor")]),
])
def test_the_roles_a_sentence_binds(sentence: str, roles: list[tuple[str, str]]) -> None:
    assert [(r.holder, r.role) for r in bound_roles(sentence)] == roles


@pytest.mark.parametrize("sentence,phrases", [
    ("Microsoft, the largest investor in OpenAI, has relinquished its role.",
     ["Microsoft, the largest investor in OpenAI"]),
    ("Oracle, a late entrant to the cloud market, grew.", ["Oracle, a late entrant to the cloud market"]),
    ("Microsoft is OpenAI's largest investor.", []),  # a copula: the sentence says it alone
    ("In June 2023, Microsoft, under shareholder pressure, allowed it.", []),  # no article: no role
    ("At a press conference, Oracle Chairman Larry Ellison confirmed it.", ["Oracle Chairman Larry Ellison"]),
    ("Microsoft CEO Satya Nadella discussed it.", ["Microsoft CEO Satya Nadella"]),
    ("The Stargate Project begins.", []),  # "The" is no name's word
    ("At a White House press conference, it began.", []),  # two words: a name, not a title
])
def test_the_role_phrases_of_a_sentence(sentence: str, phrases: list[str]) -> None:
    assert role_phrases(sentence) == phrases


def test_titled_names_only_when_asked_for() -> None:
    sentence = "Microsoft, the largest investor in OpenAI, hired Microsoft CEO Satya Nadella."
    assert role_phrases(sentence, titled=False) == ["Microsoft, the largest investor in OpenAI"]


@pytest.mark.parametrize("question,phrase", [
    ("Where is the first Stargate site?", "the first Stargate site"),
    ("How has the Oracle-Microsoft relationship changed?", "the Oracle-Microsoft relationship"),
    ("What is the Stargate Project?", ""),  # the name is the noun phrase
    ("Is the Stargate Project in Texas?", ""),  # ... a function word follows
    ("How much is Oracle investing in Stargate?", ""),  # no "the": the name stands alone
    ("What does the Microsoft deal give?", "the Microsoft deal"),
])
def test_the_noun_phrase_a_name_modifies(question: str, phrase: str) -> None:
    run = next(r for r in name_runs(question) if r.start > 0)
    assert modified_phrase(question, run) == phrase


PREVIOUSLY = "Previously, Microsoft was the exclusive host for OpenAI’s AI workloads."


@pytest.mark.parametrize("claim,sentence,current", [
    # the evidence's past told as the present: every other word is in the evidence
    ("Microsoft acts as the exclusive host for OpenAI’s AI workloads.", PREVIOUSLY, True),
    ("Microsoft is the exclusive host.", PREVIOUSLY, True),
    # kept in the past, by tense or by the evidence's own word
    ("Microsoft was the exclusive host for OpenAI.", PREVIOUSLY, False),
    ("Previously, Microsoft hosted OpenAI’s AI workloads.", PREVIOUSLY, False),
    # evidence about the present: nothing to keep
    ("Microsoft is the largest investor.", "Microsoft, the largest investor in OpenAI, agreed.", False),
])
def test_a_claim_that_makes_the_past_current_is_caught(claim: str, sentence: str,
                                                       current: bool) -> None:
    assert makes_current(claim, sentence) is current


@pytest.mark.parametrize("question,text,ended", [
    ("Why did OpenAI stop using Azure entirely?", "OpenAI stop using Azure entirely", {"azure"}),
    ("Why did OpenAI end its partnership with Microsoft?", "OpenAI end its partnership with Microsoft",
     {"partnership"}),  # what ended, not who it was with
    ("When did Oracle buy CoreWeave?", None, None),  # nothing taken to have stopped
])
def test_a_question_that_takes_something_to_have_stopped(question: str, text: str | None,
                                                         ended: set[str] | None) -> None:
    stopped = cessation(question)
    assert (stopped and stopped.text, stopped and set(stopped.ended)) == (text, ended)


@pytest.mark.parametrize("sentence,goes_on,says_stopped", [
    ("OpenAI’s AI models will continue to run exclusively on Microsoft’s Azure platform.", True, False),
    ("OpenAI made a new large commitment to Azure, continuing to support OpenAI’s products.", True, False),
    ("If OpenAI continues to use Azure, Microsoft keeps its rights.", False, False),  # a condition
    ("OpenAI no longer uses Azure.", False, True),
    ("OpenAI stopped using Azure for training.", False, True),
    ("Microsoft’s collaboration with OpenAI remains strong.", False, False),  # not about Azure
])
def test_a_sentence_that_says_it_goes_on_contradicts_the_premise(sentence: str, goes_on: bool,
                                                                 says_stopped: bool) -> None:
    stopped = cessation("Why did OpenAI stop using Azure entirely?")
    assert stopped is not None
    assert contradicts_cessation(stopped, sentence) is goes_on
    assert states_cessation(stopped, sentence) is says_stopped


@pytest.mark.parametrize("question,sentence,reason", [
    # the rules that let a sentence answer without the question's words say so in the trace
    ("What is the Stargate budget?", "Stargate aims to invest up to $500 billion.", "budget~a sum of money"),
    ("By what percentage did Oracle shares climb?", "Oracle’s stock surged by 7% on the news.",
     "a percentage about oracle"),
])
def test_the_rule_that_picked_a_sentence_shows_in_the_reason(question: str, sentence: str,
                                                              reason: str) -> None:
    verdict = RuleJudge().judge(profile(question), [evidence(sentence)])
    assert verdict.answerable and reason in verdict.reason, verdict.reason
