"""The general checks of a claim against its sentence, each with a family of paraphrases.

A known limit, left out of the tables: "The warranty covers fire damage." against "It does not
cover water damage." counts as a clash (the claim holds half of what the negation governs).

None of these sentences comes from an eval corpus: they are written to vary the wording of one
mechanism (a negation, a figure, a name, the point two sentences share).
"""

from __future__ import annotations

import pytest

from assistant.answer.checks import (
    changed_from,
    differs,
    misbound,
    missing_specifics,
    negated_words,
    polarity_clash,
    repeats,
    replaced,
    same_point,
)

# (claim, sentence, clash)
POLARITY = [
    ("The warranty covers water damage.", "The warranty does not cover water damage.", True),
    ("Water damage is covered.", "Water damage is excluded from the warranty.", True),
    ("Yes, the plan covers water damage.", "The plan never covers water damage.", True),
    ("The museum is open on Mondays.", "The museum is not open on Mondays.", True),
    ("Members can still borrow e-books.", "Members can no longer borrow e-books.", True),
    # "no longer" negates what follows it, not "longer": a clause of the sentence that still
    # affirms the claim's point clashes with the claim that denies it
    ("Microsoft will no longer retain a right of first refusal.",
     "Microsoft will retain a right of first refusal but will no longer hold exclusivity.", True),
    ("Members will no longer borrow e-books.",
     "Members can borrow e-books, but they can no longer reserve print titles.", True),
    ("The fund no longer awards travel grants.",
     "The fund awards travel grants; it no longer pays for equipment.", True),
    ("The fund no longer pays for equipment.",
     "The fund pays travel grants; it no longer pays for equipment.", False),
    ("Refunds are available for monthly plans.", "Monthly plans aren't refunded.", True),
    ("The warranty does not cover water damage.", "The warranty covers water damage.", True),
    ("The warranty does not cover water damage.", "Water damage is not covered.", False),
    ("Ben Adair is leaving Acme Labs.", "Adair is not leaving the company: he moves to a new role.",
     True),
    ("Monthly plans are refunded when you cancel.",
     "Monthly plans are not refunded, but you can cancel at any time.", True),
    ("The museum is open on Sundays.", "The museum is open on Sundays and holidays.", False),
    # "no more than", "not later than": a bound on a quantity, which denies nothing
    ("You may claim expenses for no more than five days.",
     "You may claim expenses for a maximum of five days.", False),
    ("Members may borrow at most ten books.", "Members may borrow no more than ten books.", False),
    ("Entries must arrive no later than 1 May.", "Entries must arrive by 1 May.", False),
    ("The loan lasts not longer than three weeks.", "The loan lasts up to three weeks.", False),
    ("Each guest may bring no fewer than two items.", "Each guest brings two items or more.", False),
    # ... while a negation with no "than" after it still denies
    ("You may claim expenses for more days.", "You may not claim expenses for more days.", True),
    ("Members may borrow more books.", "Members may no longer borrow more books.", True),
    # a list the negation governs denies each of its items, and nothing it does not list
    ("The Pro plan has the uptime commitment.",
     "The uptime commitment does not apply to the Free, Plus or Pro plans.", True),
    ("Plus plans get the uptime commitment.",
     "The uptime commitment does not apply to Free, Plus and Pro plans.", True),
    ("Gold members can book the companion reward.",
     "The companion reward is not available to Silver or Blue members.", False),
    ("Blue members can book the companion reward.",
     "The companion reward is not available to Silver or Blue members.", True),
    ("The Team plan has the uptime commitment.",
     "The uptime commitment does not apply to the Free, Plus or Pro plans.", False),
]


@pytest.mark.parametrize(("claim", "sentence", "clash"), POLARITY)
def test_polarity_clash(claim: str, sentence: str, clash: bool) -> None:
    assert polarity_clash(claim, sentence) is clash


def test_names_count_for_a_yes_no_question_but_not_for_a_premise() -> None:
    """A negation whose object is only names: it answers "does it include X?" with no, but does
    not deny what a wh-question about X takes for granted."""
    sentence = "The offer does not include Acme Classic."
    assert polarity_clash("Does the offer include Acme Classic?", sentence)
    assert not polarity_clash("When did Acme Classic launch?", sentence, with_names=False)
    assert polarity_clash("Is my Pro plan covered?", "The commitment does not apply to the Pro plan.")


def test_negated_words_are_those_a_negation_governs() -> None:
    assert negated_words("It does not cover water damage.") == {"cover", "water", "damage"}
    assert negated_words("Plans are not refunded, but you can cancel.") == {"refund"}
    assert negated_words("Water damage is excluded from the warranty.") == {"water", "damage"}
    assert "sunday" not in negated_words("The museum is open on Sundays.")
    assert negated_words("Claims are paid for no more than five days.") == set()
    assert "pay" in negated_words("Claims are not paid for more than five days.")


@pytest.mark.parametrize(("claim", "sentence", "missing"), [
    ("The plant employs 400 people.", "The plant will employ 400 people.", []),
    ("The plant employs 450 people.", "The plant will employ 400 people.", ["450"]),
    ("The plant employs 1,200 people.", "The plant will employ 1200 people.", []),
    ("Dana Reyes leads the plant.", "The plant is led by Dana Reyes.", []),
    ("Omar Haddad leads the plant.", "The plant is led by Dana Reyes.", ["haddad", "omar"]),
    # a number spelled out is that number, not a name, scaled by "hundred" or "thousand"
    ("Twelve buses run at night.", "The city runs 12 buses at night.", []),
    ("The fund paid out two thousand dollars.", "The fund paid $2,000.", []),
    ("About three hundred people came.", "Some 300 people came.", []),
    ("Four hundred people came.", "Some 300 people came.", ["400"]),
    ("A thousand people came.", "Some 1,000 people came.", []),
    # a version number is one number: 4.0.1 is not 4.0
    ("The fix ships in 4.0.1.", "A fix is planned for 4.0.1.", []),
    ("The fix ships in 4.0.", "A fix is planned for 4.0.1.", ["4.0"]),
    # a name the sentence writes in lower case is held: names compare as words do
    ("The Windows app crashes.", "Since the update the windows app crashes on start.", []),
    ("Rogers approved the budget.", "The budget was approved by the rogers family trust.", []),
])
def test_missing_specifics(claim: str, sentence: str, missing: list[str]) -> None:
    assert missing_specifics(claim, sentence) == missing


@pytest.mark.parametrize(("claim", "missing"), [
    # the context (title, sentence before) says who or what "it" is ...
    ("The Denver plant will employ 400 people.", []),
    ("Acme's new plant will employ 400 people.", []),
    # ... not what it costs or counts: a figure only the context holds is missing
    ("The Denver plant will cost $40 million.", ["40"]),
    ("The Denver plant will employ 400 people from 2026.", ["2026"]),
])
def test_missing_specifics_in_context(claim: str, missing: list[str]) -> None:
    context = "Acme opens its Denver plant in 2026 at a cost of $40 million."
    assert missing_specifics(claim, "The plant will employ 400 people.", context) == missing


@pytest.mark.parametrize(("a", "b", "point", "differ"), [
    ("Plus costs $5 per month billed annually.", "Plus rises from $5 to $6 per month billed annually.",
     True, True),
    ("The head of support is Marisol Vega.", "The head of support is Dev Kapoor.", True, True),
    ("Phone support is included in the Pro plan.", "Phone support is no longer included in any plan.",
     True, True),
    ("The library opens at 9 a.m.", "The library opens at 9 a.m. on weekdays.", True, False),
    ("The library opens at 9 a.m.", "Parking costs $2 per hour.", False, True),
    # on one point, a list one sentence negates need not name what the other affirms
    ("Members can renew loans online.", "Members can no longer renew e-books or audiobooks online.",
     True, True),
])
def test_same_point_and_differs(a: str, b: str, point: bool, differ: bool) -> None:
    assert same_point(a, b) is point
    assert differs(a, b) is differ


def test_repeats() -> None:
    earlier = ["The plant will employ 400 people from next year."]
    assert repeats("The plant will employ 400 people.", earlier)
    assert not repeats("The plant makes bicycle frames.", earlier)


@pytest.mark.parametrize(("claim", "sentence", "wrong"), [
    ("The leak was fixed by Omar Haddad.",
     "The leak was reported by Omar Haddad and was fixed by the Harbour Plumbing team.", True),
    ("Dana Reyes will report to Ben Cho.", "Reyes will report to Ana Ortiz, and Cho will report to Reyes.",
     True),
    ("Northwind acquired Contoso.", "Contoso acquired Northwind in 2021.", True),
    ("Contoso acquired Northwind.", "Contoso acquired Northwind in 2021.", False),
    ("Ana Ortiz is the chief executive.", "Reyes will report to chief executive Ana Ortiz.", False),
    # a word before a name anywhere in its clause may be bound to it: lists, long noun phrases
    ("The app runs on Linux 6.", "The app runs on Windows 11, macOS 14 or Linux 6 and later.", False),
    ("Ames spoke with Kim Lund on the radio.",
     "Mayor Ames spoke with Harbour Board chair Kim Lund on the radio.", False),
    ("The first Harbour market is in Kestrel.", "The first market, in Kestrel, opens the Harbour season.",
     False),
    ("The bridge opens on March 3, 2026.", "Its opening moves from May 1, 2025 to March 3, 2026.", False),
    # ... but not across a clause boundary, and not when the claim binds it to the other name too
    ("The roof was repaired by Lena Dahl.",
     "Lena Dahl inspected the roof, and it was repaired by the Nordbyg crew.", True),
    ("In 2023, Acme allowed Beta to sign with Gamma.",  # wrong, but by its other name (Gamma)
     "In 2023, Acme, under pressure, allowed Beta to sign with Delta.", False),
    # the active voice: a clause's subject is bound to the words after it
    ("Ortiz will pay for the new pier.",
     "The Harbour Trust will pay for the new pier, while Ortiz will train the crews.", True),
    ("Volt designs the frames.", "Acme designs the frames, and Volt paints them.", True),
    ("Lena Dahl repaired the roof.", "Lena Dahl inspected the roof, but the Nordbyg crew repaired it.",
     True),
    ("Feld fixed the flaw.", "The flaw was reported by Feld, and was fixed by the Nordbyg team.", True),
    ("Pro subscribers can call the support line.",
     "Pro and Team subscribers can also call our support line.", False),
    ("Contoso and Northwind signed the deal.", "Northwind signed the deal with Contoso.", False),
    ("Acme designs the frames.", "Acme designs the frames, and Volt paints them.", False),
])
def test_misbound(claim: str, sentence: str, wrong: bool) -> None:
    assert bool(misbound(claim, sentence)) is wrong


@pytest.mark.parametrize(("claim", "sentence", "other"), [
    ("The pass costs $40.", "The pass costs $50.", True),
    ("The plant opened in 2022.", "The plant opened in March 2023.", True),
    ("The frames are designed by Acme.", "The frames are designed by Volt.", True),
    # lacking a figure is not stating another in its place
    ("Acme carried 1.4 million passengers in 2023.",
     "It carried 1.4 million passengers last year and expects 1.6 million this year.", False),
    ("The pass costs $40.", "The pass costs $40 a month, and a day pass $6.", False),
    ("The plant opened in 2022.", "The plant, which employs 400 people, opened that spring.", False),
])
def test_replaced(claim: str, sentence: str, other: bool) -> None:
    assert replaced(claim, sentence) is other


@pytest.mark.parametrize(("claim", "sentence", "old"), [
    ("The pass costs $60.", "The pass rises from $60 to $65 in March.", True),
    ("The pass costs $65.", "The pass rises from $60 to $65 in March.", False),
    ("The branch reopens on 2 June 2025.", "Its reopening moves from June 2, 2025 to September 8, 2025.",
     True),
    ("The pass costs $60.", "The pass costs $60 for adults.", False),
])
def test_changed_from(claim: str, sentence: str, old: bool) -> None:
    assert changed_from(claim, sentence) is old
