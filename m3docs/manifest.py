"""The pack's manifest: what was written, from what, with sha256. One owner for its name,
its entries and its reading and writing (pack, api, pdf, diff and preview use it)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .paths import atomic_write

if TYPE_CHECKING:
    from .plan import Document

MANIFEST = "manifest.json"
TRACKER = "Deliverables Tracker.xlsx"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_type(path: str | Path) -> str:
    """A file's own type, as the manifest gives it: its extension (an official macro workbook
    is ``xlsm``, a Word template ``dotx``)."""
    return PurePosixPath(str(path)).suffix.lstrip(".").lower()


def document_entry(doc: Document, template: str, official: bool, digest: str) -> dict:
    """A document's manifest entry."""
    return {"path": doc.path, "title": doc.title, "titles": list(doc.deliverable.titles),
            "format": file_type(doc.path), "kind": doc.deliverable.kind,
            "template": template,
            "official": official, "phase": doc.phase, "version": doc.version_label,
            "outputs_of": [k.id for k in doc.outputs_of], "inputs_of": [k.id for k in doc.inputs_of],
            "sha256": digest}


def read_hashes(out: Path) -> dict[str, str]:
    """path -> sha256 of what m3docs last wrote ({} when there is no readable manifest)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        entries = data.get("documents", []) + [data.get("tracker") or {}]
        return {e["path"]: e["sha256"] for e in entries if "path" in e and "sha256" in e}
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return {}


def load(out: Path) -> dict:
    """The whole manifest of the pack in ``out`` ({} when there is none or it is unreadable)."""
    try:
        data = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save(out: Path, manifest: dict) -> None:
    """Write the manifest (sorted keys; a lone surrogate stays a JSON escape), durably."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write(Path(out) / MANIFEST, text.encode("utf-8", "backslashreplace"))


def read_pack(pack: Path) -> dict:
    """The manifest of a pack given to diff or preview; a missing, unreadable or foreign
    manifest is an M3DocsError naming it."""
    from .errors import M3DocsError
    pack = Path(pack)
    try:
        data = json.loads((pack / MANIFEST).read_text(encoding="utf-8"))
    except OSError:
        raise M3DocsError(f"{pack}: no {MANIFEST} (not an m3docs pack)")
    except ValueError as exc:
        raise M3DocsError(f"{pack / MANIFEST}: not valid JSON: {exc}")
    if not isinstance(data, dict) or not isinstance(data.get("documents", []), list):
        raise M3DocsError(f"{pack / MANIFEST}: not an m3docs manifest")
    return data


def entries(manifest: dict) -> list[dict]:
    """The manifest's document entries, then the tracker's."""
    tracker = manifest.get("tracker")
    return [e for e in manifest.get("documents", []) if isinstance(e, dict)] + \
        ([tracker] if isinstance(tracker, dict) else [])
