"""Official decks: a filled table takes as many rows per slide as fit below it, and a row
taller than a slide is reported (the engine's wording: "taller than the room the slide has
for it")."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from m3docs.ooxml.package import Template
from m3docs.playbook.richtext import RichText
from m3docs.plan import Deliverable, Document
from m3docs.renderers import render_document

TEMPLATE_ROWS = 3   # header and two example rows


def review_deck(path: Path, size_pt: int | None = 12) -> Path:
    """A title slide and a slide whose table (header, two example rows) sits under a title,
    its text ``size_pt`` points (unsized: the deck's 18 pt default)."""
    from pptx import Presentation
    from pptx.util import Inches, Pt
    prs = Presentation()
    first = prs.slides.add_slide(prs.slide_layouts[0])
    first.shapes.title.text = "Progress Review"
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "Key Activities"
    table = slide.shapes.add_table(TEMPLATE_ROWS, 4, Inches(0.5), Inches(1.5), Inches(9),
                                   Inches(1.2)).table
    for r, texts in enumerate((("Activity", "Owner", "Status", "Finish"),
                               ("<<Activity>>", "<<Owner>>", "G", "xx/xx/xx"),
                               ("", "", "", ""))):
        for c, text in enumerate(texts):
            frame = table.cell(r, c).text_frame
            frame.text = text
            if size_pt:
                for p in frame.paragraphs:
                    p.font.size = Pt(size_pt)
    prs.save(path)
    return path


def _fill(path: Path, playbook, engagement, texts: list[str]) -> tuple[bytes, list[str]]:
    kt = playbook.key_task("3.14")
    acts = tuple(dataclasses.replace(kt.activities[0], number=i + 1, text=RichText.of(t))
                 for i, t in enumerate(texts))
    kt = dataclasses.replace(kt, activities=acts)
    doc = Document(Deliverable("r", "R", ("R",), path.name, "generic", "pptx"), 3, "Version 1",
                   (kt,), ())
    result = render_document(doc, Template(path), engagement, playbook, official=True)
    return result.data, result.warnings


def _tables(data: bytes) -> tuple[object, list]:
    """The deck and, per slide with the filled table, (slide, frame)."""
    from pptx import Presentation
    prs = Presentation(io.BytesIO(data))
    out = [(slide, shape) for slide in prs.slides for shape in slide.shapes
           if shape.has_table and shape.table.cell(0, 0).text == "Activity"]
    return prs, out


def test_rows_fill_each_slide(playbook, engagement, tmp_path):
    texts = [f"Hold fit-gap workshop {n} with the process owners" for n in range(1, 41)]
    data, warnings = _fill(review_deck(tmp_path / "review.pptx"), playbook, engagement, texts)
    assert not any("taller than the room" in w for w in warnings)
    prs, tables = _tables(data)
    shown = [[frame.table.cell(r, 0).text for r in range(1, len(frame.table.rows))]
             for _, frame in tables]
    assert [t for page in shown for t in page] == texts
    assert all(len(page) > TEMPLATE_ROWS for page in shown[:-1])
    limit = prs.slide_height - prs.slide_height // 12
    heights = [row.height for _, frame in tables for row in list(frame.table.rows)[1:]]
    seen = 0
    for (_, frame), page in zip(tables, shown):
        bottom = frame.top + sum(row.height for row in frame.table.rows)
        assert bottom <= limit
        seen += len(page)
        if seen < len(heights):   # the next row would not have fitted
            assert bottom + heights[seen] > limit
    titles = [slide.shapes.title.text for slide, _ in tables]
    assert titles[0] == "Key Activities"
    assert all(t == "Key Activities (continued)" for t in titles[1:])


def test_unsized_text_still_fills_the_slide(playbook, engagement, tmp_path):
    """Cells with no size of their own take the deck's 18 pt; short rows still fill slides."""
    texts = [f"Workshop {n}" for n in range(1, 31)]
    data, _ = _fill(review_deck(tmp_path / "review.pptx", size_pt=None), playbook, engagement,
                    texts)
    _, tables = _tables(data)
    pages = [len(frame.table.rows) - 1 for _, frame in tables]
    assert sum(pages) == len(texts)
    assert all(n > TEMPLATE_ROWS for n in pages[:-1])


def test_row_taller_than_a_slide_is_reported(playbook, engagement, tmp_path):
    long = "Cover every business process area in scope, with its owners. " * 60
    data, warnings = _fill(review_deck(tmp_path / "review.pptx"), playbook, engagement,
                           [long, "Short one", "Another"])
    found = [w for w in warnings if "taller than the room" in w]
    assert len(found) == 1
    assert "'Table" in found[0] and "slide 2" in found[0]   # the table's shape, its slide
    _, tables = _tables(data)
    texts = [frame.table.cell(r, 0).text for _, frame in tables
             for r in range(1, len(frame.table.rows))]
    assert texts == [long.strip(), "Short one", "Another"]   # nothing cut


def test_no_warning_when_rows_fit(playbook, engagement, tmp_path):
    _, warnings = _fill(review_deck(tmp_path / "review.pptx"), playbook, engagement,
                        ["Short one", "Another"])
    assert not any("taller than the room" in w for w in warnings)
