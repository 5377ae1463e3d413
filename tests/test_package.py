"""The OOXML package layer: editable copies of a template, sealed (finished) parts."""
from __future__ import annotations

import copy
import io
import zipfile

from lxml import etree

from m3docs.ooxml.package import Template
from m3docs.ooxml.xml import qn
from m3docs.templates import own_templates_dir

SLIDE = "ppt/slides/slide1.xml"


def deck() -> Template:
    return Template(own_templates_dir() / "status.pptx")


def edited(seal: bool) -> bytes:
    template = deck()
    pkg = template.new()
    root = copy.deepcopy(template.xml(SLIDE))
    for t in root.iter(qn("a:t")):
        t.text = "Sealed text é"
    pkg.put("ppt/slides/slide99.xml", root, "application/vnd.openxmlformats-officedocument."
            "presentationml.slide+xml")
    if seal:
        pkg.seal("ppt/slides/slide99.xml")
        assert "ppt/slides/slide99.xml" not in pkg._xml   # only compressed bytes are held
    return pkg.to_bytes()


def test_a_sealed_part_writes_the_same_bytes():
    assert edited(seal=True) == edited(seal=False)


def test_a_sealed_part_reads_back_and_can_be_edited_again():
    pkg = deck().new()
    pkg.xml(SLIDE).find(".//" + qn("a:t")).text = "first"
    pkg.seal(SLIDE)
    assert SLIDE in pkg and SLIDE in pkg.changed()
    assert b"first" in pkg.read(SLIDE)
    pkg.xml(SLIDE).find(".//" + qn("a:t")).text = "second"   # unsealed again by editing
    with zipfile.ZipFile(io.BytesIO(pkg.to_bytes())) as zf:
        first = etree.fromstring(zf.read(SLIDE)).find(".//" + qn("a:t"))
    assert first.text == "second"


def test_removing_a_sealed_part_drops_it():
    pkg = deck().new()
    pkg.xml(SLIDE)
    pkg.seal(SLIDE)
    pkg.remove(SLIDE)
    assert SLIDE not in pkg.names
    with zipfile.ZipFile(io.BytesIO(pkg.to_bytes())) as zf:
        assert SLIDE not in zf.namelist()
