"""Regenerate the README's previews in docs/: python scripts/make_previews.py

Builds the example pack (bundled playbook + examples/engagement-with-schedule.yaml, whose
status comes from examples/schedule.xml, MS Project XML), converts the
CONOPS, the RTM and the status deck to PDF with LibreOffice and writes one page of
each as a PNG (needs LibreOffice and poppler's pdftoppm). Then writes the README's "Write
your own template" example: a small tagged Word template (``brief_template``) rendered for key
task 3.14, page 1 as docs/own-template.png.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import m3docs  # noqa: E402
from m3docs.pdf import convert  # noqa: E402

# (document kind in the manifest, page to show, preview name)
PREVIEWS = (("conops", 6, "conops.png"), ("rtm", 2, "rtm.png"), ("status", 2, "status.png"))


BRIEF = (  # (paragraph style, text): the README's example template, line by line
    ("Title", "{{ document.title }}"),
    ("Normal", "Prepared for {{ agency }} by {{ provider }}, {{ date }}"),
    ("Normal", "{%p for kt in key_tasks %}"),
    ("Heading 1", "{{ kt.id }} {{ kt.name }}"),
    ("Normal", "{{r kt.objective }}"),
    ("table", "#|Activity|Owner"),
    ("Normal", "{%p endfor %}"),
)


def brief_template(path: Path) -> Path:
    """The README's example: a title, a key-task loop with a heading, the objective as rich
    text and a table of activities whose row repeats ({%tr %})."""
    import docx
    from docx.shared import Inches
    d = docx.Document()
    for style, text in BRIEF:
        if style != "table":
            d.add_paragraph(text, style=style)
            continue
        table = d.add_table(rows=4, cols=3, style="Light Grid Accent 1")
        for cell, label in zip(table.rows[0].cells, text.split("|")):
            cell.text = label
        table.rows[1].cells[0].text = "{%tr for a in kt.activities %}"
        for cell, tag in zip(table.rows[2].cells, ("{{ a.number }}", "{{r a.text }}",
                                                   "{{ a.owner or a.party }}")):
            cell.text = tag
        table.rows[3].cells[0].text = "{%tr endfor %}"
        table.autofit = False
        for column, inches in zip(table.columns, (0.8, 3.7, 2.0)):
            column.width = Inches(inches)
            for cell in column.cells:
                cell.width = Inches(inches)
    d.save(str(path))
    return path


def own_template_preview(tmp: Path) -> None:
    template = brief_template(tmp / "brief.docx")
    out = tmp / "brief-3.14.docx"
    subprocess.run([sys.executable, "-m", "m3docs", "render", str(template), "--engagement",
                    str(REPO / "examples" / "engagement.yaml"), "--key-task", "3.14", "--out",
                    str(out)], check=True, cwd=REPO)
    (pdf,) = convert([out], tmp)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(tmp / "own")], check=True)
    target = REPO / "docs" / "own-template.png"
    target.write_bytes((tmp / "own.png").read_bytes())
    print(target.relative_to(REPO))


def main() -> None:
    book = m3docs.load_playbook()
    eng = m3docs.load_engagement(REPO / "examples" / "engagement-with-schedule.yaml", book)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pack"
        m3docs.build_pack(book, eng, out)
        docs = json.loads((out / "manifest.json").read_text())["documents"]
        by_kind = {d["kind"]: out / d["path"] for d in docs}
        pdfs = convert([by_kind[k] for k, _, _ in PREVIEWS], Path(tmp))
        for (kind, page, name), pdf in zip(PREVIEWS, pdfs):
            stem = Path(tmp) / kind
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                            "-singlefile", str(pdf), str(stem)], check=True)
            target = REPO / "docs" / name
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(stem.with_suffix(".png").read_bytes())
            print(target.relative_to(REPO))
        own_template_preview(Path(tmp))


if __name__ == "__main__":
    main()
