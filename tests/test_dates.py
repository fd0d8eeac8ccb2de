"""Document dates: read from every format, at their precision, never invented; metadata lines
marked so that they are never evidence; as_of and the timeline on real stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.core.dates import PartialDate, check_as_of, dates_in, parse_date
from assistant.core.errors import InputError
from assistant.index.documents import load_document
from assistant.index.metadata import decode_spans

BODY = "The Harbour Library reopens its reading room after a year of repairs. It holds 40 desks."


def _html(head: str, body: str = "") -> str:
    return (f"<html><head><title>Reading room</title>{head}</head><body><nav>Home | News</nav>"
            f"{body}<p>{BODY}</p><footer>© Harbour Library</footer></body></html>")


def _pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2024, 5, 21, 10, 30, tzinfo=dt.UTC))
    pdf.set_title("Reading room")
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, BODY)
    pdf.output(str(path))


def _docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.created = dt.datetime(2024, 3, 18, 9, 0)
    document.core_properties.title = "Reading room"
    document.add_paragraph(BODY)
    document.save(str(path))


# (file name, writer, expected ISO date, where it was read)
FORMATS = [
    ("front-matter.md",
     lambda p: p.write_text(f"---\ntitle: Reading room\ndate: 2024-02-06\n---\n\n{BODY}\n"),
     "2024-02-06", "front matter"),
    ("published-key.md", lambda p: p.write_text(f"---\npublished: 2024-02\n---\n{BODY}\n"),
     "2024-02", "front matter"),
    ("article-time.html", lambda p: p.write_text(_html(
        '<meta property="article:published_time" content="2024-03-01T08:00:00Z">')),
     "2024-03-01", "HTML meta"),
    ("meta-date.html", lambda p: p.write_text(_html('<meta name="date" content="2023-11-30">')),
     "2023-11-30", "HTML meta"),
    ("time-tag.html", lambda p: p.write_text(_html("", '<time datetime="2024-09-24">24 Sep</time>')),
     "2024-09-24", "HTML <time>"),
    ("advisory.pdf", _pdf, "2024-05-21", "PDF metadata"),
    ("policy.docx", _docx, "2024-03-18", "DOCX properties"),
    ("news.txt", lambda p: p.write_text(f"By Dana Reyes\nPublished: June 10, 2024\n\n{BODY}\n"),
     "2024-06-10", "metadata line"),
    ("dateline.txt", lambda p: p.write_text(
        f"Reading room reopens\n\nPORTLAND, Ore., March 3, 2025 — {BODY} The work cost $2 million.\n"),
     "2025-03-03", "dateline"),
    ("undated.txt", lambda p: p.write_text(f"{BODY}\nIt first opened in 1998.\n"), "", ""),
]


@pytest.mark.parametrize(("name", "write", "date", "origin"), FORMATS)
def test_the_date_is_read_from_each_format(tmp_path: Path, name: str, write: object, date: str,
                                           origin: str) -> None:
    path = tmp_path / name
    write(path)  # type: ignore[operator]
    doc = load_document(path, name)
    assert (doc.published, doc.extra["published_from"]) == (date, origin)


def test_the_manifest_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "front-matter.md"
    FORMATS[0][1](path)  # type: ignore[operator]
    doc = load_document(path, path.name, {"published": "2023"})
    assert (doc.published, doc.extra["published_from"]) == ("2023", "manifest")


def test_metadata_lines_are_marked_and_offsets_stay_exact(tmp_path: Path) -> None:
    path = tmp_path / "news.txt"
    path.write_text(f"---\ntitle: x\n---\nBy Dana Reyes\nPublished: June 10, 2024\n{BODY}\n"
                    "Image source: Harbour Library archive\n")
    doc = load_document(path, path.name)
    marked = [doc.text[s:e] for s, e in decode_spans(doc.extra["metadata_spans"])]
    assert marked[0].startswith("---\ntitle: x") and "By Dana Reyes" in marked
    assert "Published: June 10, 2024" in marked and "Image source: Harbour Library archive" in marked
    assert not any(BODY[:20] in m for m in marked)
    assert doc.text == path.read_text()


@pytest.mark.parametrize(("line", "marked"), [
    ("Image source: Fernhill Labs press kit. Grace Hollis at Fernhill's office in Portland's "
     "Central Eastside.", True),
    ("Photo: Reuters. Satya Nadella speaks at the Build conference in Seattle on May 21, 2024, "
     "about the new models.", True),
    ("Picture credit: Harbour Library archive. Readers queue outside the reading room on the "
     "first morning after the reopening.", True),
    ("Photo: Satya Nadella speaks at the Build conference in Seattle on May 21, 2024, about the "
     "new models and the partnership.", False),  # its first sentence is long: text, not a credit
    ("Sources: Acme annual report. The plant employs 400 people and will close in May, the "
     "company said on Tuesday.", False),  # only a picture's line goes on with a caption
    ("Updated: March 3. Acme now says the Denver plant will stay open until the end of 2026 "
     "at least.", False),
    ("Owner: Customer Operations, Harbour Library Trust", True),  # a policy's document control
    ("Owners of a reader card can borrow twelve books at a time from any branch of the "
     "library.", False),
])
def test_a_labelled_line_below_the_top_is_metadata_when_short(tmp_path: Path, line: str,
                                                              marked: bool) -> None:
    path = tmp_path / "news.txt"
    path.write_text(f"{BODY}\n{BODY}\n{BODY}\n{BODY}\n{BODY}\n{BODY}\n{BODY}\n{BODY}\n{line}\n{BODY}\n")
    doc = load_document(path, path.name)
    spans = [doc.text[s:e] for s, e in decode_spans(doc.extra["metadata_spans"])]
    assert (line in spans) is marked, spans


@pytest.mark.parametrize(("line", "near_top", "marked"), [
    ("By Dana Reyes", False, True), ("By Dana Reyes, Harbour Gazette", True, True),
    ("Written by Dana Reyes", True, True), ("Updated 3 March 2025", True, True),
    ("Source Reuters", True, True), ("Updated on March 3", True, True), ("BY Jane Doe", True, True),
    ("By the Associated Press", False, True), ("By staff writers", False, True),
    ("By Jane Doe Jr.", False, True), ("Posted 2 hours ago", True, True),
    ("Written by staff", True, True), ("Filed under Politics", True, True),
    ("By March 2026 the Plover bridge will cost 9 million dollars.", False, False),
    ("By Monday, the team had left the site.", False, False),
    ("By 2031 the Plover bridge will cost 9 million dollars.", False, False),
    ("By 2031 the Plover bridge will cost 9 million dollars.", True, False),
    ("By the end of 2025 the plan will cost 6 dollars.", True, False),
    ("By contrast, the ferry runs every hour.", False, False),
    ("Published research shows the bridge is safe.", True, False),
    ("Sources say the deal is off.", True, False),
])
def test_a_sentence_opening_like_a_byline_is_text(tmp_path: Path, line: str, near_top: bool,
                                                  marked: bool) -> None:
    """A labelled line without a colon is a byline or dateline only when it goes on as one (a
    name after "By", near the top a date or a name): before, any short line opening with "By"
    was metadata, so "By 2031 the bridge will cost ..." was never quoted and dated the document
    2031."""
    body = f"{line}\n" + f"{BODY}\n" * 9 if near_top else f"{BODY}\n" * 9 + f"{line}\n{BODY}\n"
    path = tmp_path / "notice.txt"
    path.write_text(body)
    doc = load_document(path, path.name)
    spans = [doc.text[s:e] for s, e in decode_spans(doc.extra["metadata_spans"])]
    assert (line in spans) is marked, spans
    if not marked:
        assert doc.extra["published_from"] != "metadata line", doc.published


@pytest.mark.parametrize(("text", "iso", "precision"), [
    ("2025", "2025", "year"), ("2025-01", "2025-01", "month"), ("2025-01-21", "2025-01-21", "day"),
    ("2025-01-21T10:00:00Z", "2025-01-21", "day"), ("21 January 2025", "2025-01-21", "day"),
    ("January 21, 2025", "2025-01-21", "day"), ("June 2023", "2023-06", "month"),
    ("Jan. 2025", "2025-01", "month"),
])
def test_parse_date_keeps_the_precision(text: str, iso: str, precision: str) -> None:
    date = parse_date(text)
    assert date is not None and (date.iso(), date.precision) == (iso, precision)


def test_a_month_covers_its_days() -> None:
    january = PartialDate(2025, 1)
    assert (january.starts(), january.covers_until()) == ("2025-01-01", "2025-01-31")
    assert PartialDate(2024, 2).covers_until() == "2024-02-29"


@pytest.mark.parametrize(("text", "read"), [
    ("2025-13-01", None), ("someday", None), ("", None),
    ("32 January 2025", None),  # no such day: not a date, and nothing is guessed
])
def test_what_is_not_a_date(text: str, read: PartialDate | None) -> None:
    assert parse_date(text) == read


def test_dates_in_running_text() -> None:
    text = "In June 2023 it grew; through 2030 it holds."
    assert [(d.iso(), text[s:e]) for d, s, e in dates_in(text)] == [("2023-06", "June 2023"),
                                                                     ("2030", "2030")]


@pytest.mark.parametrize("value", ["yesterday", "2025-99", 2025, ["2025"]])
def test_a_bad_as_of_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="must be a date"):
        check_as_of(value)


@pytest.mark.parametrize(("value", "year"), [("2300", 2300), ("2300-01-01", 2300),
                                             ("31 March 2300", 2300), ("1850-06", 1850)])
def test_an_as_of_year_out_of_range_says_the_range(value: str, year: int) -> None:
    with pytest.raises(ValueError, match=f"as_of year {year} is outside 1900–2099"):
        check_as_of(value)


def test_a_long_as_of_is_refused_at_once() -> None:
    """Each 4-digit group was tried as a year over the whole text: 40 KB took 84 s of CPU."""
    with pytest.raises(ValueError, match="got 40,000 characters"):
        check_as_of("1111 " * 8000)


def test_the_python_api_says_the_range_of_years(tmp_path: Path) -> None:
    """Dates are read in the years 1900-2099; "2300-01-01" got "must be a date" alone."""
    bot = Assistant(data_dir=str(tmp_path / "data"), llm="none")
    with pytest.raises(InputError, match="as_of year 2300 is outside 1900–2099") as info:
        bot.search("Abilene", as_of="2300-01-01")
    assert "'2300-01-01'" in str(info.value)
    with pytest.raises(InputError, match="must be a date such as"):  # not a date at all: as before
        bot.search("Abilene", as_of="2025-13-01")


# --- on a real store: as_of and the timeline ------------------------------------------------------
OLD = ("price-list-2024.txt", "Published: 2024-01-15\nThe Reading Pass costs $40 a year.\n"
       "The reading room opened in June 2019.\n")
NEW = ("price-list-2025.txt", "Published: 2025-02-01\nThe Reading Pass now costs $55 a year.\n"
       "From March 2025 members may bring one guest.\n")


@pytest.fixture(scope="module")
def dated_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("dated")
    docs = root / "docs"
    docs.mkdir()
    for name, text in (OLD, NEW):
        (docs / name).write_text(text)
    bot = Assistant(data_dir=str(root / "data"), llm="none")
    assert bot.ingest([docs]).ok
    return bot


def test_documents_list_their_dates(dated_bot: Assistant) -> None:
    dates = {d.source: (d.published, d.published_from) for d in dated_bot.documents()}
    assert dates == {OLD[0]: ("2024-01-15", "metadata line"), NEW[0]: ("2025-02-01", "metadata line")}


def test_as_of_keeps_later_documents_out(dated_bot: Assistant) -> None:
    hits = dated_bot.search("How much does the Reading Pass cost?", as_of="2024-06-30")
    assert hits and {h.source for h in hits} == {OLD[0]}
    assert all(h.published == "2024-01-15" for h in hits)
    # a date object is a date too (it was "as_of must be a date such as 2025-03-31")
    for day in (dt.date(2024, 6, 30), dt.datetime(2024, 6, 30, 23, 59)):
        assert dated_bot.search("How much does the Reading Pass cost?", as_of=day) == hits
    assert NEW[0] in {h.source for h in dated_bot.search("How much does the Reading Pass cost?",
                                                         as_of=dt.date(2025, 2, 1))}
    later = dated_bot.search("How much does the Reading Pass cost?")
    assert NEW[0] in {h.source for h in later}


def test_the_timeline_orders_dated_events_with_their_spans(dated_bot: Assistant) -> None:
    events = dated_bot.timeline()
    labels = [(e.label, e.kind) for e in events]
    assert labels == [("June 2019", "stated"), ("15 January 2024", "published"),
                      ("1 February 2025", "published"), ("March 2025", "stated")]
    for e in events:
        text = dated_bot.document(e.citation.doc_id).text
        assert text[e.citation.start:e.citation.end] == e.citation.quote
    assert [e.label for e in dated_bot.timeline(as_of="2024-12-31")] == ["June 2019", "15 January 2024"]
