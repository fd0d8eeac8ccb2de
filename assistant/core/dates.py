"""Dates as documents give them: a day, a month or a year, kept at the precision stated.

A `PartialDate` prints as ISO (`2025`, `2025-01`, `2025-01-21`) and compares by the period it
covers: `covers_until` is its last day, `starts` its first, so "published in January 2025" is
on or before 2025-01-21 only when read as its first day, and after 2024-12-31 in any reading.
`parse_date` reads ISO forms and English forms ("21 January 2025", "January 21, 2025",
"June 2023", "Jan. 2025"); `dates_in` finds such dates in running text with their offsets.
Not here: deciding which date is a document's (`index/documents.py`).
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:19|20)\d{2}"
_ISO = re.compile(rf"\b({_YEAR})(?:-(\d{{2}})(?:-(\d{{2}}))?)?(?:T[\d:.+-]+Z?)?\b")
# "21 January 2025", "January 21, 2025", "January 2025", "in 2019"
_WRITTEN = re.compile(
    rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})|({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?)\s+({_YEAR})\b"
    rf"|\b({_MONTH})\s+(?:of\s+)?({_YEAR})\b|\b({_YEAR})\b", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int = 0  # 0: the year only
    day: int = 0  # 0: the month only

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def iso(self) -> str:
        return (f"{self.year:04d}" + (f"-{self.month:02d}" if self.month else "")
                + (f"-{self.day:02d}" if self.day else ""))

    __str__ = iso

    def starts(self) -> str:
        """The first day it covers, as YYYY-MM-DD."""
        return f"{self.year:04d}-{self.month or 1:02d}-{self.day or 1:02d}"

    def covers_until(self) -> str:
        """The last day it covers, as YYYY-MM-DD."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return f"{self.year:04d}-{month:02d}-{day:02d}"

    def human(self) -> str:
        """"21 January 2025", "January 2025" or "2025"."""
        month = calendar.month_name[self.month] if self.month else ""
        return " ".join(p for p in (str(self.day) if self.day else "", month, str(self.year)) if p)


def _valid(year: int, month: int, day: int) -> PartialDate | None:
    if not 1 <= month <= 12 and month:
        return None
    if day and (not month or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return PartialDate(year, month, day)


def parse_date(text: object) -> PartialDate | None:
    """The date `text` states as a whole (ISO or written), or None."""
    if not isinstance(text, str):
        text = str(text) if text is not None else ""
    text = text.strip().strip("\"'")
    if not text:
        return None
    iso = _ISO.fullmatch(text) or _ISO.match(text)
    if iso and (iso.end() == len(text) or text[iso.end()] in "T "):
        return _valid(int(iso.group(1)), int(iso.group(2) or 0), int(iso.group(3) or 0))
    found = dates_in(text)
    return found[0][0] if found else None


def dates_in(text: str) -> list[tuple[PartialDate, int, int]]:
    """Each written or ISO date in running text, with its offsets, in order. A bare year counts
    only between 1900 and 2099."""
    found: list[tuple[PartialDate, int, int]] = []
    taken: list[tuple[int, int]] = []
    for m in _ISO.finditer(text):
        if m.group(2):
            date = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
            if date:
                found.append((date, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    for m in _WRITTEN.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        day, month_a, month_b, day_b, year, month_c, year_c, year_d = m.groups()
        if year:
            date = _valid(int(year), MONTHS[(month_a or month_b).lower().rstrip(".")],
                          int(day or day_b))
        elif year_c:
            date = _valid(int(year_c), MONTHS[month_c.lower().rstrip(".")], 0)
        else:
            date = _valid(int(year_d), 0, 0)
        if date:
            found.append((date, m.start(), m.end()))
    return sorted(found, key=lambda f: f[1])


_MONTH_NAME = re.compile(r"\b(?:" + "|".join(n for n in calendar.month_name if n)
                         + r"|(?:" + "|".join(n for n in calendar.month_abbr if n) + r")\.)(?=\s|[,.;:]|$)")


def lower_dates(text: str) -> str:
    """The text with its dates in lower case, so that "July" in "As of July 2024" is no name."""
    for _, start, end in reversed(dates_in(text)):
        text = text[:start] + text[start:end].lower() + text[end:]
    return text


def without_dates(text: str) -> str:
    """The text with its dates cut out: "on October 31, 2024" holds no count."""
    for _, start, end in reversed(dates_in(text)):
        text = text[:start] + text[end:]
    return text


def mentions_date(text: str) -> bool:
    """Whether the text names a date, a year or a month ("She will start on July 1")."""
    return bool(dates_in(text)) or bool(_MONTH_NAME.search(text))


def month_names(text: str, skip: list[tuple[int, int]]) -> list[str]:
    """Month names in the text outside the `skip` spans (the dates already read there)."""
    return [m.group().rstrip(".") for m in _MONTH_NAME.finditer(text)
            if not any(s <= m.start() < e for s, e in skip)]


MAX_DATE_CHARS = 40  # "Wednesday, 31 December 2025" and its like fit; reading a longer text
# as a date costs time for nothing


def check_as_of(value: object, what: str = "as_of") -> PartialDate | None:
    """A date argument (`as_of`, an upload's date: a string or a `datetime.date`) as a date
    (None stays None); ValueError saying the accepted forms, or the years read when only the
    year is outside them."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):  # a datetime too: the day it falls on is the date
        value = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, str) and len(value) > MAX_DATE_CHARS:  # no date is longer
        raise ValueError(f"{what} must be a date such as 2025-03-31, got {len(value):,} characters")
    date = parse_date(value) if isinstance(value, str) and _whole(value) else None
    year = _year_out_of_range(value) if date is None and isinstance(value, str) else None
    if year:
        raise ValueError(f"{what} year {year} is outside 1900–2099 (the years dates are read "
                         f"in): give a date such as 2025-03-31, got {value!r}")
    if date is None:
        raise ValueError(f"{what} must be a date such as 2025-03-31, 2025-03 or 2025 (or "
                         f"'31 March 2025'), got {value!r}")
    return date


def _year_out_of_range(text: str) -> str | None:
    """The year of text that would be a date but for it ("2300-01-01"), or None: "not a date"
    alone would hide that only the year is wrong."""
    for m in re.finditer(r"\b\d{4}\b", text):
        in_range = text[:m.start()] + "2000" + text[m.end():]
        if not 1900 <= int(m.group()) <= 2099 and _whole(in_range) and parse_date(in_range):
            return m.group()
    return None


def _whole(text: str) -> bool:
    """The text is one date and nothing else ("31/31/2025" is not: only its year is a date)."""
    text = text.strip().strip("\"'")
    iso = _ISO.match(text)
    if iso and (iso.end() == len(text) or text[iso.end()] == "T"):
        return True
    found = dates_in(text)
    return len(found) == 1 and found[0][1] == 0 and found[0][2] == len(text.rstrip("."))
