"""The command line: a thin layer over the public API."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from . import __version__
from .engagement import example_engagement, load_engagement
from .errors import M3DocsError
from .playbook.export import playbook_dict
from .playbook.loader import check_playbook, load_playbook
from .playbook.model import Playbook
from .playbook.richtext import DEFAULT_BASE_URL


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="m3docs", description="Turn the M3 playbook into prefilled "
                                "Word, Excel and PowerPoint deliverables.")
    p.add_argument("--version", action="version", version=f"m3docs {__version__}")
    p.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL", type=_web_address,
                   help=f"resolve the pages' relative links against URL (default {DEFAULT_BASE_URL})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    v = sub.add_parser("validate", help="check every playbook page and report every problem")
    v.add_argument("path", nargs="?", help="playbook repository, m3 folder, folder or page "
                                            "(default: the bundled example)")
    ls = sub.add_parser("list", help="list the key tasks of a playbook")
    ls.add_argument("path", nargs="?", help="playbook (default: the bundled example)")
    ls.add_argument("--json", action="store_true", help="print the full model as JSON")
    pk = sub.add_parser("pack", help="write the starter deliverable pack of an engagement")
    _pack_args(pk)
    pk.add_argument("--out", required=True, help="output folder")
    pk.add_argument("--phase", type=int, action="append", default=[], metavar="N",
                    help="phase in scope (may repeat)")
    pk.add_argument("--key-task", action="append", default=[], metavar="ID",
                    help="key task in scope, e.g. 3.14 (may repeat)")
    pk.add_argument("--preview", action="store_true",
                    help="also write index.html, the pack's index page (see m3docs preview)")
    bt = sub.add_parser("batch", help="write one pack per engagement file")
    bt.add_argument("engagements", nargs="+", metavar="ENGAGEMENT.yaml")
    _pack_args(bt, engagement=False)
    bt.add_argument("--out", required=True, help="output folder (one sub-folder per engagement)")
    _review_parsers(sub)
    return p


def _pack_args(p: argparse.ArgumentParser, engagement: bool = True) -> None:
    p.add_argument("--playbook", help="playbook (default: the bundled example)")
    if engagement:
        p.add_argument("--engagement", help="engagement YAML file (default: a built-in demo "
                                            "engagement, said so on stderr)")
    p.add_argument("--templates", action="append", default=[], metavar="DIR",
                   help="folder of official templates (may repeat)")
    p.add_argument("--jobs", type=_count, default=1, metavar="N",
                   help="render in N processes (default 1)")
    p.add_argument("--force", action="store_true", help="overwrite documents edited since "
                                                         "m3docs wrote them")
    p.add_argument("--pdf", action="store_true", help="also write a PDF of each document "
                                                       "(needs LibreOffice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _web_address(text: str) -> str:
    """An http(s) address with a host, else a usage error (links would silently vanish)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) address such as "
                                         f"{DEFAULT_BASE_URL}")
    return text.strip()


def _count(text: str) -> int:
    """A whole number of 1 or more, else a usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def cmd_validate(args: argparse.Namespace) -> int:
    book, diags = check_playbook(args.path, args.base_url)
    for d in sorted(diags, key=lambda d: (d.path, d.line, d.col)):
        print(d, file=sys.stderr)
    if book is None:
        return 1
    print(f"ok: {len(book.key_tasks)} key tasks in {len(book.phases)} phases")
    return 0


def _playbook(path: str | None, base_url: str | None) -> Playbook:
    """Load the playbook; its warnings (file, line, what was read how) go to stderr."""
    book = load_playbook(path, base_url)
    for w in book.warnings:
        print(w, file=sys.stderr)
    return book


def cmd_list(args: argparse.Namespace) -> int:
    book = _playbook(args.path, args.base_url)
    if args.json:
        json.dump(playbook_dict(book), sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    rows = [("ID", "Key task", "Workstream", "Parties", "Acts")]
    rows += [(kt.id, kt.name, kt.workstream or "", ", ".join(p.value for p in kt.parties),
              str(len(kt.activities))) for kt in book.key_tasks]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(5)]
    for r in rows:
        print("  ".join(c[:w].ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def _progress(quiet: bool) -> Callable[[int, int, str], None] | None:
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int, name: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        label = Path(name).name
        label = label if len(label) <= 40 else label[:37] + "..."
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def _finish(report, args: argparse.Namespace) -> None:
    for line in report.fallbacks + report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    for rel in report.kept:
        print(f"kept: {rel} (not as m3docs last wrote it: edited, or put there by hand; "
              f"--force to replace)", file=sys.stderr)
    if not args.quiet:
        print(report.summary())


def cmd_pack(args: argparse.Namespace) -> int:
    from .pack import build_pack
    if args.pdf:  # before any work, so a missing LibreOffice costs nothing
        from .pdf import require_soffice
        require_soffice()
    book = _playbook(args.playbook, args.base_url)
    if args.engagement:
        eng = load_engagement(args.engagement, book)
    else:
        eng = example_engagement()
        print(f"note: no --engagement: packing the built-in demo engagement ({eng.agency}, "
              f"{eng.program})", file=sys.stderr)
    report = build_pack(book, eng, args.out, templates=args.templates, key_tasks=args.key_task,
                        phases=args.phase, jobs=args.jobs, force=args.force,
                        progress=_progress(args.quiet))
    if args.pdf:
        from .pdf import convert_pack
        start = time.perf_counter()
        convert_pack(Path(args.out), report)
        report.seconds += time.perf_counter() - start
    _finish(report, args)
    if args.preview:
        _index(args.out, None, args.quiet)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import generate_packs
    book = _playbook(args.playbook, args.base_url)
    engagements = [load_engagement(p, book) for p in args.engagements]
    reports = generate_packs(engagements, args.out, playbook=book, templates=args.templates,
                             jobs=args.jobs, force=args.force, pdf=args.pdf)
    for report in reports:
        _finish(report, args)
    return 0


COMMANDS = {"validate": cmd_validate, "list": cmd_list, "pack": cmd_pack, "batch": cmd_batch}


# -- reviewing a pack: diff and the index page ------------------------------------------

def _review_parsers(sub) -> None:
    df = sub.add_parser("diff", help="what changed between two packs or two documents "
                                     "(exit 0 same, 1 different, 2 trouble)")
    df.add_argument("old", metavar="OLD", help="earlier pack folder or document")
    df.add_argument("new", metavar="NEW", help="later pack folder or document")
    how = df.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="print the differences as JSON")
    how.add_argument("--stat", action="store_true", help="print a count per document")
    pv = sub.add_parser("preview", help="write index.html, the pack's index page with a "
                                        "picture of every document's first page")
    pv.add_argument("pack", metavar="PACK", help="pack folder")
    pv.add_argument("--since", metavar="OLD", help="mark the documents changed since pack OLD")
    pv.add_argument("--quiet", action="store_true", help="no summary")


def cmd_diff(args: argparse.Namespace) -> int:
    from . import diff_packs
    try:
        result = diff_packs(args.old, args.new)
    except M3DocsError as exc:  # trouble is 2, as diff(1) has it; 1 means "they differ"
        for d in exc.diagnostics:
            print(d, file=sys.stderr)
        return 2
    if args.json:
        print(result.to_json())
    else:
        for line in (result.stat() if args.stat else result.unified()):
            print(line)
    return 1 if result else 0


def cmd_preview(args: argparse.Namespace) -> int:
    _index(args.pack, args.since, args.quiet)
    return 0


def _index(pack: str, since: str | None, quiet: bool) -> None:
    from . import write_index
    report = write_index(pack, since=since)
    if report.note:
        print(f"note: {report.note}", file=sys.stderr)
    if not quiet:
        print(report.summary())


COMMANDS.update(diff=cmd_diff, preview=cmd_preview)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except M3DocsError as exc:
        for d in exc.diagnostics:
            print(d, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("m3docs: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for the user; M3DOCS_DEBUG=1 shows it
        if os.environ.get("M3DOCS_DEBUG"):
            raise
        print(f"m3docs: internal error: {type(exc).__name__}: {exc} "
              "(set M3DOCS_DEBUG=1 for details)", file=sys.stderr)
        return 3
