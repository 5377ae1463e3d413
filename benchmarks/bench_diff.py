"""Diff benchmark: ``m3docs diff`` between two full-playbook packs.

    python benchmarks/bench_diff.py [--playbook DIR] [--official DIR] [--rounds 5]

Two packs of one playbook (the synthetic one of benchmarks/synth.py at N = 67, the
public playbook's size, unless --playbook names another) from two engagements: the
second has another program name (so every document changes), another status for
one key task, and one key task fewer in scope. Timed, each as the median of
--rounds runs:

- api:      ``diff_packs(old, new)`` in this process (modules imported beforehand);
- cli:      ``python -m m3docs diff --stat OLD NEW`` as CI runs it (a fresh
            interpreter: imports included);
- same:     ``diff_packs(old, copy of old)``: identical packs (hashing only).

Target: the cli time under 5 seconds.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import m3docs  # noqa: E402
from synth import write_playbook  # noqa: E402

TARGET_SECONDS = 5.0
ENGAGEMENT = """agency: U.S. Department of Examples
program: {program}
as_of: 2026-11-24
leads: {{customer: Jordan Avery, provider: Riley Chen}}
scope: {{key_tasks: [{scope}]}}
status:
  "{first}": {{percent_complete: 40, status: {status}}}
"""


def make_pack(work: Path, book, name: str, program: str, status: str, scope: list[str],
              templates: list[str]) -> Path:
    path = work / f"{name}.yaml"
    path.write_text(ENGAGEMENT.format(program=program, status=status, first=scope[0],
                                      scope=", ".join(f'"{k}"' for k in scope)), "utf-8")
    m3docs.build_pack(book, m3docs.load_engagement(path, book), work / name,
                      templates=templates)
    return work / name


def timed(action, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--playbook", help="playbook to pack (default: synthetic, N = 67)")
    ap.add_argument("--official", action="append", default=[], metavar="DIR",
                    help="official templates folder (may repeat)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="m3docs-bench-diff-") as tmp:
        work = Path(tmp)
        source = args.playbook or write_playbook(work / "playbook", 67)
        book = m3docs.load_playbook(source)
        ids = [kt.id for kt in book.key_tasks]
        dropped = ids[len(ids) // 2]
        old = make_pack(work, book, "old", "Financial Management Modernization", "G", ids,
                        args.official)
        new = make_pack(work, book, "new", "Human Resources Modernization", "Y",
                        [i for i in ids if i != dropped], args.official)
        same = work / "same"
        shutil.copytree(old, same)
        api, result = timed(lambda: m3docs.diff_packs(old, new), args.rounds)
        cli, _ = timed(lambda: subprocess.run(
            [sys.executable, "-m", "m3docs", "diff", "--stat", str(old), str(new)],
            cwd=HERE.parent, capture_output=True, check=False), args.rounds)
        identical, _ = timed(lambda: m3docs.diff_packs(old, same), args.rounds)
        size = sum(p.stat().st_size for p in old.rglob("*") if p.is_file()) / 1e6
        count = len(json.loads((old / "manifest.json").read_text("utf-8"))["documents"]) + 1
    lines = sum(len(d.changes) for d in result.changed)
    print(f"machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}")
    print(f"playbook: {args.playbook or 'synthetic N = 67'} ({len(ids)} key tasks, "
          f"{dropped} dropped); templates: {'official' if args.official else 'bundled'}")
    print(f"packs: {count} documents in the old pack (tracker included) "
          f"({size:.1f} MB); {len(result.changed)} changed ({lines} lines), "
          f"{len(result.added)} added, {len(result.removed)} removed")
    print(f"api   diff_packs(old, new)         {api:6.2f} s (median of {args.rounds})")
    print(f"cli   m3docs diff --stat old new   {cli:6.2f} s")
    print(f"same  diff_packs(old, copy of old) {identical:6.2f} s")
    ok = cli < TARGET_SECONDS
    print(f"target: cli under {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
