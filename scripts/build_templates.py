"""Rebuild the project's own Office templates in templates/ (python scripts/build_templates.py).

Also records the library versions they were built with (templates/BUILT_WITH.json):
the same versions rebuild them byte for byte, which tests/test_templates_build.py checks.
"""
from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import build_docx_templates  # noqa: E402
import build_pptx_templates  # noqa: E402
import build_xlsx_templates  # noqa: E402

BUILDERS = (build_docx_templates, build_xlsx_templates, build_pptx_templates)
TOOLCHAIN = ("python-docx", "openpyxl", "python-pptx", "lxml")


def toolchain() -> dict[str, str]:
    """The versions of the libraries that shape the template bytes."""
    return {name: version(name) for name in TOOLCHAIN}


def build(out: Path) -> list[Path]:
    return [path for module in BUILDERS for path in module.build(out)]


def main() -> None:
    out = HERE.parent / "templates"
    for path in build(out):
        print(path.relative_to(HERE.parent))
    (out / "BUILT_WITH.json").write_text(json.dumps(toolchain(), indent=2) + "\n")


if __name__ == "__main__":
    main()
