"""Regenerate the README's previews in docs/: python scripts/make_previews.py

Builds the example pack (bundled playbook + examples/engagement-with-schedule.yaml, whose
status comes from examples/schedule.xml, MS Project XML), converts the
CONOPS, the RTM and the status deck to PDF with LibreOffice and writes one page of
each as a PNG (needs LibreOffice and poppler's pdftoppm).
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


if __name__ == "__main__":
    main()
