"""The index page in a real headless browser (Debian's chromium), with pictures from
LibreOffice: every document is there with a working link, every picture loads, and
the page fetches nothing from the network.

Outside CI these tests skip with a message when chromium or LibreOffice is absent;
in CI (the CI environment variable is set) a missing one fails them.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from m3docs import diff_packs, write_index
from m3docs.pdf import find_soffice
from browser import Browser, find_chromium
from review_packs import entries, make_packs

FACTS = """JSON.stringify({
  cards: [...document.querySelectorAll('article.doc')].map(a => ({
    path: a.dataset.path, changed: a.classList.contains('changed'),
    links: [...a.querySelectorAll('a[href]')].map(l => l.href)})),
  links: [...document.querySelectorAll('a[href]')].map(l => l.href),
  images: [...document.images].map(i => ({src: i.src, complete: i.complete,
                                          width: i.naturalWidth, height: i.naturalHeight}))
})"""


def _require(found: str | None, what: str) -> str:
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI but was not found")
        pytest.skip(f"{what} is not installed; the index-page browser test needs it")
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    return _require(find_chromium(), "chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def soffice() -> str:
    return _require(find_soffice(), "LibreOffice (soffice)")


@pytest.fixture(scope="module")
def indexed(soffice, tmp_path_factory):
    old, new = make_packs(tmp_path_factory.mktemp("browse"))
    first = write_index(new, since=old)
    return old, new, first


def local_file(url: str) -> Path | None:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def test_the_page_in_chromium(indexed, chromium, tmp_path):
    old, new, report = indexed
    paths = {e["path"] for e in entries(new)}
    assert report.pictures == len(paths) and not report.note
    with Browser(chromium, tmp_path / "profile") as browser:
        browser.open((new / "index.html").as_uri())
        facts = json.loads(browser.evaluate(FACTS))
        requests = browser.requests()
        shot = tmp_path / "index.png"
        browser.screenshot(shot)
    cards = {c["path"]: c for c in facts["cards"]}
    assert set(cards) == paths
    for path, card in cards.items():
        targets = [local_file(u) for u in card["links"]]
        assert targets and all(t == new / path for t in targets), path
    for url in facts["links"]:
        target = local_file(url)
        in_page = bool(urlsplit(url).fragment) and target == new / "index.html"
        assert target is not None and (target.is_file() or in_page), url
    assert len(facts["images"]) == len(paths)
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in facts["images"])
    assert requests and all(u.startswith("file://") for u in requests), \
        [u for u in requests if not u.startswith("file://")]
    changes = diff_packs(old, new)
    assert {p for p, c in cards.items() if c["changed"]} == \
        {d.path for d in changes.changed} | set(changes.added)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("M3DOCS_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_a_second_run_reuses_the_pictures_and_gives_the_same_page(indexed):
    old, new, first = indexed
    page = (new / "index.html").read_bytes()
    pictures = {p: p.read_bytes() for p in (new / "preview").rglob("*.png")}
    again = write_index(new, since=old)
    assert again.made == 0 and again.pictures == first.pictures
    assert (new / "index.html").read_bytes() == page
    assert {p: p.read_bytes() for p in (new / "preview").rglob("*.png")} == pictures
