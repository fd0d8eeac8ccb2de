"""Ingestion against a real Chroma store and the real embedding model."""

from __future__ import annotations

import codecs
import os
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, make_settings

from assistant import Assistant


def corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(CORPUS, folder)
    return folder


def test_every_chunk_is_an_exact_span_of_its_document(corpus_bot: Assistant) -> None:
    docs = corpus_bot.documents()
    assert len(docs) == 2
    chunks = corpus_bot._store.all_chunks()
    assert len(chunks) == sum(d.chunks for d in docs) > 2
    for chunk in chunks:
        text = corpus_bot.document(chunk.doc_id).text
        assert text[chunk.start : chunk.end] == chunk.text
    # and the stored document text is the file, byte for byte
    for doc in docs:
        assert corpus_bot.document(doc.doc_id).text == (CORPUS / doc.source).read_text("utf-8")


def test_chunks_cover_the_document_text(corpus_bot: Assistant) -> None:
    for doc in corpus_bot.documents():
        text = corpus_bot.document(doc.doc_id).text
        covered = [False] * len(text)
        for chunk in corpus_bot._store.all_chunks():
            if chunk.doc_id == doc.doc_id:
                covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
        missing = "".join(c for c, ok in zip(text, covered, strict=True) if not ok)
        assert not missing.strip(" \n•"), f"text outside every chunk: {missing!r}"


def test_manifest_metadata_is_used(corpus_bot: Assistant) -> None:
    titles = {d.source: d.title for d in corpus_bot.documents()}
    assert titles["ainews-microsoft-loses-exclusive-cloud-role.txt"] == (
        "Microsoft Loses Exclusive Cloud Role for OpenAI")
    doc = corpus_bot.document(corpus_bot.documents()[0].doc_id)
    assert doc.publisher == "AiNews.com"


def test_reingest_is_a_no_op(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    first = bot.ingest()
    assert first.count("added") == 2
    ids = {d.doc_id: bot._store.chunk_ids(d.doc_id) for d in bot.documents()}
    stamps = {d.doc_id: d.ingested_at for d in bot.documents()}
    second = bot.ingest()
    assert second.count("unchanged") == 2 and second.count("added") == 0
    assert {d.doc_id: bot._store.chunk_ids(d.doc_id) for d in bot.documents()} == ids
    assert {d.doc_id: d.ingested_at for d in bot.documents()} == stamps
    assert bot._store.chunk_count() == sum(len(v) for v in ids.values())


def test_modified_file_replaces_its_chunks(tmp_path: Path) -> None:
    folder = corpus_copy(tmp_path)
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest([folder])
    target = folder / "techcrunch-microsoft-no-longer-exclusive-cloud-provider.txt"
    doc_id = next(d.doc_id for d in bot.documents() if d.source == target.name)
    old_ids = set(bot._store.chunk_ids(doc_id))
    target.write_text("Contoso built a data center on the Moon in 2031. It cost 9 dollars.\n")
    report = bot.ingest([folder])
    assert report.count("updated") == 1 and report.count("unchanged") == 1
    new_ids = set(bot._store.chunk_ids(doc_id))
    assert new_ids and not new_ids & old_ids
    texts = [c.text for c in bot._store.all_chunks() if c.doc_id == doc_id]
    assert texts == ["Contoso built a data center on the Moon in 2031. It cost 9 dollars."]
    assert bot.search("data center on the Moon")[0].doc_id == doc_id


def test_removing_an_upload_deletes_its_saved_file_and_a_folders_file_stays(tmp_path: Path) -> None:
    """A removed upload was still on disk under DATA_DIR/uploads (a user removing a sensitive
    file expects it gone); a file of an ingested folder is the user's own and stays."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "memo.txt").write_text("The Heron memo sets the budget at 7 dollars.\n")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest([folder]).ok
    bot.upload([("memo.txt", b"The Kestrel memo sets the budget at 9 dollars.\n")])
    by_source = {d.source: d.doc_id for d in bot.documents()}
    saved = tmp_path / "data" / "uploads" / "memo.txt"
    bot.remove(by_source["memo.txt"])
    assert (folder / "memo.txt").is_file() and saved.is_file()
    bot.remove(by_source["uploads/memo.txt"])
    assert not saved.exists() and (folder / "memo.txt").is_file()
    assert bot.documents() == []


def test_removed_file_is_pruned_unless_kept(tmp_path: Path) -> None:
    folder = corpus_copy(tmp_path)
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest([folder])
    (folder / "ainews-microsoft-loses-exclusive-cloud-role.txt").unlink()
    kept = bot.ingest([folder], prune=False)
    assert kept.count("removed") == 0 and len(bot.documents()) == 2
    pruned = bot.ingest([folder])
    assert pruned.count("removed") == 1
    assert [d.source for d in bot.documents()] == [
        "techcrunch-microsoft-no-longer-exclusive-cloud-provider.txt"]
    assert all(c.source != "ainews-microsoft-loses-exclusive-cloud-role.txt"
               for c in bot._store.all_chunks())


def _good_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "The Zephyr cluster in Norway has 4096 accelerators. It opened in spring.")
    pdf.output(str(path))


def _good_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Project Heron moved its archive to a quarry in Wales.")
    document.save(str(path))


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Falcon Labs signed a lease for a site in Ohio in 2024.\n")
    (folder / "notes.md").write_text("# Notes\n\nThe Osprey model was trained in Iceland.\n")
    (folder / "page.html").write_text("<html><head><title>Kestrel</title><script>alert(1)</script>"
                                      "</head><body><p>Kestrel runs on solar power.</p></body></html>")
    _good_pdf(folder / "zephyr.pdf")
    _good_docx(folder / "heron.docx")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (folder / "empty.md").write_text("  \n\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "image.png").write_bytes(b"\x89PNG")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    report = bot.ingest([folder])
    by_source = {r.source: r for r in report.results}
    assert {s for s, r in by_source.items() if r.status == "added"} == {
        "good.txt", "notes.md", "page.html", "zephyr.pdf", "heron.docx"}
    assert "binary" in by_source["binary.txt"].reason
    assert "UTF-8" in by_source["latin1.txt"].reason
    assert "empty" in by_source["empty.md"].reason
    assert "PDF" in by_source["broken.pdf"].reason
    assert "docx" in by_source["broken.docx"].reason
    assert by_source["image.png"].status == "skipped"
    assert not report.ok and len(report.failed) == 5
    html = next(d for d in bot.documents() if d.source == "page.html")
    assert html.title == "Kestrel"
    assert "alert" not in bot.document(html.doc_id).text
    assert bot.search("accelerators in Norway")[0].source == "zephyr.pdf"
    assert bot.search("archive quarry Wales")[0].source == "heron.docx"


def test_a_file_that_turns_bad_keeps_its_previous_version(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The Albatross deal closed in March.\n")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    bot.ingest([folder])
    (folder / "a.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")  # binary
    report = bot.ingest([folder])
    assert report.failed and report.count("removed") == 0
    assert bot.search("Albatross deal")[0].text == "The Albatross deal closed in March."


def test_a_name_that_is_not_utf8_and_a_link_out_are_refused_and_the_rest_ingested(
        tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The Albatross deal closed in March.\n")
    (folder / "b\udcffname.txt").write_text("The Bittern deal closed in May.\n")  # byte 0xff
    secret = tmp_path / "outside.txt"
    secret.write_text("The Cormorant password is swordfish.\n")
    (folder / "link.txt").symlink_to(secret)
    (folder / "inside.txt").symlink_to(folder / "a.txt")  # a link within the folder is read
    report = Assistant(make_settings(tmp_path / "data", llm="none")).ingest([folder])
    by_source = {r.source: r for r in report.results}
    assert {s for s, r in by_source.items() if r.status == "added"} == {"a.txt", "inside.txt"}
    assert "not valid UTF-8" in by_source["b\ufffdname.txt"].reason
    assert "outside the folder" in by_source["link.txt"].reason


def test_a_pipe_and_a_broken_link_in_a_folder_are_reported_and_the_rest_ingested(
        tmp_path: Path) -> None:
    """Reading a pipe would block the ingest for good; both get a line of their own."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The Albatross deal closed in March.\n")
    os.mkfifo(folder / "pipe.txt")
    (folder / "gone.txt").symlink_to(folder / "deleted.txt")
    report = Assistant(make_settings(tmp_path / "data", llm="none")).ingest([folder])
    by_source = {r.source: r for r in report.results}
    assert by_source["a.txt"].status == "added"
    assert by_source["pipe.txt"].status == "failed" and "not a regular file" in by_source["pipe.txt"].reason
    assert by_source["gone.txt"].status == "failed" and "target is missing" in by_source["gone.txt"].reason


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_unicode_text_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    """What Windows Notepad saves as "Unicode" (UTF-16 with a byte-order mark) is text."""
    text = "The Bittern deal closed in May for €4 million.\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    report = bot.upload([("bittern.txt", data), ("plain.txt", b"\x00\x01 no mark" * 20)])
    status = {r.name: (r.status, r.reason) for r in report.results}
    assert status["bittern.txt"][0] == "added", status
    assert "UTF-16" in status["plain.txt"][1] and status["plain.txt"][0] == "failed"
    assert bot.search("Bittern deal")[0].text == text.strip()


def test_an_upload_and_a_folders_file_of_one_path_never_replace_each_other(
        tmp_path: Path) -> None:
    """A document's id is its path: "uploads/memo.txt" of a folder would replace the upload of
    memo.txt, and the reverse; a folder's sub-folder named uploads is otherwise read."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.upload([("memo.txt", b"The uploaded memo sets the fee at 4 dollars.")]).ok
    folder = tmp_path / "docs"
    (folder / "uploads").mkdir(parents=True)
    (folder / "uploads" / "memo.txt").write_text("The folder's memo sets the fee at 9 dollars.\n")
    (folder / "a.txt").write_text("The Albatross deal closed in March.\n")
    report = bot.ingest([folder])
    by_source = {r.source: r for r in report.results}
    assert by_source["a.txt"].status == "added"
    assert by_source["uploads/memo.txt"].status == "failed"
    assert "share the path uploads/memo.txt" in by_source["uploads/memo.txt"].reason
    memo = next(d for d in bot.documents() if d.source == "uploads/memo.txt")
    assert "4 dollars" in bot.document(memo.doc_id).text
    (folder / "uploads" / "other.txt").write_text("The other memo sets no fee at all.\n")
    assert {r.source: r.status for r in bot.ingest([folder]).results}["uploads/other.txt"] == "added"
    refused = bot.upload([("other.txt", b"An upload of the folder's path.")]).results[0]
    assert refused.status == "failed" and "share the path" in refused.reason


def test_a_link_that_loops_is_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The Albatross deal closed in March.\n")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    report = Assistant(make_settings(tmp_path / "data", llm="none")).ingest([folder])
    by_source = {r.source: r for r in report.results}
    assert by_source["a.txt"].status == "added"
    assert by_source["loop.txt"].status == "failed" and "loops" in by_source["loop.txt"].reason


def test_a_same_named_file_of_another_folder_is_refused_until_that_folder_moves(
        tmp_path: Path) -> None:
    for folder, word in (("a", "Albatross"), ("b", "Bittern")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(f"The {word} deal closed in March.\n")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest([tmp_path / "a"]).count("added") == 1
    clash = bot.ingest([tmp_path / "b"]).results
    assert [(r.status, "another folder" in r.reason) for r in clash] == [("failed", True)]
    assert "Albatross" in bot.search("deal closed")[0].text
    (tmp_path / "a").rename(tmp_path / "moved")  # the same folder elsewhere keeps its documents
    assert bot.ingest([tmp_path / "moved"]).results[0].status in ("unchanged", "updated")
    shutil.rmtree(tmp_path / "moved")
    assert bot.ingest([tmp_path / "b"]).results[0].status == "updated"  # its folder is gone
    assert "Bittern" in bot.search("deal closed")[0].text


def test_a_failed_upload_keeps_the_saved_copy_of_a_good_one(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    good = b"The Heron memo sets the budget at 4 dollars."
    assert bot.upload([("heron.txt", good)]).results[0].status == "added"
    report = bot.upload([("heron.txt", b"")])
    assert report.results[0].status == "failed"
    uploads = tmp_path / "data" / "uploads"
    assert (uploads / "heron.txt").read_bytes() == good
    assert list((uploads / ".incoming").iterdir()) == []  # nothing staged is left behind
    assert bot.upload([("heron.txt", b"The Heron memo sets it at 5 dollars.")]).ok
    assert (uploads / "heron.txt").read_bytes() == b"The Heron memo sets it at 5 dollars."


def test_two_uploads_of_one_name_at_once_keep_the_copy_the_store_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injected (a slow disk, named as such): moving the first upload's staged copy into
    place takes a second, while the second upload of the name is stored and kept. The saved
    copy must still be the one whose text the store holds."""
    import threading
    import time

    from assistant.index import uploads

    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    fast_keep = uploads.keep

    def slow_keep(upload: uploads.SavedUpload) -> None:
        if upload.path is not None and b"first" in upload.path.read_bytes():
            time.sleep(1.0)
        fast_keep(upload)

    monkeypatch.setattr(uploads, "keep", slow_keep)
    first = threading.Thread(target=bot.upload, args=([("kite.txt", b"The first kite memo sets "
                                                       b"the fee at 4 dollars.")],))
    first.start()
    time.sleep(0.3)
    assert bot.upload([("kite.txt", b"The second kite memo sets the fee at 5 dollars.")]).ok
    first.join()
    saved = (tmp_path / "data" / "uploads" / "kite.txt").read_text(encoding="utf-8")
    stored = bot.document(next(d.doc_id for d in bot.documents() if d.source == "uploads/kite.txt"))
    assert saved == stored.text.strip(), (saved, stored.text)


@pytest.mark.parametrize("name", ["missing-folder", "missing.txt"])
def test_missing_path_is_reported(tmp_path: Path, name: str) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    report = bot.ingest([tmp_path / name])
    assert report.failed[0].reason == "no such file or folder"


@pytest.mark.parametrize("content", [b"...", b"   \n\n  ", b"- - -\n* * *",
                                     b"---\ntitle: Memo\nauthor: Jo Reed\n---\n\n"])
def test_a_file_without_words_is_refused_and_the_rest_uploaded(tmp_path: Path, content: bytes) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    report = bot.upload([("memo.txt", content), ("plant.txt", b"The Denver plant will employ 400 people.")])
    status = {r.name: (r.status, r.reason) for r in report.results}
    assert status["memo.txt"][0] == "failed" and "no text" in status["memo.txt"][1]
    assert status["plant.txt"][0] == "added"
    assert [d.title for d in bot.documents()] == ["plant"]


def test_docx_tables_are_read_row_by_row_in_their_place(tmp_path: Path) -> None:
    """A DOCX table (once dropped: only paragraphs were read) is text in its place between the
    paragraphs, a line per row; a row marked as the header names the cells of the rows below,
    an unmarked first row is data like the rest; a merged cell counts once."""
    import docx
    from docx.oxml import OxmlElement

    folder = tmp_path / "docs"
    folder.mkdir()
    document = docx.Document()
    document.add_paragraph("Fees from 1 July 2025.")
    table = document.add_table(rows=3, cols=3)
    for i, row in enumerate([["Item", "Fee", "Notes"], ["Lost card", "$2", "per card"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    table.cell(2, 0).merge(table.cell(2, 2)).text = "Fees are waived for children under 12"
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    document.add_paragraph("Opening hours.")
    plain = document.add_table(rows=2, cols=2)
    for i, row in enumerate([["Monday", "9:00 to 17:00"], ["Sunday", "closed"]]):
        for j, value in enumerate(row):
            plain.cell(i, j).text = value
    document.save(str(folder / "fees.docx"))
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest([folder]).ok
    doc, = bot.documents()
    assert bot.document(doc.doc_id).text.splitlines() == [
        "Fees from 1 July 2025.", "Item | Fee | Notes", "• Lost card — Fee: $2; Notes: per card",
        "• Fees are waived for children under 12", "Opening hours.",
        "• Monday | 9:00 to 17:00", "• Sunday | closed"]
    assert bot.search("fee for a lost card")[0].source == "fees.docx"
