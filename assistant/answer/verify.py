"""Verification: keep only answer sentences that the evidence supports, cited to that evidence.

A draft sentence is scored against every evidence sentence (embedding similarity plus
the share of its content words found there). It survives when its best score clears the
threshold and every number it states appears in the evidence, and it neither repeats a
premise no evidence states nor binds a name to a title or role the evidence gives another; it
is then cited to the evidence that supports it, whatever number the model wrote. Also here:
spotting two evidence sentences that disagree on the point asked. Not here: generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answer.evidence import Evidence, SentenceVectors, lexical_overlap
from assistant.answer.question import amount_noun, profile, states_money
from assistant.answer.roles import as_roles, name_runs
from assistant.core.text import content_words, lemma, numbers, same_word, words

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
# The drafter pointing at its prompt at the end of a claim: ", as mentioned in evidence [1]".
# The prompt calls the sources "evidence sentences"; the user never saw them by that name.
_PROMPT_TALK = re.compile(r",?\s+(?:as|which is)\s+(?:\w+ly\s+)?(?:stated|mentioned|said|given|noted|"
                          r"shown|confirmed)\s+(?:in|by)\s+(?:the\s+)?evidence(?:\s+sentences?)?"
                          r"(?=\s*(?:\[\d|[.!?]?\s*$))", re.IGNORECASE)
_NOT_KNOWN = re.compile(
    r"\b(i (do not|don't|cannot|can't) (know|answer|say)|not (mentioned|stated|specified|provided|"
    r"given)|(does|do) not (say|mention|state|specify|provide|contain)|no (information|mention)|"
    r"cannot be determined|unknown)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(no longer|not|never|relinquish\w*|lose|loses|lost|losing|loss|without|"
                       r"ended|ends)\b", re.IGNORECASE)
_CONDITIONAL = re.compile(r"\bif\b", re.IGNORECASE)
DECLINED = "says it does not know"
CITE_MARGIN = 0.05  # keep the model's own [n] when it is this close to the best support


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without markers, as the model wrote it
    support: float
    supported: bool
    evidence: tuple[int, ...]  # evidence numbers it is cited to (empty when dropped)
    reason: str = ""
    failed_claim: bool = False  # dropped because what it claims is not in the evidence

    @property
    def declined(self) -> bool:
        """The drafter said it does not know (a claim of nothing, not a wrong claim)."""
        return self.reason == DECLINED


def normalise_markers(draft: str) -> str:
    """Move "[n]" that follow a full stop in front of it, so sentences keep their markers."""
    return _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), draft)


def says_unknown(sentence: str) -> bool:
    return bool(_NOT_KNOWN.search(sentence))


def support_scores(claim: str, quotes: list[str], vectors: SentenceVectors,
                   generic: frozenset[str] = frozenset()) -> list[float]:
    """How well each quote supports the claim: half cosine, half content-word coverage."""
    cosines = vectors(quotes) @ vectors([claim])[0]
    return [0.5 * float(c) + 0.5 * lexical_overlap(claim, q, generic)
            for c, q in zip(cosines, quotes, strict=True)]


_LIGHT = frozenset(content_words("""mean meant remain happen describe include become involve cause
allow keep hold play role part main still exact exactly according article"""))  # as stems


def _is_light(stem: str) -> bool:
    """A light word ("role", "remain", "describe"): it says nothing about what is claimed."""
    return any(same_word(stem, light) for light in _LIGHT)


_AFFIRMED = re.compile(r"\W*yes\b", re.IGNORECASE)


def echoed_premise(claim: str, question: str, evidence_text: str) -> set[str]:
    """Words the claim takes from the question that no evidence has ("Microsoft *acquired*
    Oracle" for "Why did Microsoft acquire Oracle?"): a false premise repeated as fact.
    A claim opening with "Yes" to a yes/no question claims every word of the question. Only
    words of five letters or more, and not light verbs like "remain" or "mean"."""
    known = content_words(evidence_text)
    asked = [w for w in content_words(question) if len(w) >= 5 and not _is_light(w)
             and not (amount_noun(w) and states_money(evidence_text))]  # a sum is a "budget"
    claimed = content_words(claim)
    if _AFFIRMED.match(claim) and profile(question).kind == "yesno":
        claimed |= set(asked)  # "Yes, ..." to "Did Microsoft override the clause?" claims it did
    return {w for w in claimed
            if any(same_word(w, q) for q in asked) and not any(same_word(w, k) for k in known)}


@dataclass(frozen=True)
class Misbinding:
    """Words put before a name that the evidence never puts there: "Microsoft CEO" + "Sam Altman",
    and the claim's own text for the whole ("Microsoft's CEO Sam Altman")."""

    words: str
    name: str
    text: str

    def __str__(self) -> str:
        return self.text


def misbound_names(claim: str, evidence_text: str) -> list[Misbinding]:
    """Words the claim attaches to a name that the evidence never attaches to it: "Microsoft
    CEO Sam Altman" when the evidence only says "OpenAI CEO Sam Altman" (and "Microsoft CEO
    Satya Nadella"). Each word swapped stays in the evidence, so support scores miss it.
    Checked only where the claim and the evidence share a name of two words or more, and only
    for words the evidence itself puts before some name ("Microsoft" in "Microsoft CEO Satya
    Nadella"): a capitalised verb ("Summarize Sam Altman's comments") or a place ("the Texas
    Stargate Project") is not a title. Used on answer sentences and on the question itself,
    whose premise it then finds false."""
    evidence_runs = [run.words for run in name_runs(evidence_text)]
    qualifiers = set().union(*(content_words(" ".join(r[:-1])) for r in evidence_runs if len(r) > 1))
    found = []
    for claimed in name_runs(claim):
        run = claimed.words
        heads = []  # for each evidence run ending like this one: the words it puts before it
        for other in evidence_runs:
            shared = 0
            while (shared < min(len(run), len(other))
                   and run[-1 - shared] == other[-1 - shared]):
                shared += 1
            if shared >= 2:
                heads.append((shared, content_words(" ".join(other))))
        if not heads:
            continue
        shared = max(n for n, _ in heads)
        added = content_words(" ".join(run[: len(run) - shared]))
        if added and added <= qualifiers and all(added - words for _, words in heads):
            found.append(Misbinding(" ".join(run[: len(run) - shared]), " ".join(run[len(run) - shared:]),
                                    claim[claimed.start:claimed.end]))
    return found


def misbound_roles(claim: str, evidence_text: str) -> list[str]:
    """Roles the claim gives a name that the evidence gives only to another name: "Microsoft
    acts as a competitor for OpenAI" where the evidence says "Microsoft identified OpenAI as a
    competitor". Every word is in the evidence, so support scores miss the reversal."""
    bound = as_roles(evidence_text)
    reversed_roles = []
    for claimed in as_roles(claim):
        holders = {b.holder for b in bound if same_word(b.role, claimed.role)}
        if holders and claimed.holder not in holders:
            reversed_roles.append(f"{claimed.holder} as {claimed.role} (the evidence: "
                                  f"{', '.join(sorted(holders))})")
    return reversed_roles


REPEAT_RUN = 5  # a run of this many words said twice in one sentence is the model looping


def repeats_itself(sentence: str) -> bool:
    """Whether some run of REPEAT_RUN words occurs twice in the sentence ("..., which was
    revealed during Trump's announcement of the Stargate Project, which was revealed during
    Trump's announcement of the Stargate Project")."""
    tokens = sentence.lower().split()
    runs = [tuple(tokens[i:i + REPEAT_RUN]) for i in range(len(tokens) - REPEAT_RUN + 1)]
    return len(runs) != len(set(runs))


EXCERPT_WORDS = 4  # a bare answer ("July", "Larry Ellison") is at most this long


def excerpt_of(claim: str, quotes: list[str]) -> int | None:
    """Which quote a bare answer is cut from, word for word: "July" from "... as a competitor
    in July, ...". Embedding similarity rates a one-word claim far from its long sentence,
    though the sentence is all the support it needs. A fragment cut from after a negation
    ("the exclusive cloud provider" from "no longer the exclusive ...") is not an excerpt."""
    wanted = words(claim)
    if not wanted or len(wanted) > EXCERPT_WORDS or not content_words(claim):
        return None
    for i, quote in enumerate(quotes):
        said = words(quote)
        for start in range(len(said) - len(wanted) + 1):
            if said[start:start + len(wanted)] == wanted and not _NEGATION.search(
                    " ".join(said[max(0, start - 3):start])):
                return i
    return None


def claim_and_citations(sentence: str, evidence: list[Evidence]) -> tuple[str, list[int]]:
    """A draft sentence without its [n] markers or a closing ", as stated in evidence", and the
    evidence numbers it cites (those that exist). A bare "[2]" is the model pointing at its
    answer: the claim is that sentence."""
    cited = [int(n) for group in MARKER.findall(sentence) for n in group.split(",")]
    cited = [n for n in dict.fromkeys(cited) if 1 <= n <= len(evidence)]
    claim = MARKER.sub("", _PROMPT_TALK.sub("", sentence)).strip()
    if not claim.strip(" .") and len(cited) == 1:
        claim = evidence[cited[0] - 1].text
    return claim, cited


def check_sentence(sentence: str, evidence: list[Evidence], vectors: SentenceVectors,
                   threshold: float, question: str = "",
                   generic: frozenset[str] = frozenset(), *, judged: bool = False,
                   ) -> CheckedSentence:
    """Whether the evidence supports one draft sentence, and which evidence to cite for it.

    `generic` are the subject words to discount (see `generic_words`, computed over the
    wider evidence pool: over four sentences everything looks generic). `judged`: the LLM
    judge found this sentence stated by its evidence (`judge.LLMJudge`), a better test of
    entailment than the support score, which then only chooses the citation. If the question
    asks what fills its predicate ("Which companies are *behind* Stargate?"), repeating its
    words is then the answer's form, not a premise taken over. The hard checks still apply:
    numbers in no evidence, a name given words the evidence never gives it, a role the
    evidence gives another name ("Microsoft acts as a competitor")."""
    claim, cited = claim_and_citations(sentence, evidence)
    if not claim or says_unknown(claim) or not evidence:
        return CheckedSentence(claim, 0.0, False, (), DECLINED, True)
    if repeats_itself(claim):
        return CheckedSentence(claim, 0.0, False, (), "repeats itself (a degenerate draft)")
    evidence_text = " ".join(e.text for e in evidence)
    loose = numbers(claim) - numbers(evidence_text)
    if loose:
        return CheckedSentence(claim, 0.0, False, (), f"numbers in no evidence: {sorted(loose)}", True)
    echo_is_form = judged and profile(question).asks_filler
    echoed = set() if echo_is_form else echoed_premise(claim, question, evidence_text)
    if echoed:
        return CheckedSentence(claim, 0.0, False, (), f"premise in no evidence: {sorted(echoed)}", True)
    misbound = misbound_names(claim, evidence_text)
    if misbound:
        return CheckedSentence(claim, 0.0, False, (), "gives a name words the evidence never gives "
                               f"it: {[str(m) for m in misbound]}", True)
    reversed_roles = misbound_roles(claim, evidence_text)
    if reversed_roles:
        return CheckedSentence(claim, 0.0, False, (), "gives a name a role the evidence gives "
                               f"another: {reversed_roles}", True)
    excerpt = excerpt_of(claim, [e.text for e in evidence])
    if excerpt is not None:  # "July": a bare answer cut from one sentence, which supports it
        return CheckedSentence(claim, 1.0, True, (evidence[excerpt].number,))
    scores = support_scores(claim, [e.text for e in evidence], vectors, generic)
    best = int(np.argmax(scores))
    if judged:  # cited to what the judge read: the draft's own [n], else the best match
        keep = tuple(cited) or (evidence[best].number,)
    elif scores[best] < threshold:
        return CheckedSentence(claim, scores[best], False, (), "no evidence supports it", True)
    else:
        keep = tuple(sorted({n for n in cited if 1 <= n <= len(evidence)
                             and scores[n - 1] >= max(threshold, scores[best] - CITE_MARGIN)}))
        keep = keep or (evidence[best].number,)
    by_number = {e.number: e for e in evidence}
    if all(reverses(claim, by_number[n].text) for n in keep):
        return CheckedSentence(claim, scores[best], False, (), "affirms what its evidence negates: "
                               f"{sorted(negated_stems(by_number[keep[0]].text))}", True)
    if all(makes_current(claim, by_number[n].text) for n in keep):
        return CheckedSentence(claim, scores[best], False, (), "presents as current what its "
                               "evidence says was so before (“previously”)", True)
    return CheckedSentence(claim, scores[best], True, keep)


# A sentence about a state that has ended ("Previously, Microsoft was the exclusive host"), and
# the words by which a claim keeps it in the past.
_FORMERLY = re.compile(r"\b(previously|formerly|used to|in the past|until recently|originally)\b",
                       re.IGNORECASE)
_PAST = re.compile(rf"{_FORMERLY.pattern}|\b(was|were|had)\b", re.IGNORECASE)


def makes_current(claim: str, sentence: str) -> bool:
    """The claim states in the present what the sentence says was so before: "Microsoft acts as
    the exclusive host" from "Previously, Microsoft was the exclusive host". Every word but
    "previously" is in the sentence, so support scores rate it high."""
    return bool(_FORMERLY.search(sentence)) and not _PAST.search(claim)


# Aspect verbs: a question that asks why something stopped presupposes that it did; a sentence
# saying it continues contradicts that.
_CESSATION = frozenset({"stop", "end", "cease", "quit", "abandon", "halt"})
_CONTINUATION = frozenset(content_words("continue remain maintain keep still"))
_USE = frozenset(content_words("use using"))  # "stop using Azure": what stopped is Azure


@dataclass(frozen=True)
class Cessation:
    """A question's presupposition that something stopped ("OpenAI stop using Azure entirely")."""

    text: str  # the question's own words, from its subject on
    ended: frozenset[str]  # what stopped, as content words: azure (light words like "use" left out)

    def __str__(self) -> str:
        return self.text


def cessation(question: str) -> Cessation | None:
    """What a "Why did X stop/end Y?" question takes as having stopped; None when it takes
    nothing to have stopped."""
    tokens = question.split()
    for i, token in enumerate(tokens):
        if lemma(re.sub(r"\W", "", token).lower()) in _CESSATION:
            after = [t for t in tokens[i + 1: i + 5]  # not "entirely", nor "OpenAI's" (a determiner)
                     if not t.lower().rstrip("?.!,").endswith(("ly", "'s", "’s"))]
            # what stopped: the first content word after the verb ("using" and "entirely" passed
            # over), not its complements ("its partnership with Microsoft": partnership)
            ended = frozenset(next(([w] for t in after for w in content_words(t)
                                    if not _is_light(w) and w not in _USE), []))
            said = re.search(r"\b(?:did|does|do|has|have|had)\s+(.+?)[?.!]*$", question)
            if ended and said:
                return Cessation(said.group(1), ended)
    return None


def contradicts_cessation(premise: Cessation, sentence: str) -> bool:
    """The sentence says that what the premise has stopped goes on ("continuing to support
    ... Azure", "maintain a close partnership"), without a negation of its own."""
    found = content_words(sentence)
    return (bool(found & _CONTINUATION) and premise.ended <= found
            and not _NEGATION.search(sentence) and not _CONDITIONAL.search(sentence))


def states_cessation(premise: Cessation, sentence: str) -> bool:
    """The sentence itself says that it stopped, or denies it within a few words of a
    negation ("OpenAI no longer uses Azure")."""
    words = {lemma(w) for w in re.findall(r"[a-z]+", sentence.lower())}
    if words & _CESSATION and premise.ended <= content_words(sentence):
        return True
    return any(premise.ended & content_words(" ".join(sentence[m.end():].split()[:4]))
               for m in _NEGATION.finditer(sentence))


def reverses(claim: str, sentence: str) -> bool:
    """The claim affirms what the sentence negates: "Microsoft remains the exclusive cloud
    provider" from "Microsoft is no longer the exclusive cloud provider". Every word but the
    negation is in the sentence, so support scores rate it high."""
    return not _NEGATION.search(claim) and bool(negated_stems(sentence) & content_words(claim))


def negated_stems(sentence: str) -> set[str]:
    """The first content word after each negation: "no longer the exclusive provider" -> exclus.
    Light words are passed over: "relinquished its role as the exclusive provider" negates
    "exclusive", not "role" (which "Oracle's role in Stargate" would otherwise contradict)."""
    found: set[str] = set()
    for match in _NEGATION.finditer(sentence):
        for word in sentence[match.end():].split()[:6]:
            stems = {w for w in content_words(word) if not _is_light(w)}
            if stems:
                found |= stems
                break
    return found


def affirms(sentence: str, stems: frozenset[str] | set[str]) -> bool:
    """The sentence states one of `stems` as a fact: no negation, no condition."""
    return (not _NEGATION.search(sentence) and not _CONDITIONAL.search(sentence)
            and bool(stems & content_words(sentence)))


def find_conflicts(question: str, evidence: list[Evidence]) -> list[tuple[Evidence, Evidence]]:
    """Pairs from different documents where one negates, on the point asked, what the other affirms.

    Conditionals ("if OpenAI develops AGI ...") are not statements of fact and never count.
    """
    words = [content_words(e.text) for e in evidence]
    # Words in half the evidence ("OpenAI", "Microsoft") name the subject, not the point.
    generic = {w for w in set().union(*words) if sum(w in ws for ws in words) * 2 >= len(words)}
    topic = content_words(question) - generic
    facts = [e for e in evidence if not _CONDITIONAL.search(e.text)]
    pairs = []
    for a in facts:
        negated = negated_stems(a.text) & topic
        for b in facts if negated else []:
            if b is not a and not _NEGATION.search(b.text) and negated & content_words(b.text):
                pairs.append((a, b))
    # Prefer two sources disagreeing over one source disagreeing with itself.
    pairs.sort(key=lambda pair: pair[0].doc_id == pair[1].doc_id)
    return pairs[:1]
