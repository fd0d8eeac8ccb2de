"""What a document says about itself rather than about its subject: metadata lines and its date.

Metadata lines are Markdown front matter, and lines naming the author, the date, the owner or a
picture's source ("By Jane Doe", "Published: March 3, 2025", "Image Source: ChatGPT-4o", a line that is
only a date). They stay in the text, so every offset stays exact, but `metadata_spans` marks
them and evidence selection never uses them. A document's date comes, in order, from the
manifest (the caller's), the front matter (`date`, `published`), the file (HTML
`article:published_time`, `<meta name="date">`, `<time datetime>`; PDF creation date; DOCX core
properties), a metadata line, or a dateline opening the first paragraph; never from today.
Not here: reading a file's text (`documents.py`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from assistant.core.dates import PartialDate, dates_in, mentions_date, parse_date
from assistant.core.text import sentence_spans

Span = tuple[int, int]

# The first word of a line that describes the document: its author, date, owner or a picture's source.
# A picture's line may go on with its caption ("Image source: press kit. Grace Hollis at ...").
PICTURE_LABELS = frozenset("image images photo photos picture illustration credit credits caption"
                           .split())
LABELS = PICTURE_LABELS | frozenset("""by published updated posted date dated author authors written
filed last modified owner owners source sources""".split())
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_LINE = re.compile(r"[^\n]+")
_LEAD_WORDS = re.compile(r"[A-Za-z]+")
HEADER_LINES = 8  # a byline or dateline stands among the first lines
SHORT = 12  # words: a metadata line is short


def front_matter(text: str) -> tuple[dict[str, str], Span | None]:
    """The `key: value` pairs of a leading `---` block and its span ({} and None if none)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, None
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "-")):
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, (match.start(), match.end())


def _is_metadata_line(line: str, near_top: bool) -> bool:
    """Short, and labelled ("By ...", "Published: ...") or only a date. A picture's line with a
    colon is judged by its first sentence: "Image source: Fernhill Labs press kit. Grace Hollis
    at Fernhill's office." is the picture's credit and caption, not the article's text."""
    if not line.split():
        return False
    found = _LEAD_WORDS.search(line)
    lead = found.group().lower() if found else ""
    colon = ":" in line[:30]
    start, end = (sentence_spans(line)[0] if colon and lead in PICTURE_LABELS
                  else (0, len(line)))
    if len(line[start:end].split()) > SHORT:
        return False
    dates = dates_in(line)
    labelled = lead in LABELS and (colon or _reads_as_label(line, found, near_top))
    only_a_date = bool(dates) and sum(e - s for _, s, e in dates) >= 0.5 * len(line.strip(" .,-—"))
    return labelled or (near_top and only_a_date)


def _reads_as_label(line: str, lead: re.Match[str] | None, near_top: bool) -> bool:
    """Whether a labelled line without a colon goes on as a byline or a dateline does rather
    than as a sentence: it does not end as a sentence ends ("By the Associated Press", "Posted
    2 hours ago"), or it is a few words naming someone after "By" ("By Jane Doe Jr."), or near
    the top names someone or a date ("Updated on March 3.", "Written by Jane Doe."). "By 2031 the
    bridge will cost ...", "By the end of the year ...", "Published research shows ..." are the
    text's own sentences."""
    if lead is None:
        return False
    after = line[lead.end():].split()
    named = bool(after) and after[0][:1].isupper()
    sentence = line.rstrip().endswith((".", "!", "?"))
    if lead.group().lower() == "by":
        return not sentence or (named and len(after) <= 4 and not any(c.isdigit() for c in line))
    by_name = any(w == "by" and n[:1].isupper() for w, n in zip(after, after[1:], strict=False))
    return near_top and (not sentence or lead.group().lower() in PICTURE_LABELS or named
                         or by_name or mentions_date(line))


def metadata_spans(text: str) -> list[Span]:
    """Spans of the front matter and of metadata lines (see the module docstring)."""
    _, block = front_matter(text)
    spans = [block] if block else []
    begin = block[1] if block else 0
    for i, line in enumerate(_LINE.finditer(text, begin)):
        if _is_metadata_line(line.group(), near_top=i < HEADER_LINES):
            spans.append((line.start(), line.end()))
    return spans


def in_spans(start: int, end: int, spans: list[Span]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def encode_spans(spans: list[Span]) -> str:
    return ";".join(f"{s}-{e}" for s, e in spans)


def decode_spans(value: str) -> list[Span]:
    spans = []
    for part in filter(None, value.split(";")):
        s, _, e = part.partition("-")
        if s.isdigit() and e.isdigit():
            spans.append((int(s), int(e)))
    return spans


def text_date(text: str, spans: list[Span]) -> tuple[PartialDate | None, str]:
    """The date a text gives itself, and where it was found ("" when it gives none)."""
    fields, _ = front_matter(text)
    for key in ("published", "date"):
        if date := parse_date(fields.get(key, "")):
            return date, "front matter"
    for s, e in spans:
        found = dates_in(text[s:e])
        if found and not text[s:e].lstrip().startswith("---"):
            return found[0][0], "metadata line"
    first = next((m for m in _LINE.finditer(text) if not in_spans(m.start(), m.end(), spans)
                  and len(m.group().split()) > SHORT), None)
    if first:  # a dateline: "PORTLAND, Ore., March 3, 2025 — Fernhill Labs ..."
        opening = [d for d, s, _ in dates_in(first.group()[:80]) if d.day and s < 60]
        if opening and re.search(r"[—–-]", first.group()[:100]):
            return opening[0], "dateline"
    return None, ""


def file_date(path: Path) -> tuple[PartialDate | None, str]:
    """The date a file's own metadata gives (HTML, PDF, DOCX), and where it was found."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            return _html_date(path.read_bytes()[:2_000_000])
        if suffix == ".pdf":
            return _pdf_date(path)
        if suffix == ".docx":
            return _docx_date(path)
    except Exception:  # a damaged file has no date; its text is the loader's concern
        return None, ""
    return None, ""


def _html_date(data: bytes) -> tuple[PartialDate | None, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data.decode("utf-8", "replace"), "html.parser")
    for key, value in (("property", "article:published_time"), ("name", "date"),
                       ("name", "dcterms.date"), ("itemprop", "datePublished")):
        tag = soup.find("meta", attrs={key: value})
        if tag and (date := parse_date(str(tag.get("content", "")))):
            return date, "HTML meta"
    tag = soup.find("time", attrs={"datetime": True})
    if tag and (date := parse_date(str(tag.get("datetime", "")))):
        return date, "HTML <time>"
    return None, ""


def _pdf_date(path: Path) -> tuple[PartialDate | None, str]:
    from pypdf import PdfReader

    info = PdfReader(path).metadata
    raw = str(info.get("/CreationDate", "") if info else "")
    digits = re.sub(r"\D", "", raw)[:8]  # "D:20240521103000+00'00'"
    if len(digits) == 8 and (date := parse_date(f"{digits[:4]}-{digits[4:6]}-{digits[6:]}")):
        return date, "PDF metadata"
    return None, ""


def _docx_date(path: Path) -> tuple[PartialDate | None, str]:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("docProps/core.xml")
        if info.file_size > 1_000_000:
            return None, ""
        xml = archive.read(info).decode("utf-8", "replace")
    for tag in ("dcterms:created", "dcterms:modified"):
        match = re.search(rf"<{tag}[^>]*>([^<]+)</{tag}>", xml)
        if match and (date := parse_date(match.group(1))):
            return date, "DOCX properties"
    return None, ""
