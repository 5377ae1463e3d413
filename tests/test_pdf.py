"""PDF output plumbing, checked with a stand-in for soffice (runs without LibreOffice).

tests/test_libreoffice.py does the same with the real office suite.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from m3docs import M3DocsError, build_pack, load_playbook
from m3docs.cli import main
from m3docs.engagement import example_engagement
from m3docs.pack import MANIFEST
from m3docs.pdf import convert, convert_pack

FAKE = """#!{python}
import json, os, sys, time
from pathlib import Path
mode = {mode!r}
args = sys.argv[1:]
with open({log!r}, "a") as fh:
    fh.write(json.dumps(args) + "\\n")
if mode == "fail":
    sys.stderr.write("Error: something broke\\n")
    sys.exit(81)
if mode == "slow":
    time.sleep(30)
out = Path(args[args.index("--outdir") + 1])
out.mkdir(parents=True, exist_ok=True)
for src in args[args.index("--outdir") + 2:]:
    if mode == "skip-one" and src.endswith(".pptx"):
        continue
    body = b"" if mode == "empty" else b"%PDF-1.7\\n" + Path(src).read_bytes()[:200] + b"\\n%%EOF"
    (out / (Path(src).stem + ".pdf")).write_bytes(body)
"""


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    """Install a fake soffice in a given mode; returns the list of its invocations."""
    log = tmp_path / "soffice.log"

    def install(mode: str = "ok") -> Path:
        script = tmp_path / f"soffice-{mode}"
        script.write_text(FAKE.format(python=sys.executable, mode=mode, log=str(log)))
        script.chmod(0o755)
        monkeypatch.setenv("M3DOCS_SOFFICE", str(script))
        return log
    return install


@pytest.fixture
def pack(tmp_path):
    out = tmp_path / "pack"
    report = build_pack(load_playbook(), example_engagement(), out)
    return out, report


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_one_office_process_for_the_whole_pack(fake_soffice, pack):
    log = fake_soffice("ok")
    out, report = pack
    pdfs = convert_pack(out, report)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    documents = [d["path"] for d in manifest["documents"]] + [manifest["tracker"]["path"]]
    assert len(calls(log)) == 1
    assert len(pdfs) == len(documents) == len(report.pdfs)
    for rel in documents:
        pdf = (out / rel).with_suffix(".pdf")
        assert pdf.read_bytes().startswith(b"%PDF-")
    assert all(d["pdf"] == str(Path(d["path"]).with_suffix(".pdf").as_posix())
               for d in manifest["documents"])
    assert manifest["tracker"]["pdf"].endswith(".pdf")


def test_private_profile_and_headless(fake_soffice, pack):
    log = fake_soffice("ok")
    out, report = pack
    convert_pack(out, report)
    convert_pack(out, report)
    first, second = calls(log)
    profiles = [next(a for a in c if a.startswith("-env:UserInstallation=file://"))
                for c in (first, second)]
    assert profiles[0] != profiles[1], "each run must use its own fresh profile"
    assert "--headless" in first and "--convert-to" in first
    assert not Path(profiles[0].split("file://", 1)[1]).exists(), "profile is cleaned up"


def test_missing_libreoffice_is_one_clear_line(monkeypatch, pack):
    monkeypatch.setenv("M3DOCS_SOFFICE", "/nonexistent/soffice")
    out, report = pack
    with pytest.raises(M3DocsError) as err:
        convert_pack(out, report)
    message = str(err.value)
    assert message.startswith("m3docs: error: PDF output needs LibreOffice")
    assert "M3DOCS_SOFFICE names /nonexistent/soffice" in message and "\n" not in message


def test_no_libreoffice_anywhere_says_not_installed(monkeypatch, pack):
    monkeypatch.delenv("M3DOCS_SOFFICE", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("m3docs.pdf._MAC_APP", "/nonexistent/soffice")
    out, report = pack
    with pytest.raises(M3DocsError, match="LibreOffice, which is not installed"):
        convert_pack(out, report)


@pytest.mark.parametrize("mode, words", [("fail", "exited with status 81"),
                                         ("empty", "could not convert"),
                                         ("skip-one", "could not convert")])
def test_conversion_failures_are_errors(fake_soffice, pack, mode, words):
    fake_soffice(mode)
    out, report = pack
    with pytest.raises(M3DocsError) as err:
        convert_pack(out, report)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_timeout(fake_soffice, pack):
    fake_soffice("slow")
    out, report = pack
    with pytest.raises(M3DocsError, match="did not finish"):
        convert_pack(out, report, timeout=1)


def test_not_an_office_file_is_refused(fake_soffice, tmp_path):
    log = fake_soffice("ok")
    bad = tmp_path / "bad.docx"
    bad.write_text("not a zip")
    with pytest.raises(M3DocsError, match="not an Office file"):
        convert([bad])
    assert not calls(log)


def test_same_names_in_different_folders(fake_soffice, tmp_path):
    fake_soffice("ok")
    files = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        f = tmp_path / folder / "Status Reports.pptx"
        f.write_bytes(b"PK\x03\x04" + folder.encode() * 100)
        files.append(f)
    pdfs = convert(files)
    assert [p.parent.name for p in pdfs] == ["a", "b"]
    assert pdfs[0].read_bytes() != pdfs[1].read_bytes()


def test_cli_pack_pdf(fake_soffice, tmp_path):
    log = fake_soffice("ok")
    out = tmp_path / "out"
    assert main(["pack", "--out", str(out), "--pdf", "--quiet"]) == 0
    documents = [p for p in out.rglob("*") if p.suffix in (".docx", ".xlsx", ".pptx")]
    assert documents and all(p.with_suffix(".pdf").is_file() for p in documents)
    assert len(calls(log)) == 1


def test_cli_pack_pdf_without_libreoffice(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("M3DOCS_SOFFICE", "/nonexistent/soffice")
    assert main(["pack", "--out", str(tmp_path / "out"), "--pdf", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "LibreOffice" in err[0]
    assert not (tmp_path / "out").exists(), "checked before any document is written"
    assert main(["batch", str(Path(__file__).resolve().parent.parent / "examples" /
                              "engagement.yaml"), "--out", str(tmp_path / "packs"), "--pdf"]) == 1
    assert not (tmp_path / "packs").exists()


def test_cli_batch_pdf_uses_one_process(fake_soffice, tmp_path):
    log = fake_soffice("ok")
    repo = Path(__file__).resolve().parent.parent
    source = (repo / "examples" / "engagement.yaml").read_text(encoding="utf-8")
    files = []
    for i in range(2):
        path = tmp_path / f"eng{i}.yaml"
        path.write_text(source.replace("U.S. Department of Examples", f"Agency {i}"))
        files.append(str(path))
    out = tmp_path / "packs"
    assert main(["batch", *files, "--out", str(out), "--pdf", "--quiet", "--jobs", "1"]) == 0
    assert len(calls(log)) == 1
    assert len(list(out.rglob("*.pdf"))) == len([p for p in out.rglob("*")
                                                   if p.suffix in (".docx", ".xlsx", ".pptx")])
