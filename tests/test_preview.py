"""The index page of a pack (index.html), read as HTML; the browser test is apart."""
from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from m3docs import diff_packs, write_index
from m3docs.cli import main
from review_packs import entries, make_packs


class Page(HTMLParser):
    """The links, pictures, document cards and lineage rows of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.cards: dict[str, str] = {}          # data-path -> class
        self.card_links: dict[str, list[str]] = {}
        self.tags: set[str] = set()
        self.rows = 0
        self._card: str | None = None
        self._depth = 0
        self._in_lineage = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "article":
            self._card = a.get("data-path")
            self.cards[self._card] = a.get("class", "")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if self._card is not None:
                self.card_links.setdefault(self._card, []).append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "h2" and a.get("id") == "lineage":
            self._in_lineage = True
        if tag == "tr" and self._in_lineage:
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._card = None
        if tag == "table":
            self._in_lineage = False


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> tuple[Path, Path]:
    return make_packs(tmp_path_factory.mktemp("preview"))


@pytest.fixture
def no_office(monkeypatch, tmp_path):
    monkeypatch.setenv("M3DOCS_SOFFICE", str(tmp_path / "no-soffice-here"))


def resolves(pack: Path, href: str) -> bool:
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and (pack / unquote(parts.path)).is_file()


def test_without_libreoffice_the_page_lists_every_document_and_says_so(packs, no_office):
    pack = packs[1]
    report = write_index(pack)
    text = (pack / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert report.pictures == 0 and "LibreOffice is not installed" in report.note
    assert "LibreOffice is not installed" in text and not page.images
    assert set(page.cards) == {e["path"] for e in entries(pack)}
    for rel, hrefs in page.card_links.items():
        assert hrefs and all(resolves(pack, h) for h in hrefs), rel
    assert all(resolves(pack, h) for h in page.links if not h.startswith("#"))
    assert not {"script", "link", "iframe", "object"} & page.tags
    assert "http" not in text.lower() and "url(" not in text
    assert not (pack / "preview").exists()


def test_the_page_is_reproducible(packs, no_office):
    first = write_index(packs[1]).path.read_bytes()
    assert write_index(packs[1]).path.read_bytes() == first


def test_cards_show_format_version_and_key_tasks(packs, no_office):
    pack = packs[0]
    text = write_index(pack).path.read_text(encoding="utf-8")
    for entry in entries(pack):
        if "title" not in entry:
            continue
        start = text.index(f'data-path="{entry["path"]}"'.replace("&", "&amp;"))
        card = text[start:text.index("</article>", start)]
        label = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}[entry["format"]]
        assert f"{label} | {entry['version']}" in card
        if entry["outputs_of"]:
            assert f"<dd>{', '.join(entry['outputs_of'])}</dd>" in card
        if entry["inputs_of"]:
            assert f"<dt>Used by</dt><dd>{', '.join(entry['inputs_of'])}</dd>" in card


def test_the_lineage_table_has_a_row_per_deliverable(packs, no_office):
    pack = packs[0]
    page = Page(write_index(pack).path.read_text(encoding="utf-8"))
    deliverables = {tuple(e["titles"]) for e in entries(pack) if "titles" in e}
    assert page.rows == len(deliverables) + 1  # and the header row


def test_since_marks_the_changed_documents_and_lists_the_removed(packs, no_office):
    old, new = packs
    report = write_index(new, since=old)
    changes = diff_packs(old, new)
    page = Page(report.path.read_text(encoding="utf-8"))
    marked = {p for p, cls in page.cards.items() if "changed" in cls.split()}
    assert marked == {d.path for d in changes.changed} | set(changes.added)
    assert report.changed == sorted(marked)
    text = report.path.read_text(encoding="utf-8")
    assert all(p in text for p in changes.removed)
    assert f"{len(changes.removed)} removed" in text


def test_cli_preview_and_pack_preview(tmp_path, no_office, capsys):
    out = tmp_path / "pack"
    assert main(["pack", "--out", str(out), "--quiet", "--preview"]) == 0
    err = capsys.readouterr().err
    assert (out / "index.html").is_file() and "LibreOffice is not installed" in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    assert set(page.cards) == {d["path"] for d in manifest["documents"]} | {
        manifest["tracker"]["path"]}
    assert main(["preview", str(out)]) == 0
    assert "index.html" in capsys.readouterr().out
    assert main(["preview", str(out), "--since", str(out), "--quiet"]) == 0
    assert not capsys.readouterr().out
    assert "no document changed" in (out / "index.html").read_text(encoding="utf-8")


def test_cli_preview_of_a_folder_that_is_no_pack(tmp_path, capsys):
    assert main(["preview", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "manifest.json" in err


def test_a_document_missing_from_the_pack_is_marked_and_a_path_leading_out_refused(
        packs, tmp_path, no_office, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(packs[1], pack)
    gone = entries(pack)[0]["path"]
    (pack / gone).unlink()
    page = Page(write_index(pack).path.read_text(encoding="utf-8"))
    assert gone in page.cards
    text = (pack / "index.html").read_text(encoding="utf-8")
    card = text[text.index(f'data-path="{gone}"'):]
    assert '<span class="mark">missing</span>' in card[:card.index("</article>")]
    data = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    data["documents"][0]["path"] = "../outside.docx"
    (pack / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["preview", str(pack)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "../outside.docx" in err
    assert main(["diff", str(packs[1]), str(pack)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "../outside.docx" in err


def test_a_document_s_pdf_is_linked_when_the_pack_has_it(packs, tmp_path, no_office):
    pack = tmp_path / "pack"
    shutil.copytree(packs[1], pack)
    data = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    first, second = data["documents"][:2]
    first["pdf"] = first["path"].rsplit(".", 1)[0] + ".pdf"
    (pack / first["pdf"]).write_bytes(b"%PDF-1.4 stand-in")
    second["pdf"] = second["path"].rsplit(".", 1)[0] + ".pdf"   # listed, not on disk
    (pack / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    page = Page(write_index(pack).path.read_text(encoding="utf-8"))
    pdfs = [h for h in page.card_links[first["path"]] if h.endswith(".pdf")]
    assert len(pdfs) == 1 and resolves(pack, pdfs[0])
    assert not [h for h in page.card_links[second["path"]] if h.endswith(".pdf")]


def test_a_preview_folder_that_links_out_of_the_pack_is_left_alone(packs, tmp_path):
    pack, outside = tmp_path / "pack", tmp_path / "outside"
    shutil.copytree(packs[1], pack)
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    (pack / "preview").symlink_to(outside, target_is_directory=True)
    report = write_index(pack)
    assert report.pictures == 0 and "not a folder of the pack" in report.note
    assert [p.name for p in outside.iterdir()] == ["keep.txt"]
    assert "not a folder of the pack" in report.path.read_text(encoding="utf-8")
