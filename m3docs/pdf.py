"""PDF copies of a pack's documents through LibreOffice headless.

One office process converts the whole pack: every document is linked under a
unique name into one private staging folder, converted with a single
``soffice --convert-to pdf`` call using a fresh profile directory (so parallel
runs never share a profile), and each PDF is moved next to its document.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from . import manifest as mf
from .errors import M3DocsError

#: Seconds allowed for LibreOffice to start, plus seconds per document.
START_SECONDS, SECONDS_PER_DOCUMENT = 120.0, 30.0
_CANDIDATES = ("soffice", "libreoffice")
_OOXML = (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm")
_MAC_APP = "/Applications/LibreOffice.app/Contents/MacOS/soffice"


def find_soffice() -> str | None:
    """The LibreOffice executable: $M3DOCS_SOFFICE, else soffice/libreoffice on PATH."""
    override = os.environ.get("M3DOCS_SOFFICE")
    if override:
        return override if Path(override).is_file() else shutil.which(override)
    for name in _CANDIDATES:
        if found := shutil.which(name):
            return found
    return _MAC_APP if Path(_MAC_APP).is_file() else None


def require_soffice() -> str:
    """The LibreOffice executable, or an M3DocsError saying how to get one."""
    soffice = find_soffice()
    if soffice is not None:
        return soffice
    override = os.environ.get("M3DOCS_SOFFICE")
    if override:
        raise M3DocsError(f"PDF output needs LibreOffice: M3DOCS_SOFFICE names {override}, "
                          "which is not a program here")
    raise M3DocsError("PDF output needs LibreOffice, which is not installed (install the "
                      "'libreoffice' package, or set M3DOCS_SOFFICE to its soffice program)")


def pdf_path(document: Path) -> Path:
    """Where a document's PDF goes: next to it, same name, .pdf."""
    return document.with_suffix(".pdf")


def convert(files: Sequence[str | Path], out_dir: str | Path | None = None, *,
            timeout: float | None = None) -> list[Path]:
    """Convert documents to PDF with one LibreOffice process; return the PDFs in order.

    Each PDF is written next to its document, or into ``out_dir`` when given
    (names must then be unique). Raises M3DocsError when LibreOffice is missing,
    times out, or any document gives no PDF or an empty one.
    """
    sources = [Path(f).resolve() for f in files]
    targets = [pdf_path(s) if out_dir is None else Path(out_dir) / pdf_path(s).name
               for s in sources]
    if len({str(t).lower() for t in targets}) != len(targets):
        raise M3DocsError("PDF conversion: two documents would give the same PDF name")
    if not sources:
        return []
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise M3DocsError(f"PDF conversion: no such document: {missing[0]}")
    broken = [str(s) for s in sources if s.suffix.lower() in _OOXML and not _is_zip(s)]
    if broken:
        raise M3DocsError(f"PDF conversion: {broken[0]} is not an Office file (not a zip)")
    soffice = require_soffice()
    limit = timeout if timeout is not None else START_SECONDS + SECONDS_PER_DOCUMENT * len(sources)
    with tempfile.TemporaryDirectory(prefix="m3docs-pdf-") as work:
        staged = _stage(sources, Path(work) / "in")
        produced = _run(soffice, staged, Path(work), limit)
        _collect(sources, produced, targets)
    return targets


def _stage(sources: list[Path], folder: Path) -> list[Path]:
    """Link every document into one folder under a unique name (copy if links fail)."""
    folder.mkdir()
    staged = []
    for i, src in enumerate(sources):
        link = folder / f"{i:05d}{src.suffix.lower()}"
        try:
            link.symlink_to(src)
        except OSError:
            shutil.copyfile(src, link)
        staged.append(link)
    return staged


def _run(soffice: str, staged: list[Path], work: Path, timeout: float,
         kind: str = "pdf") -> list[Path]:
    """One soffice call for every staged file; return the expected output paths
    (``kind`` is the target: "pdf", or "png" for a picture of the first page)."""
    out = work / "out"
    profile = (work / "profile").as_uri()
    cmd = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
           "--nolockcheck", "--convert-to", kind, "--outdir", str(out), *map(str, staged)]
    env = dict(os.environ, HOME=str(work))  # nothing touches the user's own profile
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=timeout, cwd=work)
    except subprocess.TimeoutExpired:
        raise M3DocsError(f"PDF conversion: LibreOffice did not finish within {timeout:.0f}s")
    except OSError as exc:
        raise M3DocsError(f"PDF conversion: cannot run {soffice}: {exc.strerror or exc}")
    if proc.returncode != 0:
        detail = _last_line(proc.stderr) or _last_line(proc.stdout)
        raise M3DocsError(f"PDF conversion: LibreOffice exited with status {proc.returncode}"
                          + (f": {detail}" if detail else ""))
    return [out / f"{s.stem}.{kind}" for s in staged]


def first_pages(files: Sequence[str | Path], out_dir: str | Path, *,
                timeout: float | None = None) -> list[Path | None]:
    """A PNG of each document's first page (slide, sheet page) with one LibreOffice process,
    written into ``out_dir`` as 00000.png, 00001.png ... in order; None where LibreOffice
    gave no picture. Raises M3DocsError when LibreOffice is missing or fails as a whole."""
    sources = [Path(f).resolve() for f in files]
    if not sources:
        return []
    soffice = require_soffice()
    limit = timeout if timeout is not None else START_SECONDS + SECONDS_PER_DOCUMENT * len(sources)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures: list[Path | None] = []
    with tempfile.TemporaryDirectory(prefix="m3docs-png-") as work:
        staged = _stage(sources, Path(work) / "in")
        for made in _run(soffice, staged, Path(work), limit, kind="png"):
            target = out_dir / made.name
            if made.is_file() and made.stat().st_size > 0:
                shutil.move(str(made), str(target))
                pictures.append(target)
            else:
                pictures.append(None)
    return pictures


def _collect(sources: list[Path], produced: list[Path], targets: list[Path]) -> None:
    """Check every PDF (present, not empty, a PDF) and move it next to its document."""
    failed = [src for src, pdf in zip(sources, produced) if not _is_pdf(pdf)]
    if failed:
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        raise M3DocsError(f"PDF conversion: LibreOffice could not convert {failed[0]}{more}")
    for pdf, target in zip(produced, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(pdf), str(target))


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(5)
        return head == b"%PDF-" and path.stat().st_size > 64
    except OSError:
        return False


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _last_line(data: bytes) -> str:
    lines = [l.strip() for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
    lines = [l for l in lines if "javaldx" not in l]
    return lines[-1][:300] if lines else ""


def pack_documents(out_dir: Path, report) -> list[str]:
    """Relative paths of a pack's documents on disk: every planned document and the tracker."""
    rels = [d["path"] for d in report.documents]
    manifest = mf.load(out_dir)
    tracker = (manifest.get("tracker") or {}).get("path")
    if tracker:
        rels.append(tracker)
    return [r for r in rels if (out_dir / r).is_file()]


def convert_pack(out_dir: str | Path, report, *, timeout: float | None = None) -> list[str]:
    """Write a PDF next to every document of a pack (one LibreOffice process for all).

    The PDFs' relative paths are added to ``report.pdfs`` (when it has one) and
    to the manifest entries as ``"pdf"``. Returns the relative PDF paths.
    """
    out_dir = Path(out_dir)
    rels = pack_documents(out_dir, report)
    convert([out_dir / r for r in rels], timeout=timeout)
    return note_pdfs(report, rels, out_dir)


def note_pdfs(report, rels: list[str], out_dir: Path | None = None) -> list[str]:
    """Record the PDFs of converted documents in the report and the manifest."""
    out_dir = Path(out_dir if out_dir is not None else report.out)
    pdfs = {r: pdf_path(Path(r)).as_posix() for r in rels}
    if isinstance(getattr(report, "pdfs", None), list):
        report.pdfs[:] = list(pdfs.values())
    _note_in_manifest(out_dir, pdfs)
    return list(pdfs.values())


def _note_in_manifest(out_dir: Path, pdfs: dict[str, str]) -> None:
    """Record each document's PDF in the manifest (``"pdf": relative path``)."""
    manifest = mf.load(out_dir)
    if not manifest:
        return
    entries: Iterable[dict] = list(manifest.get("documents", [])) + [manifest.get("tracker") or {}]
    for entry in entries:
        if isinstance(entry, dict) and entry.get("path") in pdfs:
            entry["pdf"] = pdfs[entry["path"]]
    mf.save(out_dir, manifest)
