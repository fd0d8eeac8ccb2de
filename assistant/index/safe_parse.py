"""Parsing untrusted files within bounds: a forked child with a memory cap and a time limit.

`run_limited(parse, data)` runs `parse(data)` outside the caller's process. A helper process
(started once, importing only the parsers) forks one child per file; the child may grow its
address space by `MEMORY_MB` at most and is killed after `TIMEOUT_S`; at most `WORKERS` files
are parsed at once. A file that runs out of either, crashes its parser or is refused by it
raises `UnreadableFile` with the reason; the caller's process never holds more of it than the
bytes it passed and the text that came back, and its threads never wait on the parse but for
the file's own turn. (multiprocessing's spawn and forkserver would re-import the caller's
`__main__` in every child; a plain helper does not.) `check_zip` and `pdf_limits` are the
format bounds that the parsers in `documents.py` apply inside the child.
Not here: the parsers themselves (`documents.py`), plain text (decoded in-process: its size is
its cost).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

TIMEOUT_S = 10.0  # wall time one file may take to parse
MEMORY_MB = 300  # address space the child may add to the helper's
WORKERS = 2  # files parsed at once (one helper each); the others wait their turn
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 100 * 2**20  # everything in a DOCX, expanded (images included)
MAX_ZIP_XML_BYTES = 10 * 2**20  # its XML, expanded (python-docx: ~0.7 s a MiB here)
MAX_PDF_PAGES = 2_000
MAX_PDF_STREAM_BYTES = 25_000_000  # one decompressed PDF stream
MAX_HTML_BYTES = 5 * 2**20  # bs4's html.parser: ~0.8 s and ~45 MB a MiB here
PRELOAD = ("assistant.index.documents", "bs4", "docx", "pypdf")  # imported once per helper
HELPER = "from assistant.index.safe_parse import serve; serve()"


class UnreadableFile(Exception):
    """This file cannot be ingested; the message is the reason shown to the user."""


# --- the caller's side --------------------------------------------------------------------------
class _Helper:
    """A helper process; `ask` sends it one file and returns its JSON reply."""

    def __init__(self) -> None:
        path = os.pathsep.join(p for p in sys.path if p)  # the caller's modules, whatever ran it
        self.proc = subprocess.Popen([sys.executable, "-c", HELPER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "PYTHONPATH": path})

    def ask(self, head: dict[str, Any], data: bytes, deadline: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _write_frame(self.proc.stdin, json.dumps(head).encode() + b"\n" + data)
        return dict(json.loads(_read_frame(self.proc.stdout, deadline)))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


_idle: list[_Helper] = []
_idle_lock = threading.Lock()
_slots = threading.BoundedSemaphore(WORKERS)


def run_limited(parse: Callable[[bytes], Any], data: bytes, timeout_s: float = TIMEOUT_S,
                memory_mb: int = MEMORY_MB) -> Any:
    """`parse(data)` in a bounded child process: its JSON-able result, or UnreadableFile.

    `parse` must be a module-level function (the helper imports it by name)."""
    head = {"target": f"{parse.__module__}:{parse.__qualname__}", "timeout_s": timeout_s,
            "memory_mb": memory_mb}
    with _slots:
        with _idle_lock:
            helper = _idle.pop() if _idle else None
        try:
            helper = helper if helper and helper.proc.poll() is None else _Helper()
            # the helper enforces timeout_s; this deadline only catches a helper that hangs
            reply = helper.ask(head, data, time.monotonic() + timeout_s + 60)
        except (OSError, ValueError, EOFError, TimeoutError) as exc:
            if helper is not None:
                helper.close()
            raise UnreadableFile("the parser process failed on this file; it is refused") from exc
        with _idle_lock:
            _idle.append(helper)
    if "error" in reply:
        raise UnreadableFile(str(reply["error"]))
    return reply["ok"]


# --- framing: a 4-byte length, then that many bytes ----------------------------------------------
def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while got < size:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and (wait <= 0 or not sel.select(wait)):
                raise TimeoutError
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
    return b"".join(chunks)


def _read_frame(stream: IO[bytes], deadline: float | None) -> bytes:
    fd = stream.fileno()
    size, = struct.unpack(">I", _read_exactly(fd, 4, deadline))
    return _read_exactly(fd, size, deadline)


# --- the helper's side --------------------------------------------------------------------------
def serve() -> None:
    """The helper's loop: for each file from stdin, fork a bounded child, reply on stdout."""
    for name in PRELOAD:
        importlib.import_module(name)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            frame = _read_frame(stdin, None)
        except EOFError:
            return  # the caller went away
        line, _, data = frame.partition(b"\n")
        head = json.loads(line)
        _write_frame(stdout, _fork_and_parse(head, data))


def _fork_and_parse(head: dict[str, Any], data: bytes) -> bytes:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse under the limits, write the reply, exit
        os.close(read_end)
        reply = _parse_here(head, data)
        with os.fdopen(write_end, "wb") as out:
            out.write(reply)
        os._exit(0)
    os.close(write_end)
    timeout_s = float(head["timeout_s"])
    deadline = time.monotonic() + timeout_s
    chunks = []
    with selectors.DefaultSelector() as sel, os.fdopen(read_end, "rb", buffering=0) as pipe:
        sel.register(pipe, selectors.EVENT_READ)
        while (wait := deadline - time.monotonic()) > 0 and sel.select(wait):
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return _error(f"took longer than {timeout_s:g} s to read; the file is refused")
    _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:  # killed by a signal (the CPU limit, a crash) or no reply
        return _error("the parser crashed on this file; it is refused")
    return b"".join(chunks)


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _error(reason: str) -> bytes:
    return json.dumps({"error": reason}).encode()


def _parse_here(head: dict[str, Any], data: bytes) -> bytes:
    """In the child: cap memory and CPU, run the parser, return the JSON reply."""
    memory_mb = int(head["memory_mb"])
    try:
        cap = _address_space() + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        cpu = int(float(head["timeout_s"])) + 2  # a backstop: the helper kills it at timeout_s
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        module, _, name = str(head["target"]).partition(":")
        parse = getattr(importlib.import_module(module), name)
        return json.dumps({"ok": parse(data)}).encode()
    except UnreadableFile as exc:
        return _error(str(exc))
    except MemoryError:
        return _error(f"needs more than {memory_mb} MB of memory to read; the file is refused")
    except RecursionError:
        return _error("nested too deeply to read; the file is refused")
    except Exception as exc:  # a parser's own error: its type says more than a trace would
        return _error(f"corrupt or unreadable ({type(exc).__name__})")


# --- format bounds, applied by the parsers inside the child -------------------------------------
def check_zip(data: bytes, what: str) -> None:
    """UnreadableFile unless `data` is a zip archive whose parts and expanded sizes are in bounds."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile(f"corrupt or unreadable {what} (not a zip archive)") from exc
    total = sum(m.file_size for m in members)
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableFile(f"the {what} has {len(members):,} parts; the limit is "
                             f"{MAX_ZIP_MEMBERS:,}, so the file is refused")
    for size, limit, kind in ((total, MAX_ZIP_BYTES, ""), (xml, MAX_ZIP_XML_BYTES, " of XML")):
        if size > limit:
            raise UnreadableFile(f"the {what} expands to {size / 2**20:,.0f} MiB{kind}; the limit "
                                 f"is {limit / 2**20:.0f} MiB, so the file is refused")


@contextmanager
def pdf_limits() -> Iterator[None]:
    """pypdf's decompression and structure limits, lowered; no external decoder binaries."""
    import pypdf

    limit = MAX_PDF_STREAM_BYTES
    with pypdf.apply_configuration(
            maximum_declared_stream_length=limit, array_based_stream_maximum_output_length=limit,
            jbig2_maximum_output_length=limit, lzw_maximum_output_length=limit,
            run_length_maximum_output_length=limit, zlib_maximum_output_length=limit,
            brotli_maximum_output_length=limit, image_maximum_buffer_size=limit,
            stream_decoding_work_maximum_length=4 * limit, jbig2dec_binary=None,
            page_tree_maximum_entries=MAX_PDF_PAGES * 2):
        yield
