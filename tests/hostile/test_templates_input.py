"""Class 6: broken and hostile template files (the package reader and the XML parser)."""
from __future__ import annotations

import io
import os
import socket
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from m3docs.ooxml import package as pkg
from m3docs.ooxml.package import PackageError, Template
from m3docs.ooxml.xml import UnsafeXML, parse_xml

from .conftest import peak_bytes

DOCX_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
           'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
           '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
           'officedocument.wordprocessingml.document.main+xml"/></Types>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
DOCUMENT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>')


def docx_bytes(document: str | bytes = DOCUMENT, content_types: str = DOCX_CT) -> bytes:
    """A minimal valid Word package, built with zipfile."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("word/document.xml", document)
    return buf.getvalue()


def raw_zip(entries: list[tuple[str, int, int, bytes, int, int]]) -> bytes:
    """A zip from raw entries (name, method, crc, stored bytes, claimed size, flags)."""
    out, central = b"", b""
    for name, method, crc, data, usize, flags in entries:
        bname = name.encode()
        head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 33, crc,
                           len(data), usize, len(bname), 0)
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, method, 0, 33,
                               crc, len(data), usize, len(bname), 0, 0, 0, 0, 0, len(out)) + bname
        out += head + bname + data
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(out), 0)
    return out + central + end


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """Raw-deflated ``size`` zero bytes and their CRC, made in 1 MB chunks (low memory)."""
    comp, crc, out = zlib.compressobj(9, zlib.DEFLATED, -15), 0, []
    chunk = bytes(1024 * 1024)
    left = size
    while left:
        piece = chunk[:min(left, len(chunk))]
        crc = zlib.crc32(piece, crc)
        out.append(comp.compress(piece))
        left -= len(piece)
    out.append(comp.flush())
    return b"".join(out), crc & 0xFFFFFFFF


def entry(name: str, text: str | bytes) -> tuple[str, int, int, bytes, int, int]:
    data = text.encode() if isinstance(text, str) else text
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = c.compress(data) + c.flush()
    return (name, 8, zlib.crc32(data) & 0xFFFFFFFF, packed, len(data), 0)


def base_entries() -> list:
    return [entry("[Content_Types].xml", DOCX_CT), entry("_rels/.rels", ROOT_RELS)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, *words: str) -> PackageError:
    with pytest.raises(PackageError) as info:
        Template(path).xml("word/document.xml")
    msg = str(info.value)
    assert msg.startswith(str(path) + ":") and "\n" not in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    return info.value


def test_valid_minimal_package_opens(tmp_path):
    t = Template(write(tmp_path, "ok.docx", docx_bytes()))
    assert t.xml("word/document.xml").findtext(".//{*}t") == "Hello"


def test_not_a_zip(tmp_path):
    refused(write(tmp_path, "notes.docx", b"Meeting notes, not a document\n"), "not a zip")


def test_empty_file(tmp_path):
    refused(write(tmp_path, "empty.docx", b""), "not a zip")


def test_truncated_zip_half(tmp_path):
    data = docx_bytes()
    refused(write(tmp_path, "half.docx", data[: len(data) // 2]), "truncated")


def test_truncated_zip_end_record_cut(tmp_path):
    data = docx_bytes()
    refused(write(tmp_path, "cut.docx", data[:-8]), "truncated")


def test_zip_with_part_data_cut_off(tmp_path):
    entries = base_entries() + [entry("word/document.xml", DOCUMENT * 50)]
    data = bytearray(raw_zip(entries))
    # Point the document's local header far past the end of the file.
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 20, 10_000_000)  # compressed size
    refused(write(tmp_path, "cutpart.docx", bytes(data)), "cut off")


def test_cfb_encrypted_office_file(tmp_path):
    cfb = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"EncryptedPackage" + bytes(2000)
    refused(write(tmp_path, "locked.docx", cfb), "encrypted")


def test_zip_entry_encryption_flag(tmp_path):
    name, method, crc, data, usize, _ = entry("word/document.xml", DOCUMENT)
    zipdata = raw_zip(base_entries() + [(name, method, crc, data, usize, 1)])
    refused(write(tmp_path, "zipcrypto.docx", zipdata), "encrypted")


def test_unsupported_compression_method(tmp_path):
    name, _, crc, data, usize, _ = entry("word/document.xml", DOCUMENT)
    zipdata = raw_zip(base_entries() + [(name, 14, crc, data, usize, 0)])  # LZMA
    refused(write(tmp_path, "lzma.docx", zipdata), "unsupported compression")


def test_zip_bomb_part_over_size_limit(tmp_path):
    size = pkg.MAX_PART_BYTES + 1024 * 1024
    packed, crc = deflated_zeros(size)
    path = write(tmp_path, "bomb.docx", raw_zip(base_entries() + [
        ("word/document.xml", 8, crc, packed, size, 0)]))
    peak = peak_bytes(lambda: refused(path, "inflates past the limit", "word/document.xml"))
    assert peak < 4 * len(packed) + 2 * 1024 * 1024  # never inflated


def test_zip_bomb_compression_ratio(tmp_path):
    size = 20 * 1024 * 1024  # under the part limit, but ~1000:1
    packed, crc = deflated_zeros(size)
    path = write(tmp_path, "ratio.docx", raw_zip(base_entries() + [
        ("word/document.xml", 8, crc, packed, size, 0)]))
    peak = peak_bytes(lambda: refused(path, "compression ratio"))
    assert peak < 4 * len(packed) + 2 * 1024 * 1024


def test_zip_bomb_lying_about_its_size(tmp_path):
    """The directory claims 2 KB; the data inflates to 30 MB: inflation stops at the claim."""
    packed, crc = deflated_zeros(30 * 1024 * 1024)
    path = write(tmp_path, "liar.docx", raw_zip(base_entries() + [
        ("word/document.xml", 8, crc, packed, 2048, 0)]))
    peak = peak_bytes(lambda: refused(path, "stated size"))
    assert peak < 2 * 1024 * 1024


def test_zip_bomb_total_over_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(pkg, "MAX_TOTAL_BYTES", 64 * 1024)
    parts = [entry(f"word/media/part{i}.bin", os.urandom(20 * 1024)) for i in range(4)]
    path = write(tmp_path, "many.docx", raw_zip(base_entries() + parts))
    refused(path, "total limit")


def test_too_many_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(pkg, "MAX_PARTS", 5)
    parts = [entry(f"word/p{i}.xml", "<a/>") for i in range(6)]
    refused(write(tmp_path, "parts.docx", raw_zip(base_entries() + parts)), "over the limit")


SECRET = "TOP-SECRET-VALUE-42"


def test_external_file_entity_not_resolved(tmp_path):
    secret = write(tmp_path, "secret.txt", SECRET.encode())
    doc = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "file://{secret}">]>'
           + DOCUMENT.split("?>", 1)[1].replace("Hello", "&x;"))
    path = write(tmp_path, "xxe.docx", docx_bytes(doc))
    err = refused(path, "DTD", "word/document.xml")
    assert SECRET not in str(err)


def test_billion_laughs_entity_refused(tmp_path):
    ents = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    doc = f'<?xml version="1.0"?><!DOCTYPE d [{ents}]><d>&i;</d>'
    peak = peak_bytes(lambda: refused(write(tmp_path, "laughs.docx", docx_bytes(doc)), "DTD"))
    assert peak < 2 * 1024 * 1024


def test_network_entity_never_fetched(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/evil.dtd"
        doc = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "{url}"> %p;]>'
               '<d>&e;</d>')
        refused(write(tmp_path, "net.docx", docx_bytes(doc)), "DTD")
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected


def test_entity_after_long_prefix_still_refused():
    doc = ('<?xml version="1.0"?>' + "<!-- " + "x" * 8000 + " -->"
           + '<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>')
    with pytest.raises(UnsafeXML):
        parse_xml(doc.encode())


def test_external_dtd_after_long_prefix_refused_and_not_fetched():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/x.dtd"
        doc = ('<?xml version="1.0"?>' + "<!-- " + "x" * 8000 + " -->"
               + f'<!DOCTYPE d SYSTEM "{url}"><d/>')
        with pytest.raises(UnsafeXML):
            parse_xml(doc.encode())
        with pytest.raises(BlockingIOError):
            server.accept()


def test_utf16_dtd_still_refused():
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY e "boom">]><d>&e;</d>'
    with pytest.raises(UnsafeXML):
        parse_xml(doc.encode("utf-16"))


def test_dtd_in_content_types_refused_at_open(tmp_path):
    ct = DOCX_CT.replace("<Types", '<!DOCTYPE Types [<!ENTITY x "y">]><Types', 1)
    path = write(tmp_path, "ct.docx", docx_bytes(content_types=ct))
    with pytest.raises(PackageError) as info:
        Template(path)
    assert "[Content_Types].xml" in str(info.value) and str(path) in str(info.value)


def test_malformed_xml_part(tmp_path):
    refused(write(tmp_path, "bad.docx", docx_bytes("<w:document><w:body>")), "not well-formed")


def test_missing_content_types(tmp_path):
    path = write(tmp_path, "noct.docx", raw_zip([entry("word/document.xml", DOCUMENT)]))
    refused(path, "[Content_Types].xml")


def _openpyxl_bytes() -> bytes:
    import openpyxl
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.save(buf)
    return buf.getvalue()


def _pptx_bytes() -> bytes:
    import pptx
    buf = io.BytesIO()
    pptx.Presentation().save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name,maker", [
    ("workbook.docx", _openpyxl_bytes),
    ("deck.xlsx", _pptx_bytes),
    ("document.pptx", docx_bytes),
], ids=["xlsx-as-docx", "pptx-as-xlsx", "docx-as-pptx"])
def test_wrong_format_for_extension(tmp_path, name, maker):
    path = write(tmp_path, name, maker())
    with pytest.raises(PackageError) as info:
        Template(path)
    assert str(info.value).startswith(f"{path}: not a {Path(name).suffix} file")


def test_right_formats_open(tmp_path):
    Template(write(tmp_path, "w.xlsx", _openpyxl_bytes()))
    Template(write(tmp_path, "d.pptx", _pptx_bytes()))
    Template(write(tmp_path, "d.docx", docx_bytes()))
