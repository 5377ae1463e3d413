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
from .errors import M3DocsError, error
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
    _input_args(v)
    ls = sub.add_parser("list", help="list the key tasks of a playbook")
    ls.add_argument("path", nargs="?", help="playbook (default: the bundled example)")
    ls.add_argument("--json", action="store_true", help="print the full model as JSON")
    pk = sub.add_parser("pack", help="write the starter deliverable pack of an engagement")
    _pack_args(pk)
    pk.add_argument("--out", required=True, help="output folder")
    pk.add_argument("--phase", type=_phase, action="append", default=[], metavar="N",
                    help="phase in scope (may repeat); 'all' for every phase")
    pk.add_argument("--key-task", action="append", default=[], metavar="ID",
                    help="key task in scope, e.g. 3.14 (may repeat)")
    pk.add_argument("--schedule", metavar="FILE",
                    help="the team's schedule (Master Schedule .xlsx/.xlsm or MS Project XML): "
                         "status activity by activity (overrides the engagement's schedule:)")
    pk.add_argument("--preview", action="store_true",
                    help="also write index.html, the pack's index page (see m3docs preview)")
    bt = sub.add_parser("batch", help="write one pack per engagement file")
    bt.add_argument("engagements", nargs="+", metavar="ENGAGEMENT.yaml")
    _pack_args(bt, engagement=False)
    bt.add_argument("--out", required=True, help="output folder (one sub-folder per engagement)")
    _context_parser(sub)
    _template_parsers(sub)
    _review_parsers(sub)
    _tag_parser(sub)
    return p


ALL_PHASES = "all"


def _phase(text: str) -> int | str:
    """A --phase value: a phase number, or 'all' (every phase of the playbook)."""
    if text.strip().lower() == ALL_PHASES:
        return ALL_PHASES
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a phase number or 'all': {text!r}")


def _phases(asked: list[int | str], book: Playbook) -> list[int]:
    """The phases in scope: 'all' stands for every phase with key tasks (the engagement's
    scope then does not apply)."""
    if ALL_PHASES in asked:
        return sorted({kt.phase for kt in book.key_tasks})
    return [n for n in asked if isinstance(n, int)]


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
    if args.engagement or args.schedule:
        return _validate_inputs(args, book)
    return 0


# -- the engagement and the schedule, checked on their own (validate --engagement) ---------
def _input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engagement", metavar="FILE", help="also check an engagement file "
                                                        "against the playbook")
    p.add_argument("--schedule", metavar="FILE", help="also check the team's schedule "
                                                      "(.xlsx/.xlsm or MS Project XML)")


def _validate_inputs(args: argparse.Namespace, book: Playbook) -> int:
    """Every problem of the engagement and of the schedule, in one run (exit 1 on errors)."""
    from .schedule import read_schedule
    if not args.engagement:
        rows, diags = read_schedule(args.schedule)
        for d in diags:
            print(d, file=sys.stderr)
        if any(d.is_error for d in diags):
            return 1
        print(f"ok: schedule {args.schedule}: {len(rows)} task rows")
        return 0
    eng = _engagement(args.engagement, book, args.schedule)
    print(f"ok: engagement {args.engagement}")
    if eng.schedule is not None:
        print(f"ok: schedule {eng.schedule.source}: {len(eng.schedule.activities)} activities "
              f"of {len(eng.schedule.tasks)} key tasks matched")
    return 0


def _engagement(path: str, book: Playbook, schedule: str | None = None):
    """Load an engagement (and its schedule); its warnings go to stderr."""
    eng = load_engagement(path, book, schedule)
    for w in eng.warnings:
        print(w, file=sys.stderr)
    return eng


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
    for note in report.notes:
        print(note, file=sys.stderr)
    for rel in report.kept:
        print(f"kept: {rel} (not as m3docs last wrote it: edited, or put there by hand; "
              f"--force to replace)", file=sys.stderr)
    if not args.quiet:
        print(report.summary())


def _engagement_or_demo(path: str | None, book: Playbook, doing: str,
                        schedule: str | None = None):
    """The engagement file, or the built-in demo engagement (said so on stderr)."""
    if path:
        return load_engagement(path, book, schedule)
    eng = example_engagement()
    print(f"note: no --engagement: {doing} the built-in demo engagement ({eng.agency}, "
          f"{eng.program})", file=sys.stderr)
    return _with_schedule(eng, book, schedule) if schedule else eng


def cmd_pack(args: argparse.Namespace) -> int:
    from .pack import build_pack
    if args.pdf:  # before any work, so a missing LibreOffice costs nothing
        from .pdf import require_soffice
        require_soffice()
    book = _playbook(args.playbook, args.base_url)
    eng = _engagement_or_demo(args.engagement, book, "packing", args.schedule)  # warnings: report
    report = build_pack(book, eng, args.out, templates=args.templates, key_tasks=args.key_task,
                        phases=_phases(args.phase, book), jobs=args.jobs, force=args.force,
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


def _with_schedule(eng, book: Playbook, path: str):
    """The demo engagement with status from a schedule (its warnings go in the report)."""
    from dataclasses import replace

    from .schedule import load_schedule
    status, notes = load_schedule(path, book, eng.as_of)
    return replace(eng.with_schedule(status), warnings=tuple(notes))


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


# -- m3docs context: what a template sees ---------------------------------------------------
def _context_parser(sub) -> None:
    cx = sub.add_parser("context", help="print the context a template is filled from")
    cx.add_argument("--playbook", help="playbook (default: the bundled example)")
    cx.add_argument("--engagement", help="engagement YAML file (default: a built-in demo "
                                        "engagement, said so on stderr)")
    cx.add_argument("--templates", action="append", default=[], metavar="DIR",
                    help="folder of official templates (may repeat; they decide which "
                         "inputs become documents)")
    which = cx.add_mutually_exclusive_group(required=True)
    which.add_argument("--key-task", action="append", default=[], metavar="ID",
                       help="the context of a render for this key task (may repeat)")
    which.add_argument("--document", metavar="TITLE",
                       help="the context of the planned document with this title")
    cx.add_argument("--json", action="store_true",
                    help="print it as JSON (the only form; rich text as plain text, dates ISO)")


def cmd_context(args: argparse.Namespace) -> int:
    from . import build_context, to_json
    book = _playbook(args.playbook, args.base_url)
    eng = _engagement_or_demo(args.engagement, book, "using")
    for w in eng.warnings:
        print(w, file=sys.stderr)
    ctx = build_context(book, eng, document=args.document, key_tasks=args.key_task,
                        templates=args.templates)
    json.dump(to_json(ctx), sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


COMMANDS["context"] = cmd_context


# -- tagged templates: render, check-template ------------------------------------------------
def _template_parsers(sub) -> None:
    rd = sub.add_parser("render", help="fill a tagged template (docxtpl's tags) with a context")
    rd.add_argument("template", help="a .docx, .xlsx or .pptx with tags")
    rd.add_argument("--out", required=True, help="the document to write")
    rd.add_argument("--data", metavar="FILE", help="the context as a JSON or YAML file")
    rd.add_argument("--playbook", help="playbook (default: the bundled example)")
    rd.add_argument("--engagement", help="engagement YAML file (default: the built-in demo)")
    rd.add_argument("--key-task", action="append", default=[], metavar="ID",
                    help="the key task(s) the context is for (may repeat)")
    rd.add_argument("--phase", type=int, action="append", default=[], metavar="N",
                    help="every key task of phase N (may repeat)")
    ck = sub.add_parser("check-template", help="list a tagged template's variables and errors")
    ck.add_argument("template", help="a .docx, .xlsx or .pptx with tags")


def _data_file(path: str) -> dict:
    """A context from a JSON or YAML file; a bad file is a one-line error at its place."""
    import yaml
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise M3DocsError([error(path, 0, 0, f"cannot read: {getattr(exc, 'strerror', None) or exc}")])
    try:
        data = json.loads(text) if path.lower().endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise M3DocsError([error(path, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise M3DocsError([error(path, line, col, "not valid YAML: "
                                 f"{getattr(exc, 'problem', None) or exc}")])
    if not isinstance(data, dict):
        raise M3DocsError([error(path, 0, 0, "the context must be a mapping of names to values")])
    return data


def cmd_render(args: argparse.Namespace) -> int:
    from . import build_context, render_template
    if args.data:
        if args.engagement or args.key_task or args.phase:
            raise M3DocsError("--data gives the whole context: leave out --engagement, "
                              "--key-task and --phase")
        context = _data_file(args.data)
    else:
        if not args.key_task and not args.phase:
            raise M3DocsError("say what the context is for: --key-task ID, --phase N or "
                              "--data FILE")
        book = _playbook(args.playbook, args.base_url)
        eng = _engagement_or_demo(args.engagement, book, "using")
        for w in eng.warnings:
            print(w, file=sys.stderr)
        context = build_context(book, eng, key_tasks=args.key_task, phases=args.phase)
    for line in render_template(args.template, context, args.out):
        print(f"warning: {args.template}: {line}", file=sys.stderr)
    return 0


def cmd_check_template(args: argparse.Namespace) -> int:
    from . import check_template
    found = check_template(args.template)
    for d in found.diagnostics:
        print(d, file=sys.stderr)
    for name in found.names:
        print(name)
    return 0 if found.ok else 1


COMMANDS.update({"render": cmd_render, "check-template": cmd_check_template})
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


# -- m3docs tag: the tags inferred for an official template ---------------------------------
def _tag_parser(sub) -> None:
    tg = sub.add_parser("tag", help="write the tagged template m3docs infers for an official "
                                    "one (correct it in Word, name it in templates:)")
    tg.add_argument("template", metavar="OFFICIAL", help="an official template (.docx)")
    tg.add_argument("--out", required=True, help="the tagged template to write")
    tg.add_argument("--playbook", help="playbook (default: the bundled example)")
    tg.add_argument("--engagement", help="engagement YAML file: its placeholders: keys are "
                                         "blanks too")
    tg.add_argument("--quiet", action="store_true", help="do not list what was inferred")


def cmd_tag(args: argparse.Namespace) -> int:
    from . import tag_template
    book = _playbook(args.playbook, args.base_url)
    keys = tuple(load_engagement(args.engagement, book).placeholders) if args.engagement else ()
    notes = tag_template(args.template, args.out, book, keys)
    if not args.quiet:
        for note in notes:
            print(note)
    return 0


COMMANDS["tag"] = cmd_tag


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
