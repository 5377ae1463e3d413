"""An Office Open XML package: parts read once, edited as XML, written deterministically.

Unchanged parts are copied as their original compressed bytes (no re-deflate);
parts are written in a fixed order with a fixed timestamp so the same input
gives the same bytes on every run.
"""
from __future__ import annotations

import copy
import posixpath
import struct
import threading
import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from lxml import etree

from .xml import RT, NS, UnsafeXML, parse_xml, qn, serialize

MAX_PART_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_PARTS = 10_000
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0  # 1980-01-01 00:00
_CT = "[Content_Types].xml"
_FAMILIES = {  # words in the main part's content type, by file extension
    **dict.fromkeys((".docx", ".docm", ".dotx", ".dotm"), ("wordprocessingml", "ms-word")),
    **dict.fromkeys((".xlsx", ".xlsm", ".xltx", ".xltm"), ("spreadsheetml", "ms-excel")),
    **dict.fromkeys((".pptx", ".pptm", ".potx", ".potm"), ("presentationml", "ms-powerpoint")),
}


class PackageError(ValueError):
    """The file is not a usable Office package (the message says why)."""


@dataclass(frozen=True)
class _Raw:
    """A part as stored in the source zip."""

    method: int
    crc: int
    compressed: bytes
    size: int


class Template:
    """A package read once; ``new()`` gives a cheap, editable copy per document."""

    def __init__(self, path: str | Path, data: bytes | None = None):
        self.path = str(path)
        self.raw: dict[str, _Raw] = _read_zip(data if data is not None else Path(path).read_bytes(),
                                              self.path)
        self.order = list(self.raw)
        self._xml: dict[str, etree._Element] = {}
        if _CT not in self.raw:
            raise PackageError(f"{self.path}: not an Office file (no [Content_Types].xml)")
        self._check_format()

    def _check_format(self) -> None:
        """Refuse a package whose main document does not fit the file's extension."""
        suffix = Path(self.path).suffix.lower()
        family = _FAMILIES.get(suffix)
        if family is None:
            return
        main = ""
        if "_rels/.rels" in self.raw:
            for el in self.xml("_rels/.rels"):
                if el.get("Type", "").endswith("/officeDocument"):
                    main = "/" + posixpath.normpath(el.get("Target", "").lstrip("/"))
        kind = next((el.get("ContentType", "") for el in self.xml(_CT).findall(qn("ct:Override"))
                     if el.get("PartName") == main), "")
        if not any(word in kind for word in family):
            raise PackageError(f"{self.path}: not a {suffix} file (its main part is "
                               f"{kind or 'missing'})")

    def bytes_of(self, name: str) -> bytes:
        raw = self.raw[name]
        if raw.method == 0:
            return raw.compressed
        data = zlib.decompressobj(-15).decompress(raw.compressed, raw.size + 1)
        if len(data) != raw.size:
            raise PackageError(f"{self.path}: part {name} does not inflate to its stated size")
        return data

    def xml(self, name: str) -> etree._Element:
        """The parsed part, parsed once per template (treat as read-only)."""
        if name not in self._xml:
            try:
                self._xml[name] = parse_xml(self.bytes_of(name))
            except etree.XMLSyntaxError as exc:
                raise PackageError(f"{self.path}: part {name} is not well-formed XML: {exc}")
            except UnsafeXML as exc:
                raise PackageError(f"{self.path}: part {name}: {exc}")
        return self._xml[name]

    def new(self) -> "Package":
        return Package(self)


T = TypeVar("T")
OFFICE_DOCUMENT = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                   "officeDocument",
                   "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")


def main_part_name(template: Template, default: str) -> str:
    """The package's main document part, as ``_rels/.rels`` names it (``default`` when it
    names none)."""
    for rel in template.xml("_rels/.rels"):
        if rel.get("Type") in OFFICE_DOCUMENT:
            return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return default


def main_part(template: Template) -> tuple[str, str]:
    """(part name, content type) of the package's main document part; a PackageError when
    the package names none or gives it no content type."""
    name = main_part_name(template, "")
    if not name:
        raise PackageError(f"{template.path}: no main document part (_rels/.rels has no "
                           "officeDocument relationship)")
    types = template.xml("[Content_Types].xml")
    for el in types.findall(qn("ct:Override")):
        if el.get("PartName", "").lstrip("/") == name:
            return name, el.get("ContentType", "")
    ext = name.rsplit(".", 1)[-1]
    for el in types.findall(qn("ct:Default")):
        if el.get("Extension", "").lower() == ext.lower():
            return name, el.get("ContentType", "")
    raise PackageError(f"{template.path}: main part {name} has no content type")


def per_template(analyse: Callable[[Template], T]) -> Callable[[Template], T]:
    """Cache ``analyse(template)`` with the Template object: template work is done once."""
    cache: "weakref.WeakKeyDictionary[Template, T]" = weakref.WeakKeyDictionary()

    def cached(template: Template) -> T:
        found = cache.get(template)
        if found is None:
            found = cache[template] = analyse(template)
        return found

    cached.__doc__ = analyse.__doc__
    cached.__name__ = getattr(analyse, "__name__", "cached")
    return cached


class Package:
    """An editable copy of a Template. Edit parts through ``xml()``; ``to_bytes()`` writes."""

    def __init__(self, template: Template):
        self.template = template
        self._xml: dict[str, etree._Element] = {}
        self._bytes: dict[str, bytes] = {}
        self._sealed: dict[str, _Raw] = {}   # finished parts, already compressed
        self.order = list(template.order)

    # -- reading -----------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.order)

    def __contains__(self, name: str) -> bool:
        return (name in self._xml or name in self._bytes or name in self._sealed
                or name in self.template.raw)

    def read(self, name: str) -> bytes:
        if name in self._xml:
            return serialize(self._xml[name])
        if name in self._bytes:
            return self._bytes[name]
        if name in self._sealed:
            return _inflate(self._sealed[name])
        return self.template.bytes_of(name)

    def view(self, name: str) -> etree._Element:
        """The part's current XML to read (edited or the template's; do not modify)."""
        if name in self._xml:
            return self._xml[name]
        if name in self._bytes or name in self._sealed:
            return parse_xml(self.read(name))
        return self.template.xml(name)

    def xml(self, name: str) -> etree._Element:
        """The part's XML for editing (a private copy; marks the part changed)."""
        if name not in self._xml:
            if name in self._bytes or name in self._sealed:
                self._xml[name] = parse_xml(self.read(name))
                self._bytes.pop(name, None)
                self._sealed.pop(name, None)
            else:
                self._xml[name] = copy.deepcopy(self.template.xml(name))
        return self._xml[name]

    # -- writing -----------------------------------------------------------------
    def put(self, name: str, data: bytes | etree._Element, content_type: str | None = None) -> None:
        """Add or replace a part; a new part gets a content-type override if given."""
        self._xml.pop(name, None)
        self._bytes.pop(name, None)
        self._sealed.pop(name, None)
        if isinstance(data, bytes):
            self._bytes[name] = data
        else:
            self._xml[name] = data
        if name not in self.order:
            self.order.append(name)
        if content_type:
            self.set_content_type(name, content_type)

    def copy_raw(self, source: str, name: str, content_type: str | None = None) -> None:
        """Add ``name`` as an unchanged copy of the template's part ``source`` (its stored,
        compressed bytes are reused)."""
        self.put(name, b"", content_type)
        self._bytes.pop(name, None)
        self._sealed[name] = self.template.raw[source]

    def remove(self, name: str) -> None:
        """Drop a part (and its content-type override); relationships to it are the caller's."""
        self._xml.pop(name, None)
        self._bytes.pop(name, None)
        self._sealed.pop(name, None)
        if name in self.order:
            self.order.remove(name)
        types = self.xml(_CT)
        for el in types.findall(qn("ct:Override")):
            if el.get("PartName") == "/" + name:
                types.remove(el)

    def set_content_type(self, name: str, content_type: str) -> None:
        types = self.xml(_CT)
        part = "/" + name
        for el in types.findall(qn("ct:Override")):
            if el.get("PartName") == part:
                el.set("ContentType", content_type)
                return
        etree.SubElement(types, qn("ct:Override"), PartName=part, ContentType=content_type)

    def rels_name(self, part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels(self, part: str) -> etree._Element:
        name = self.rels_name(part)
        if name not in self:
            self.put(name, etree.Element(qn("rel:Relationships"), nsmap={None: NS["rel"]}))
        return self.xml(name)

    def relate(self, part: str, rel_type: str, target: str, external: bool = False) -> str:
        """Add a relationship from ``part`` (reusing an equal one); return its rId."""
        rels = self.rels(part)
        mode = "External" if external else None
        ids = set()
        for el in rels:
            ids.add(el.get("Id"))
            if el.get("Type") == rel_type and el.get("Target") == target and \
                    el.get("TargetMode") == mode:
                return el.get("Id")
        n = len(ids) + 1
        while f"rId{n}" in ids:
            n += 1
        el = etree.SubElement(rels, qn("rel:Relationship"), Id=f"rId{n}", Type=rel_type,
                              Target=target)
        if external:
            el.set("TargetMode", "External")
        return f"rId{n}"

    def hyperlink(self, part: str, url: str) -> str:
        return self.relate(part, RT["hyperlink"], url, external=True)

    def related(self, part: str, rel_id: str) -> str:
        """The part name a relationship of ``part`` points at."""
        for el in self.rels(part):
            if el.get("Id") == rel_id:
                return resolve_target(part, el.get("Target"))
        raise KeyError(rel_id)

    def holds_tree(self, name: str) -> bool:
        """Whether the part is held as an editable tree (else as bytes)."""
        return name in self._xml

    def changed(self) -> set[str]:
        return set(self._xml) | set(self._bytes) | set(self._sealed)

    def seal(self, name: str, again: bool = False) -> None:
        """Mark a changed part finished: it is serialized and compressed now, and only those
        bytes are kept (a deck of hundreds of slides need not hold hundreds of trees).
        ``again``: the same bytes are likely to be written into other documents (their
        compressed form is kept a while)."""
        if name in self._xml or name in self._bytes:
            self._sealed[name] = _deflate(self.read(name), again)
            self._xml.pop(name, None)
            self._bytes.pop(name, None)

    def to_bytes(self) -> bytes:
        """The package as a zip: content types first, then the template's order."""
        names = [_CT] + [n for n in self.order if n != _CT]
        writer = ZipWriter()
        for name in names:
            if name in self._sealed:
                writer.add_raw(name, self._sealed[name])
            elif name in self._xml or name in self._bytes:
                writer.add(name, self.read(name))
            else:
                writer.add_raw(name, self.template.raw[name])
        return writer.finish()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())


def _read_zip(data: bytes, path: str) -> dict[str, _Raw]:
    """Parse a zip's central directory, keeping each part's stored bytes."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise PackageError(f"{path}: encrypted or legacy binary Office file (password-protected "
                           "files cannot be filled)")
    if data[:2] != b"PK":
        raise PackageError(f"{path}: not an Office file (not a zip package)")
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        raise PackageError(f"{path}: truncated or damaged zip (no end of central directory)")
    count, cd_size, cd_offset = struct.unpack("<HII", data[end + 10:end + 20])
    if count > MAX_PARTS:
        raise PackageError(f"{path}: {count} parts, over the limit of {MAX_PARTS}")
    parts: dict[str, _Raw] = {}
    pos, total = cd_offset, 0
    for _ in range(count):
        if data[pos:pos + 4] != b"PK\x01\x02":
            raise PackageError(f"{path}: damaged zip central directory")
        (flags, method, crc, csize, usize, nlen, xlen, clen, loff) = _cd_fields(data, pos)
        name = data[pos + 46:pos + 46 + nlen].decode("utf-8" if flags & 0x800 else "cp437")
        pos += 46 + nlen + xlen + clen
        if flags & 1:
            raise PackageError(f"{path}: encrypted zip entries cannot be read")
        if method not in (0, 8):
            raise PackageError(f"{path}: part {name} uses unsupported compression {method}")
        if usize > MAX_PART_BYTES:
            raise PackageError(f"{path}: part {name} inflates past the limit of "
                               f"{MAX_PART_BYTES} bytes (zip bomb?)")
        if (total := total + usize) > MAX_TOTAL_BYTES:
            raise PackageError(f"{path}: parts inflate past the total limit of "
                               f"{MAX_TOTAL_BYTES} bytes (zip bomb?)")
        if csize and usize // max(csize, 1) > 1000 and usize > 1024 * 1024:
            raise PackageError(f"{path}: part {name} has a compression ratio over 1000 (zip bomb?)")
        if data[loff:loff + 4] != b"PK\x03\x04":
            raise PackageError(f"{path}: truncated or damaged zip (part {name})")
        lnlen, lxlen = struct.unpack("<HH", data[loff + 26:loff + 30])
        start = loff + 30 + lnlen + lxlen
        if start + csize > len(data):
            raise PackageError(f"{path}: truncated zip (part {name} is cut off)")
        if name.endswith("/"):
            continue
        parts[name] = _Raw(method, crc, data[start:start + csize], usize)
    return parts


def _cd_fields(data: bytes, pos: int) -> tuple[int, ...]:
    flags, method = struct.unpack("<HH", data[pos + 8:pos + 12])
    crc, csize, usize = struct.unpack("<III", data[pos + 16:pos + 28])
    nlen, xlen, clen = struct.unpack("<HHH", data[pos + 28:pos + 34])
    (loff,) = struct.unpack("<I", data[pos + 42:pos + 46])
    return flags, method, crc, csize, usize, nlen, xlen, clen, loff


class _Deflated:
    """Big parts compressed lately, by (size, CRC), when the caller says they will be
    written again: a pack writes the same big part into many documents (a programme's
    schedule sheet, rendered once, see engine.memo), and deflating it is most of the cost of
    writing it. The bytes are compared whole before a hit is used; within ``budget`` bytes,
    the least recently used dropped first."""

    SMALLEST = 32 * 1024

    def __init__(self, budget: int = 16 * 1024 * 1024):
        self.budget, self.size = budget, 0
        self.parts: OrderedDict[tuple[int, int], tuple[bytes, _Raw]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, data: bytes, again: bool = False) -> _Raw:
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if len(data) < self.SMALLEST:
            return _compress(data, crc)
        key = (len(data), crc)
        with self.lock:
            hit = self.parts.get(key)
            if hit is not None and hit[0] == data:
                self.parts.move_to_end(key)
                return hit[1]
        raw = _compress(data, crc)
        if again and len(data) <= self.budget:
            with self.lock:
                if key not in self.parts:
                    self.parts[key] = (data, raw)
                    self.size += len(data)
                while self.size > self.budget:
                    _, (old, _) = self.parts.popitem(last=False)
                    self.size -= len(old)
        return raw


def _compress(data: bytes, crc: int) -> _Raw:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return _Raw(8, crc, comp.compress(data) + comp.flush(), len(data))


_deflate = _Deflated()


def _inflate(raw: _Raw) -> bytes:
    return raw.compressed if raw.method == 0 else zlib.decompress(raw.compressed, -15)


class ZipWriter:
    """A minimal deterministic zip writer (deflate, fixed timestamps)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.central: list[bytes] = []
        self.offset = 0

    def add(self, name: str, data: bytes) -> None:
        self.add_raw(name, _deflate(data))

    def add_raw(self, name: str, raw: _Raw) -> None:
        bname = name.encode("utf-8")
        flags = 0x800 if not bname.isascii() else 0
        header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, raw.method, _DOS_TIME,
                             _DOS_DATE, raw.crc, len(raw.compressed), raw.size, len(bname), 0)
        self.central.append(struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, raw.method, _DOS_TIME,
            _DOS_DATE, raw.crc, len(raw.compressed), raw.size, len(bname), 0, 0, 0, 0, 0,
            self.offset) + bname)
        self.chunks += [header, bname, raw.compressed]
        self.offset += len(header) + len(bname) + len(raw.compressed)

    def finish(self) -> bytes:
        cd = b"".join(self.central)
        end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(self.central),
                          len(self.central), len(cd), self.offset, 0)
        return b"".join(self.chunks) + cd + end


def write_zip(parts: dict[str, bytes], first: Iterable[str] = ()) -> bytes:
    """A deterministic package of new parts: ``[Content_Types].xml``, then ``first``, then the
    rest by name."""
    names = [_CT] + [n for n in first if n != _CT]
    names += sorted(n for n in parts if n not in names)
    writer = ZipWriter()
    for name in names:
        writer.add(name, parts[name])
    return writer.finish()


def resolve_target(source: str, target: str) -> str:
    """The part a relationship target names: relative to the source's folder, or
    package-absolute when it starts with '/' (as openpyxl writes them)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def part_names(names: Iterable[str], folder: str, stem: str, ext: str) -> str:
    """The first free part name ``folder/stemN.ext``."""
    taken = set(names)
    n = 1
    while f"{folder}/{stem}{n}.{ext}" in taken:
        n += 1
    return f"{folder}/{stem}{n}.{ext}"
