"""Classes 1 and 8 end to end: the CLI on bad input, full and read-only disks, SIGKILL."""
from __future__ import annotations

import builtins
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m3docs import cli, pack

from .conftest import ENGAGEMENT, KEY_TASK, ONE_LINE, ROOT, page_text

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "m3docs", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str, int]]:
    """name -> (extra CLI args, file that must be named, its line)."""
    pb = tmp_path / "pb" / "_pages" / "m3" / "keyTask"
    pb.mkdir(parents=True)
    eng = tmp_path / "engagement.yaml"
    eng.write_text(ENGAGEMENT.replace('"1.2"', '"3.14"'))
    cases = {}
    page = pb / "1.2.md"
    cases["page-duplicate-key"] = (KEY_TASK + "name: Again\n", 13)
    cases["page-syntax"] = (KEY_TASK.replace("Draft the things.", "a: b: c"), 6)
    cases["page-bomb"] = (KEY_TASK + "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"b{i}: &b{i} [{', '.join(['*a' if i == 0 else f'*b{i - 1}'] * 10)}]\n"
        for i in range(6)), 18)
    out = {}
    for name, (fm, line) in cases.items():
        out[name] = (page_text(fm), line)
    return {"page": page, "eng": eng, "cases": out}


@pytest.mark.parametrize("case", ["page-duplicate-key", "page-syntax", "page-bomb"])
def test_cli_bad_playbook_one_line_exit_1_nothing_written(tmp_path, case):
    info = bad_inputs(tmp_path)
    text, line = info["cases"][case]
    info["page"].write_text(text)
    out = tmp_path / "out"
    res = run_cli("pack", "--playbook", str(tmp_path / "pb"), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and ONE_LINE.match(lines[0]), res.stderr
    assert lines[0].startswith(f"{info['page']}:{line}:")
    assert "Traceback" not in res.stderr + res.stdout
    assert not out.exists()


@pytest.mark.parametrize("mutation,line", [
    (lambda t: t.replace("status: G", "status: Z"), 11),
    (lambda t: t + "agncy: typo\n", 13),
    (lambda t: t.replace("start: 2026-10-01", "start: 2026-02-30"), 12),
    (lambda t: t.replace("Ann Customer", "Ann \udcff"), 6),
], ids=["status-code", "unknown-key", "impossible-date", "non-utf8"])
def test_cli_bad_engagement_one_line_exit_1_nothing_written(tmp_path, mutation, line):
    eng = tmp_path / "engagement.yaml"
    eng.write_bytes(mutation(ENGAGEMENT.replace('"1.2"', '"3.14"')).encode("utf-8", "surrogateescape"))
    out = tmp_path / "out"
    res = run_cli("pack", "--engagement", str(eng), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{eng}:{line}:"), res.stderr
    assert ONE_LINE.match(lines[0]) and "Traceback" not in res.stderr
    assert not out.exists()


def test_cli_validate_reports_every_page(tmp_path):
    info = bad_inputs(tmp_path)
    info["page"].write_text(info["cases"]["page-syntax"][0])
    (info["page"].parent / "1.3.md").write_text("no front matter")
    res = run_cli("validate", str(tmp_path / "pb"), cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all(ONE_LINE.match(ln) for ln in lines), res.stderr


# -- full disk and read-only folder -----------------------------------------------------------

def _previous_pack(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    assert cli.main(["pack", "--out", str(out), "--quiet"]) == 0
    return out, {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _changed_engagement(tmp_path: Path) -> Path:
    eng = tmp_path / "engagement-v2.yaml"
    eng.write_text(ENGAGEMENT.replace('"1.2"', '"3.14"').replace("Department of Tests",
                                                                  "Department of Change"))
    return eng


def _fail_writes_under(monkeypatch, out: Path, code: int, after_bytes: int | None) -> None:
    """Writes into ``out`` fail with ``code`` (after ``after_bytes`` if given: a disk filling up)."""
    real_open = builtins.open

    class Filling:
        def __init__(self, fh):
            self.fh, self.n = fh, 0

        def write(self, data):
            if after_bytes is not None and self.n + len(data) > after_bytes:
                self.fh.write(data[: max(0, after_bytes - self.n)])
                raise OSError(code, os.strerror(code))
            self.n += len(data)
            return self.fh.write(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fake_open(file, mode="r", *a, **kw):
        inside = str(out) in str(Path(str(file)).absolute()) if isinstance(file, (str, Path)) \
            else False
        if inside and any(m in mode for m in "wax+"):
            if after_bytes is None:
                raise OSError(code, os.strerror(code), str(file))
            return Filling(real_open(file, mode, *a, **kw))
        return real_open(file, mode, *a, **kw)
    monkeypatch.setattr(builtins, "open", fake_open)


@pytest.mark.parametrize("code,after", [(errno.ENOSPC, 1000), (errno.ENOSPC, None),
                                        (errno.EROFS, None), (errno.EACCES, None)],
                         ids=["disk-fills-mid-file", "disk-full", "read-only-fs", "no-permission"])
def test_unwritable_output_clear_error_files_intact(tmp_path, monkeypatch, capsys, code, after):
    out, before = _previous_pack(tmp_path)
    eng = _changed_engagement(tmp_path)
    capsys.readouterr()
    _fail_writes_under(monkeypatch, out, code, after)
    rc = cli.main(["pack", "--engagement", str(eng), "--out", str(out), "--quiet"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and os.strerror(code) in lines[0] and str(out) in lines[0], err
    assert "Traceback" not in err
    now = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert now == before  # old files intact, no temporaries left


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder_for_real(tmp_path, capsys):
    out, before = _previous_pack(tmp_path)
    eng = _changed_engagement(tmp_path)
    for p in [out, *[q for q in out.rglob("*") if q.is_dir()]]:
        p.chmod(0o555)
    try:
        rc = cli.main(["pack", "--engagement", str(eng), "--out", str(out), "--quiet"])
    finally:
        for p in [out, *[q for q in out.rglob("*") if q.is_dir()]]:
            p.chmod(0o755)
    assert rc == 1
    now = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert now == before


# -- SIGKILL at random moments --------------------------------------------------------------

def _pack_args(eng: Path, out: Path) -> list[str]:
    playbook = CORPUS_PB if CORPUS_PB.is_dir() else None
    args = [sys.executable, "-m", "m3docs", "pack", "--engagement", str(eng), "--out", str(out),
            "--quiet"]
    return args + (["--playbook", str(playbook)] if playbook else [])


CORPUS_PB = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "gsa-m3"


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and not p.name.startswith(pack._TMP_PREFIX)}


def _engagement(tmp_path: Path, name: str, agency: str) -> Path:
    eng = tmp_path / f"{name}.yaml"
    eng.write_text(ENGAGEMENT.replace('  "1.2":\n', '  "0.1":\n').replace(
        "Department of Tests", agency) if CORPUS_PB.is_dir() else
        ENGAGEMENT.replace('"1.2"', '"3.14"').replace("Department of Tests", agency))
    return eng


def _frozen_code(tmp_path: Path) -> dict[str, str]:
    """A private copy of the package and its templates, so edits to the tree mid-test
    (others work in it) cannot make two runs of the same input differ."""
    frozen = tmp_path / "code"
    shutil.copytree(ROOT / "m3docs", frozen / "m3docs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", frozen / "templates")
    return {**os.environ, "PYTHONPATH": str(frozen)}


def test_sigkill_at_random_moments_leaves_old_or_new_files(tmp_path):
    env = _frozen_code(tmp_path)
    old_eng = _engagement(tmp_path, "old", "Department of Before")
    new_eng = _engagement(tmp_path, "new", "Department of After")
    ref_old, ref_new = tmp_path / "ref-old", tmp_path / "ref-new"
    run = dict(env=env, cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(_pack_args(old_eng, ref_old), **run)
    subprocess.run(_pack_args(new_eng, ref_new), **run)
    timing = tmp_path / "timing"
    shutil.copytree(ref_old, timing)
    start = time.perf_counter()
    subprocess.run(_pack_args(new_eng, timing), **run)
    duration = time.perf_counter() - start
    old, new = _files(ref_old), _files(ref_new)
    assert old.keys() == new.keys() and any(old[k] != new[k] for k in old)

    rng = random.Random(8)
    kills = attempt = 0
    while kills < 22 and attempt < 40:
        attempt += 1
        out = tmp_path / f"run{attempt}"
        shutil.copytree(ref_old, out)  # the previous complete pack
        proc = subprocess.Popen(_pack_args(new_eng, out), env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, 0.9 * duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        for rel, data in _files(out).items():
            assert rel in old, f"unexpected file {rel}"
            assert data in (old[rel], new[rel]), f"{rel} is neither the old nor the new version"
        done = subprocess.run(_pack_args(new_eng, out), env=env, cwd=tmp_path,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert _files(out) == new
        assert not list(out.rglob(pack._TMP_PREFIX + "*"))
        shutil.rmtree(out)
    assert kills >= 20, f"only {kills} of {attempt} runs were killed mid-way"
