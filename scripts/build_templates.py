"""Rebuild the project's own Office templates in templates/ (python scripts/build_templates.py)."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import build_docx_templates  # noqa: E402
import build_pptx_templates  # noqa: E402
import build_xlsx_templates  # noqa: E402


def main() -> None:
    out = HERE.parent / "templates"
    for module in (build_docx_templates, build_xlsx_templates, build_pptx_templates):
        for path in module.build(out):
            print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
