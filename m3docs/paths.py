"""File names for pack documents (valid on Windows, macOS and Linux, unique, inside the pack)
and writing a file so that no reader ever sees half of it."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from .errors import M3DocsError

MAX_NAME = 100
TMP_PREFIX = ".m3docs-tmp-"
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def safe_stem(title: str) -> str:
    """A file-name stem from a title: no separators, reserved names or trailing dots."""
    text = unicodedata.normalize("NFC", title)
    text = re.sub(r"[\ud800-\udfff]", "", text)
    text = _BAD.sub("-", text)
    text = re.sub(r"\s+", " ", text).strip(" .-")
    text = re.sub(r"([(\[]) | ([)\]])", r"\1\2", text)  # "(IAA, if Federal )" -> "...Federal)"
    text = re.sub(r"-{2,}", "-", text)
    if len(text) > MAX_NAME:
        text = text[:MAX_NAME].rstrip(" .-")
    if not text:
        text = "document"
    if text.split(".")[0].strip().lower() in _RESERVED:
        text = "_" + text
    return text


def folder_name(phase: int, name: str) -> str:
    """'Phase 1 Readiness'; 'Phase 7' when the name only repeats the number."""
    label = f"Phase {phase}"
    same = " ".join(name.split()).lower() in ("", label.lower())
    return safe_stem(label if same else f"{label} {name}")


class NameBook:
    """Hands out unique relative paths (case-insensitively, as on Windows and macOS)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, folder: str, stem: str, ext: str) -> str:
        n = 1
        while True:
            name = f"{stem}.{ext}" if n == 1 else f"{stem} ({n}).{ext}"
            rel = f"{folder}/{name}" if folder else name
            if rel.lower() not in self.taken:
                self.taken.add(rel.lower())
                return rel
            n += 1


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write to a temporary name in the same folder, then rename over the target.

    The rename alone means no reader ever sees a half-written file, even if the
    process dies; ``durable`` also flushes the data to disk before the rename
    (against power loss). Pack documents, which can always be regenerated, skip
    that flush; the manifest keeps it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise M3DocsError(f"{path}: cannot write: {exc.strerror or exc}")
