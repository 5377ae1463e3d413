"""Safe XML parsing and namespace helpers for Office Open XML parts."""
from __future__ import annotations

import re

from lxml import etree

NS: dict[str, str] = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "x14": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
    "xm": "http://schemas.microsoft.com/office/excel/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
}
RT = {
    "hyperlink": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink",
    "slide": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide",
    "slideLayout": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout",
    "notesSlide": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide",
    "worksheet": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet",
    "table": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table",
    "drawing": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing",
    "chart": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart",
    "comments": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments",
    "vmlDrawing": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing",
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=False)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class UnsafeXML(ValueError):
    """A part with a DTD or entity declarations, which m3docs never processes."""


def qn(tag: str) -> str:
    """'w:p' -> '{namespace}p'."""
    prefix, _, local = tag.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def parse_xml(data: bytes) -> etree._Element:
    """Parse a part; refuse DTDs so no entity is ever expanded or fetched."""
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data:
        raise UnsafeXML("XML with a DTD or entity declaration is refused")
    root = etree.fromstring(data, _PARSER)
    if root.getroottree().docinfo.doctype:
        raise UnsafeXML("XML with a DTD is refused")
    return root


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def clean_text(text: str) -> tuple[str, bool]:
    """Text with XML-illegal characters removed, and whether any were."""
    cleaned = _ILLEGAL.sub("", text)
    return cleaned, cleaned != text
