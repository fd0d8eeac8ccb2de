"""Turning files into `Document`s: the exact text that citations point into, plus metadata.

.txt and .md are kept byte-for-byte (decoded as UTF-8); .html, .pdf and .docx are reduced
to their visible text once, and that text is what is stored and cited. Metadata comes from
a `manifest.toml` beside the files (see corpus/manifest.toml), else from the file itself.
HTML, PDF and DOCX are parsed from their bytes in a bounded worker process (`safe_parse`:
memory, time, expanded size and page limits). Not here: chunking or storage. A file that
cannot be read raises `UnreadableFile` with the reason (never a server path), so the caller
can report it and carry on.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.dates import PartialDate, parse_date
from assistant.index.metadata import encode_spans, file_date, front_matter, metadata_spans, text_date
from assistant.index.safe_parse import MAX_HTML_BYTES, MAX_PDF_PAGES, check_zip, pdf_limits, run_limited
from assistant.index.safe_parse import UnreadableFile as UnreadableFile  # raised here, caught above

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    title: str
    source: str
    publisher: str = ""
    author: str = ""
    published: str = ""
    sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, str]:
        """Flat string metadata (Chroma rejects None)."""
        data = asdict(self)
        data.pop("text")
        extra = data.pop("extra")
        return {**{k: str(v) for k, v in data.items()}, **{k: str(v) for k, v in extra.items()}}


def doc_id_for(source: str) -> str:
    """Stable id of a document: its source path, hashed, so edits keep the same id."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


# Byte-order marks of the Unicode encodings a text editor saves ("Unicode" in Windows Notepad is
# UTF-16 with one); UTF-32's before UTF-16's, which they begin with.
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def _decode(data: bytes) -> str:
    """UTF-8, or UTF-16/32 when a byte-order mark says so."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "")
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"not valid {encoding.upper()} text (byte {exc.start}); "
                                 "re-save it as UTF-8") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes), not text; if it is UTF-16 text "
                             "without a byte-order mark, re-save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not valid UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc


def _html_text(data: bytes) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    if len(data) > MAX_HTML_BYTES:
        raise UnreadableFile(f"the HTML is {len(data) / 2**20:.1f} MiB; the limit is "
                             f"{MAX_HTML_BYTES / 2**20:.0f} MiB, so the file is refused")
    soup = BeautifulSoup(_decode(data), "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line), title


def _pdf_text(data: bytes) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with pdf_limits():
            reader = PdfReader(io.BytesIO(data))
            if len(reader.pages) > MAX_PDF_PAGES:
                raise UnreadableFile(f"the PDF has {len(reader.pages):,} pages; the limit is "
                                     f"{MAX_PDF_PAGES:,}, so the file is refused")
            pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise UnreadableFile(f"corrupt or unreadable PDF ({exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip()), ""


def _docx_text(data: bytes) -> tuple[str, str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_zip(data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"corrupt or unreadable .docx ({exc})") from exc
    except MemoryError:  # the worker's cap: reported as such by safe_parse
        raise
    except Exception as exc:  # zipfile.BadZipFile and lxml errors have no common base
        raise UnreadableFile(f"corrupt or unreadable .docx ({exc})") from exc
    return "\n".join(_docx_lines(document)), ""


def _docx_lines(document: Any) -> list[str]:
    """Paragraphs and tables in the order the body holds them. A table's first row names the
    columns only when Word marks it as the header row (repeated on each page): an unmarked first
    row may be data, and naming cells by it would write what the table does not say. A cell
    merged across columns counts once."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for child in document.element.body.iterchildren():
        kind = child.tag.rsplit("}", 1)[-1]
        if kind == "p":
            lines.append(Paragraph(child, document).text)
        elif kind == "tbl":
            table = Table(child, document)
            rows = [[" ".join(c.text.split()) for c in dict.fromkeys(row.cells)]  # merged: once
                    for row in table.rows]
            first = table.rows[0]._tr.trPr if table.rows else None
            marked = first is not None and first.find(qn("w:tblHeader")) is not None
            lines.extend(_table_lines(rows, header=marked))
    return lines


BULLET = "• "  # before a table row: each row is an item of its own


def _table_lines(rows: list[list[str]], header: bool) -> list[str]:
    """A line per row: the header row as it is, every other row an item, its cells named by the
    header's when the two have as many cells ("Corvell C-50 — Seats: 50; Average age: 22.4
    years"), else joined by " | "."""
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    names = rows[0] if header else []
    lines = [" | ".join(names)] if names else []
    for row in rows[1:] if names else rows:
        if names and len(row) == len(names) and len(row) > 1:
            named = "; ".join(f"{h}: {v}" for h, v in zip(names[1:], row[1:], strict=True) if v)
            lines.append(f"{BULLET}{row[0]} — {named}")
        else:
            lines.append(BULLET + " | ".join(c for c in row if c))
    return lines


def _default_title(path: Path, text: str) -> str:
    if path.suffix == ".md":
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            return heading.group(1).strip()
    return path.stem.replace("-", " ").replace("_", " ").strip() or path.name


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The manifest of `folder` (file name -> metadata), or {} when there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"{path}: invalid TOML ({exc}); fix or delete the manifest") from exc


def load_document(path: Path, source: str, meta: dict[str, Any] | None = None,
                  data: bytes | None = None) -> Document:
    """Read one file (or its `data`, already read) into a Document; UnreadableFile with the reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableFile(f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED)}")
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise UnreadableFile(f"cannot read file ({exc.strerror})") from exc
    html_title = ""
    if suffix in (".txt", ".md"):
        text = _decode(data)
    else:  # parsed in a bounded worker process: a hostile file costs seconds, not the server
        parser = {".pdf": _pdf_text, ".docx": _docx_text}.get(suffix, _html_text)
        text, html_title = run_limited(parser, data)
    if not text.strip():
        raise UnreadableFile("empty: the file has no text to index")
    meta = dict(meta or {})
    known = {k: str(meta.pop(k, "")) for k in ("title", "publisher", "author", "published")}
    spans = metadata_spans(text)
    if not _outside(text, spans).strip():
        raise UnreadableFile("it holds only metadata (front matter, a byline or a date line), "
                             "no text to answer from")
    given_by = str(meta.pop("published_from", "manifest"))
    published, origin = _published(known["published"], path, text, spans)
    origin = given_by if origin == "manifest" else origin
    fields, _ = front_matter(text)
    extra = {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)}
    return Document(
        doc_id=doc_id_for(source),
        text=text,
        title=known["title"] or fields.get("title", "") or html_title or _default_title(path, text),
        source=source,
        publisher=known["publisher"],
        author=known["author"] or fields.get("author", ""),
        published=published.iso() if published else "",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        extra={**extra, "published_from": origin, "metadata_spans": encode_spans(spans)},
    )


def _outside(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans left out."""
    parts, at = [], 0
    for start, end in sorted(spans):
        parts.append(text[at:start])
        at = max(at, end)
    return "".join(parts) + text[at:]


def _published(given: str, path: Path, text: str, spans: list[tuple[int, int]],
               ) -> tuple[PartialDate | None, str]:
    """The document's date and where it came from: the manifest (or the uploader), the file's
    own metadata, then its text; (None, "") when none gives one."""
    if given.strip():
        date = parse_date(given)
        if date is None:
            raise UnreadableFile(f"its date {given!r} is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)")
        return date, "manifest"
    fields, _ = front_matter(text)
    if any(parse_date(fields.get(k, "")) for k in ("published", "date")):
        return text_date(text, spans)
    date, origin = file_date(path)
    return (date, origin) if date else text_date(text, spans)
