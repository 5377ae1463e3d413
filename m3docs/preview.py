"""The index page of a pack: every document by phase with a picture of its first page.

``index.html`` is written at the pack's root from manifest.json alone: documents by
phase (picture, title, format, the key tasks that produce, update and use each, a
link to the file), then the tracker's lineage as a table. The page is one
self-contained file with relative links (pictures in ``preview/``): no script, no
external style or font, nothing fetched. Pictures come from LibreOffice, one
process for the whole pack, and are made again only for documents whose bytes
changed; without LibreOffice the page is written without them and says so.
The same pack gives the same page.
"""
from __future__ import annotations

import hashlib
import html
import json
import posixpath
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import __version__
from . import manifest as mf
from .diff import PackDiff, diff_packs
from .manifest import MANIFEST
from .errors import M3DocsError
from .paths import atomic_write

INDEX = "index.html"
PICTURES = "preview"              # folder of first-page pictures, inside the pack
RECORD = f"{PICTURES}/pictures.json"  # document path -> sha256 of the document pictured
FORMATS = {"docx": "Word", "docm": "Word", "xlsx": "Excel", "xlsm": "Excel",
           "pptx": "PowerPoint", "pptm": "PowerPoint"}


@dataclass
class IndexReport:
    """What ``write_index`` wrote."""

    path: Path
    documents: int = 0
    pictures: int = 0
    made: int = 0                 # pictures made in this run (the rest were current)
    note: str = ""                # why the page has no pictures ("" when it has)
    changed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.path}: {self.documents} documents, {self.pictures} pictures"
        if self.made:
            text += f" ({self.made} made)"
        if self.note:
            text += f"; {self.note}"
        return text


def write_index(pack: str | Path, *, since: str | Path | None = None,
                pictures: bool = True) -> IndexReport:
    """Write ``index.html`` at the root of ``pack``; ``since`` an earlier pack whose
    differences (see diff_packs) are marked on the page."""
    pack = Path(pack).expanduser()
    manifest = read_manifest(pack)
    entries = _entries(manifest, pack)
    for entry in entries:
        entry["present"] = (pack / entry["path"]).is_file()
        pdf = entry.get("pdf")
        entry["pdf_present"] = (isinstance(pdf, str) and not pdf.startswith("/") and
                                ".." not in pdf.split("/") and (pack / pdf).is_file())
    changes = diff_packs(since, pack) if since is not None else None
    report = IndexReport(pack / INDEX, documents=len(entries))
    if pictures:
        found = _pictures(pack, entries, report)
    else:
        found, report.note = {}, "pictures were not asked for"
    page = render_page(manifest, entries, found, report.note, changes,
                       str(since) if since is not None else None)
    atomic_write(pack / INDEX, page.encode("utf-8"))
    report.pictures = len(found)
    if changes is not None:
        report.changed = sorted({d.path for d in changes.changed} | set(changes.added))
    return report


read_manifest = mf.read_pack


def _entries(manifest: dict, pack: Path) -> list[dict]:
    """The manifest's documents, then the tracker; every path checked to stay inside."""
    out = mf.entries(manifest)
    for entry in out:
        rel = entry.get("path")
        if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in rel.split("/"):
            raise M3DocsError(f"{pack / MANIFEST}: {rel!r} is not a path inside the pack")
    return [_plain(e) for e in out]


def _plain(entry: dict) -> dict:
    """An entry with text where the page shows text, and lists of text for key tasks
    (a hand-edited manifest may hold anything)."""
    out = dict(entry)
    for key in ("title", "format", "version"):
        if key in out and not isinstance(out[key], str):
            out[key] = "" if out[key] is None else str(out[key])
    for key in ("titles", "outputs_of", "inputs_of"):
        value = out.get(key)
        out[key] = [str(v) for v in value] if isinstance(value, list) else []
    return out


# -- pictures -------------------------------------------------------------------------

def picture_path(rel: str) -> str:
    """Where a document's first-page picture goes, relative to the pack."""
    return f"{PICTURES}/{rel}.png"


def _pictures(pack: Path, entries: list[dict], report: IndexReport) -> dict[str, str]:
    """Document path -> its picture's path, making those missing or out of date."""
    from .pdf import find_soffice, first_pages
    folder = pack / PICTURES
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        report.note = f"no pictures: {folder} is not a folder of the pack (a link or a file)"
        return {}
    record = _read_record(pack)
    present = {e["path"]: _digest(pack / e["path"]) for e in entries}
    present = {rel: digest for rel, digest in present.items() if digest}
    for rel in set(record) - set(present):  # pictures of documents no longer in the pack
        del record[rel]
        if not rel.startswith("/") and ".." not in rel.split("/") and "\\" not in rel:
            (pack / picture_path(rel)).unlink(missing_ok=True)
    todo = [rel for rel, digest in present.items()
            if record.get(rel) != digest or not (pack / picture_path(rel)).is_file()]
    if todo and find_soffice() is None:
        report.note = ("no pictures of the first pages: LibreOffice is not installed here "
                       "(install it, or set M3DOCS_SOFFICE, and run m3docs preview again)")
        return {}
    if todo:
        try:
            with tempfile.TemporaryDirectory(prefix="m3docs-preview-") as work:
                made = first_pages([pack / rel for rel in todo], work)
                for rel, png in zip(todo, made):
                    record.pop(rel, None)
                    if png is not None:
                        target = pack / picture_path(rel)
                        _inside(pack, target)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(str(png), str(target))
                        record[rel] = present[rel]
                        report.made += 1
        except M3DocsError as exc:
            report.note = f"no pictures of the first pages: {exc}"
            return {}
    _write_record(pack, record)
    found = {rel: picture_path(rel) for rel in present
             if rel in record and (pack / picture_path(rel)).is_file()}
    missing = [e["path"] for e in entries if e["path"] not in found]
    if missing:
        report.note = (f"{len(missing)} of {len(entries)} documents have no picture "
                       f"(missing, or LibreOffice made none: {missing[0]}"
                       f"{' ...' if len(missing) > 1 else ''})")
    return found


def _inside(pack: Path, target: Path) -> None:
    """Refuse a picture whose folder leads out of the pack (a symlinked folder)."""
    root = pack.resolve()
    real = target.parent.resolve() if target.parent.exists() else target.parent.absolute()
    if real != root and root not in real.parents:
        raise M3DocsError(f"{target}: refusing to write outside {pack}")


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_record(pack: Path) -> dict[str, str]:
    try:
        data = json.loads((pack / RECORD).read_text(encoding="utf-8"))
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_record(pack: Path, record: dict[str, str]) -> None:
    if record or (pack / RECORD).exists():
        text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        atomic_write(pack / RECORD, text.encode("utf-8"))


# -- the page -------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _href(rel: str) -> str:
    return _e(quote(rel, safe="/"))


def _phase_name(entry: dict) -> str:
    folder = posixpath.dirname(entry["path"])
    return folder or f"Phase {entry.get('phase')}"


def render_page(manifest: dict, entries: list[dict], pictures: dict[str, str], note: str,
                changes: PackDiff | None, since: str | None) -> str:
    """The whole index page as text (deterministic: no clock, sorted input)."""
    eng = manifest.get("engagement") or {}
    title = " - ".join(str(v) for v in (eng.get("agency"), eng.get("program")) if v) or "Pack"
    marks = _marks(changes)
    docs = [e for e in entries if "title" in e]
    trackers = [e for e in entries if "title" not in e]
    body = [f"<header><h1>{_e(title)}</h1>",
            f"<p class=\"sub\">{_e(_subtitle(eng, docs, bool(trackers)))}</p>"]
    if note:
        body.append(f"<p class=\"note\" id=\"no-pictures\">{_e(note[:1].upper() + note[1:])}.</p>")
    if changes is not None:
        body.append(_since_block(changes, since or ""))
    body.append("<nav>" + " ".join(
        f"<a href=\"#{_anchor(p)}\">{_e(p)}</a>" for p in _phases(docs)) +
        " <a href=\"#lineage\">Lineage</a></nav></header><main>")
    if trackers:
        body.append("<section><h2 id=\"tracker\">Deliverables Tracker</h2><div class=\"grid\">")
        body += [_card(e, pictures, marks, "Deliverables Tracker") for e in trackers]
        body.append("</div></section>")
    for phase in _phases(docs):
        body.append(f"<section><h2 id=\"{_anchor(phase)}\">{_e(phase)}</h2><div class=\"grid\">")
        body += [_card(e, pictures, marks) for e in docs if _phase_name(e) == phase]
        body.append("</div></section>")
    body.append(_lineage(docs, marks))
    body.append(f"</main><footer>Made by m3docs {_e(manifest.get('m3docs_version', __version__))}"
                f" from {MANIFEST}.</footer>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)} - deliverables</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _subtitle(eng: dict, docs: list[dict], tracker: bool) -> str:
    parts = [f"{len(docs)} documents" + (" and the tracker" if tracker else "")]
    if eng.get("as_of"):
        parts.append(f"as of {eng['as_of']}")
    if eng.get("version"):
        parts.append(f"version {eng['version']}")
    if eng.get("provider"):
        parts.append(f"provider: {eng['provider']}")
    return " | ".join(parts)


def _phases(docs: list[dict]) -> list[str]:
    order = sorted({(_num(e.get("phase")), _phase_name(e)) for e in docs})
    return list(dict.fromkeys(name for _, name in order))


def _num(value: object) -> float:
    return value if isinstance(value, (int, float)) else float("inf")


def _anchor(name: str) -> str:
    return "p-" + "".join(c if c.isalnum() else "-" for c in name.lower())


def _marks(changes: PackDiff | None) -> dict[str, str]:
    if changes is None:
        return {}
    marks = {d.path: f"changed ({len(d.changes)} lines)" for d in changes.changed}
    marks.update({p: "new" for p in changes.added})
    return marks


def _since_block(changes: PackDiff, since: str) -> str:
    head = (f"Compared with {since}: {len(changes.changed)} changed, {len(changes.added)} "
            f"added, {len(changes.removed)} removed" if changes else
            f"Compared with {since}: no document changed")
    items = "".join(f"<li>{_e(p)}</li>" for p in changes.removed)
    removed = f"<p>Removed since then:</p><ul>{items}</ul>" if items else ""
    return f"<div class=\"since\" id=\"since\"><p>{_e(head)}.</p>{removed}</div>"


def _card(entry: dict, pictures: dict[str, str], marks: dict[str, str],
          title: str | None = None) -> str:
    rel = entry["path"]
    name = title or entry.get("title") or posixpath.basename(rel)
    fmt = FORMATS.get(posixpath.splitext(rel)[1].lstrip(".").lower(), entry.get("format", ""))
    mark = marks.get(rel) or (None if entry.get("present", True) else "missing")
    pic = pictures.get(rel)
    figure = (f"<img src=\"{_href(pic)}\" alt=\"First page of {_e(name)}\">" if pic
              else f"<span class=\"nopic\">{_e(fmt)}</span>")
    meta = [fmt] + ([entry["version"]] if entry.get("version") else [])
    roles = _roles(entry)
    badge = f" <span class=\"mark\">{_e(mark)}</span>" if mark else ""
    return (f"<article class=\"doc{' changed' if mark else ''}\" data-path=\"{_e(rel)}\">"
            f"<a class=\"pic\" href=\"{_href(rel)}\">{figure}</a>"
            f"<h3><a href=\"{_href(rel)}\">{_e(name)}</a>{badge}</h3>"
            f"<p class=\"meta\">{_e(' | '.join(meta))}</p>"
            + (f"<dl>{roles}</dl>" if roles else "") +
            f"<p class=\"file\"><a href=\"{_href(rel)}\">{_e(posixpath.basename(rel))}</a>"
            + _pdf_link(entry) + "</p></article>")


def _pdf_link(entry: dict) -> str:
    """A link to the document's PDF when the pack has one (``pack --pdf``)."""
    pdf = entry.get("pdf")
    if not entry.get("pdf_present") or not isinstance(pdf, str):
        return ""
    return f" <a class=\"pdf\" href=\"{_href(pdf)}\">PDF</a>"


def _roles(entry: dict) -> str:
    """The key tasks that produce (or update) the document and those that use it."""
    makers = ", ".join(entry.get("outputs_of") or [])
    users = ", ".join(entry.get("inputs_of") or [])
    verb = "Updated by" if entry.get("version") == "Updated" else "Produced by"
    return ((f"<dt>{verb}</dt><dd>{_e(makers)}</dd>" if makers else "") +
            (f"<dt>Used by</dt><dd>{_e(users)}</dd>" if users else ""))


def _lineage(docs: list[dict], marks: dict[str, str]) -> str:
    """The tracker's lineage: one row per deliverable, one column per phase."""
    phases = _phases(docs)
    rows: dict[tuple, list[dict]] = {}
    for entry in docs:
        key = tuple(entry["titles"] or [entry.get("title", "")])
        rows.setdefault(key, []).append(entry)
    ordered = sorted(rows.values(), key=lambda es: (
        min(_num(e.get("phase")) for e in es), _label(es).lower(), _label(es)))
    head = "".join(f"<th>{_e(p)}</th>" for p in phases)
    lines = [f"<section><h2 id=\"lineage\">Lineage</h2><table><thead><tr><th>Deliverable</th>"
             f"<th>Format</th>{head}<th>Produced or updated by</th><th>Used by</th></tr></thead>"
             "<tbody>"]
    for group in ordered:
        cells = []
        for phase in phases:
            here = [e for e in group if _phase_name(e) == phase]
            cells.append("<td>" + " ".join(
                f"<a class=\"{'changed' if e['path'] in marks else 'v'}\" "
                f"href=\"{_href(e['path'])}\">{_e(e.get('version') or 'Open')}</a>"
                for e in here) + "</td>")
        makers = _ids(e.get("outputs_of") for e in group)
        users = _ids(e.get("inputs_of") for e in group)
        fmt = FORMATS.get(group[0].get("format", ""), group[0].get("format", ""))
        lines.append(f"<tr><th scope=\"row\">{_e(_label(group))}</th><td>{_e(fmt)}</td>"
                     + "".join(cells) + f"<td>{_e(makers)}</td><td>{_e(users)}</td></tr>")
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


def _label(group: list[dict]) -> str:
    return " / ".join(dict.fromkeys(str(e.get("title", "")) for e in group))


def _ids(lists) -> str:
    seen: list[str] = []
    for ids in lists:
        seen += [i for i in ids or [] if i not in seen]
    return ", ".join(sorted(seen, key=_id_key))


def _id_key(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in str(text).split(".")), str(text)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;
margin:0;color:#1b1f24;background:#f4f6f9}
header{background:#1f3864;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:24px}
.sub{margin:0;opacity:.85}
nav{margin-top:10px}
nav a{color:#fff;margin-right:14px;font-size:14px}
.note,.since{background:#fff4ce;color:#3d3300;border-radius:4px;padding:8px 12px;margin:10px 0 0}
.since p,.since ul{margin:4px 0}
main{padding:8px 28px 28px}
h2{color:#1f3864;border-bottom:2px solid #1f3864;padding-bottom:4px;margin-top:28px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}
.doc{background:#fff;border:1px solid #d0d7e2;border-radius:6px;padding:10px;
display:flex;flex-direction:column}
.doc.changed{border:2px solid #c55a11;box-shadow:0 0 0 2px #f8cbad}
.pic{display:flex;align-items:center;justify-content:center;height:200px;
background:#eef1f5;border-radius:4px;overflow:hidden}
.pic img{max-width:100%;max-height:200px;box-shadow:0 1px 3px rgba(0,0,0,.35);background:#fff}
.nopic{font-size:20px;color:#6b7785}
.doc h3{font-size:15px;margin:10px 0 4px}
.doc h3 a{color:#1f3864;text-decoration:none}
.mark{display:inline-block;font-size:11px;background:#c55a11;color:#fff;border-radius:3px;
padding:1px 5px;margin-left:4px;vertical-align:middle}
.meta{margin:0;color:#5a6470;font-size:13px}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;font-size:13px;margin:6px 0}
dt{color:#5a6470}
dd{margin:0}
.file{margin:auto 0 0;font-size:12px;word-break:break-word}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #d0d7e2;padding:4px 6px;text-align:left;vertical-align:top}
thead th{background:#1f3864;color:#fff;position:sticky;top:0}
tbody th{font-weight:normal}
td a.v{color:#1f3864}
td a.changed{color:#c55a11;font-weight:bold}
footer{padding:12px 28px;color:#5a6470;font-size:12px}
"""
