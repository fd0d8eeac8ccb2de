"""Uploaded files: safe names in their own namespace, saved one by one.

A client's file name is reduced to a safe one: its last path part, NFC, without NUL, control,
format or surrogate characters, at most `MAX_NAME_CHARS` characters (`MAX_NAME_BYTES` in UTF-8;
the stem is cut, the suffix kept). A name that is empty, hidden (a leading dot), reserved
(`manifest.toml`, a Windows device name such as CON or NUL) or of an unsupported type is
refused with the reason. Names differ by more than case ("plan.txt" updates "Plan.txt").
Names repeated within one upload become "name (2).txt", "name (3).txt", skipping a number
another upload holds with other bytes (so an edited repeat is added anew, never written over
another document).
Each file is staged under DATA_DIR/uploads/.incoming/ and becomes DATA_DIR/uploads/<name> only
once it is stored (`keep`), so a failed upload never replaces the copy of a good one; its source
is "uploads/<name>", so an upload never shares a doc_id with a corpus file, and uploading a name
again updates that upload. No manifest is ever read from the uploads folder. Not here: size
limits (`Assistant.upload`), parsing and storing (`documents.py`, `ingest.py`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assistant.index.documents import MANIFEST, SUPPORTED

NAMESPACE = "uploads"
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # file systems allow 255
RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)
DROPPED = {"Cc", "Cf", "Cs"}  # controls (NUL too), format marks (bidi overrides), lone surrogates


@dataclass(frozen=True)
class SavedUpload:
    """One file of an upload: the name the client sent, and where it went or why not."""

    name: str
    source: str = ""  # "uploads/<safe name>" once saved
    path: Path | None = None  # the staged copy, under the same name
    refused: str = ""  # the reason, when it was not saved
    final: Path | None = None  # where `keep` puts it


def keep(upload: SavedUpload) -> None:
    """The staged copy becomes the upload's saved copy (replacing an older one)."""
    if upload.path is not None and upload.final is not None:
        upload.path.replace(upload.final)
        discard(upload)


def discard(upload: SavedUpload) -> None:
    """The staged copy goes; the saved copy of an earlier upload of that name stays."""
    if upload.path is not None:
        shutil.rmtree(upload.path.parent, ignore_errors=True)


def forget(folder: Path, source: str) -> None:
    """Delete the saved copy of the upload `source` ("uploads/<name>") from `folder`, if any."""
    name = source.removeprefix(f"{NAMESPACE}/")
    if name != source and name and "/" not in name and name not in (".", ".."):
        (folder / name).unlink(missing_ok=True)


def shown(name: str, limit: int = 80) -> str:
    """`name` fit to print: controls as "?", cut to `limit` characters."""
    clean = "".join("?" if unicodedata.category(c) in DROPPED else c for c in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def safe_name(name: str) -> tuple[str, str]:
    """(the safe name, "") or ("", why `name` is refused)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c) not in DROPPED).strip()
    suffix = PurePosixPath(base).suffix.lower()
    if not base or base in (".", ".."):
        return "", "the file needs a name such as report.pdf"
    if base.startswith("."):
        return "", "hidden names (starting with a dot) are refused; rename the file"
    if base.lower() == MANIFEST or RESERVED.fullmatch(base):
        return "", f"{base!r} is a reserved name; rename the file"
    if suffix not in SUPPORTED:
        return "", f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED)}"
    return _fit(base[: -len(suffix)], suffix), ""


def _fit(stem: str, suffix: str) -> str:
    """stem + suffix, the stem cut until the whole fits MAX_NAME_CHARS and MAX_NAME_BYTES."""
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip() + suffix


def save_uploads(folder: Path, files: list[tuple[str, bytes]]) -> list[SavedUpload]:
    """Stage each file under `folder`/.incoming by its safe, unique name; one `SavedUpload` per
    file. The caller `keep`s or `discard`s each staged one."""
    saved: list[SavedUpload] = []
    taken: set[str] = set()
    exact = _stored(folder)  # names differ by more than case, as on macOS and Windows
    stored = {n.lower(): n for n in sorted(exact)}
    for name, data in files:
        safe, refused = safe_name(name)
        if refused:
            saved.append(SavedUpload(name, refused=refused))
            continue
        if safe not in exact:  # "plan.txt" updates the upload "Plan.txt"
            safe = stored.get(safe.lower(), safe)
        stem, suffix = safe[: -len(PurePosixPath(safe).suffix)], PurePosixPath(safe).suffix
        number = 1
        while safe.lower() in taken or (number > 1 and not _free(folder, stored, safe, data)):
            number += 1
            safe = _fit(stem, f" ({number}){suffix}")
        taken.add(safe.lower())
        try:
            staging = Path(tempfile.mkdtemp(dir=_incoming(folder)))
            (staging / safe).write_bytes(bytes(data))
        except OSError as exc:
            saved.append(SavedUpload(name, refused=f"cannot be saved ({exc.strerror})"))
            continue
        saved.append(SavedUpload(name, f"{NAMESPACE}/{safe}", staging / safe, final=folder / safe))
    return saved


def _stored(folder: Path) -> set[str]:
    """The names of the uploads already stored."""
    try:
        return {p.name for p in folder.iterdir() if p.is_file()}
    except OSError:
        return set()


def _free(folder: Path, stored: dict[str, str], safe: str, data: bytes) -> bool:
    """Whether a repeated name's numbered form may be used: no upload has it, or the one that
    has it holds the same bytes (the same batch uploaded again). Another upload is never
    overwritten by a renamed repeat."""
    if safe.lower() not in stored:
        return True
    try:
        return (folder / stored[safe.lower()]).read_bytes() == bytes(data)
    except OSError:
        return False


def _incoming(folder: Path) -> Path:
    incoming = folder / ".incoming"
    incoming.mkdir(exist_ok=True)
    return incoming
