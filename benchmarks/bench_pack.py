"""Pack benchmark: m3docs against the floor and against the obvious approach, in one run.

    python benchmarks/bench_pack.py [--official DIR] [--sizes 67,500,2000] [--markdown FILE]

For each size N a synthetic playbook of N key tasks (benchmarks/synth.py) is
packed for one engagement with the bundled templates (and with the official
templates of --official). Every measurement runs in a fresh subprocess (so a
template is parsed once per process, as in real use, and peak memory is that
process's ru_maxrss, or its largest worker's with --jobs):

- m3docs:  build_pack(...) (the playbook is loaded before the clock starts);
- floor:   for every document m3docs wrote (tracker included, against the
           generic workbook), read its template's zip and write it back
           recompressed with nothing changed (zipfile, deflate);
- obvious: for every document, open its template with python-docx / openpyxl /
           python-pptx, fill the same content (cover facts, one section, table
           or slide per key task with activities, owners, inputs, outputs,
           stakeholders, best practices) through their public API, and save.

m3docs is reported as a ratio to each (x floor: lower is better; obvious/m3docs:
higher is better), with --jobs 2 against --jobs 1, then the targets are checked.

This machine is shared and its speed drifts by tens of percent from one minute to
the next, so: m3docs runs in rounds (every size, --jobs 1 and --jobs 2 back to
back, each round, in alternating order so that a steady drift cancels out), every
time is the median of its runs, and the --jobs speed-up is the median of the
ratios of those back-to-back pairs. Likewise the growth of
time per document with N is the median, over rounds, of a large pack's time per
document against the smallest pack's, measured just before and just after it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

TARGETS = {"x_floor": 2.5, "x_obvious": 3.0, "peak_mb": 300.0, "jobs_speedup": 1.7,
           "linearity": 1.25, "template_x_floor": 3.0}


# -- measurements (each in its own subprocess) ---------------------------------------

def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return max(own, kids) * scale


def _load(playbook_dir: str):
    from m3docs import load_playbook
    from synth import synthetic_engagement
    book = load_playbook(playbook_dir)
    return book, synthetic_engagement(book)


def _import_everything(official: bool) -> None:
    """Import m3docs' modules before the clock starts (start-up, not generation: this
    machine may run without cached bytecode, and a worker forked later inherits them)."""
    from m3docs import tracker  # noqa: F401  (imported before the clock)
    from m3docs.renderers import preload
    preload({"docx", "xlsx", "pptx"}, official=official)


def measure_m3docs(args: argparse.Namespace) -> dict:
    from m3docs import build_pack
    t0 = time.perf_counter()
    book, eng = _load(args.playbook)
    _import_everything(bool(args.templates))
    loaded, cpu = time.perf_counter(), _cpu_seconds()
    report = build_pack(book, eng, args.out, templates=args.templates, jobs=args.jobs)
    done = time.perf_counter()
    sections = sum(len(set(d["outputs_of"] + d["inputs_of"])) for d in report.documents)
    return {"docs": len(report.written) + len(report.unchanged) + len(report.kept),
            "sections": sections, "seconds": done - loaded, "load_seconds": loaded - t0,
            "cpu_seconds": _cpu_seconds() - cpu, "peak_mb": _peak_mb()}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers (time the machine gave us)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _template_paths(manifest: dict, official: list[str]) -> list[tuple[dict, Path]]:
    """(manifest entry, template file) for every document, the tracker as a generic workbook."""
    from m3docs.templates import own_templates_dir
    own = own_templates_dir()
    out = []
    for entry in manifest["documents"]:
        folders = [Path(f) for f in official] if entry["official"] else [own]
        path = next(f / entry["template"] for f in folders if (f / entry["template"]).is_file())
        out.append((entry, path))
    out.append((manifest["tracker"] | {"format": "xlsx", "tracker": True},
                own / "generic.xlsx"))
    return out


def measure_floor(args: argparse.Namespace) -> dict:
    manifest = json.loads((Path(args.pack) / "manifest.json").read_text(encoding="utf-8"))
    jobs = _template_paths(manifest, args.templates)
    start = time.perf_counter()
    for i, (entry, template) in enumerate(jobs):
        _rezip(template, Path(args.out) / f"{i:05d}{template.suffix}")
    seconds = time.perf_counter() - start
    # for reference, the other reading of the floor: the written files re-zipped
    written = [Path(args.pack) / e["path"] for e, _ in jobs]
    start = time.perf_counter()
    for i, path in enumerate(written):
        _rezip(path, Path(args.out) / f"w{i:05d}{path.suffix}")
    return {"docs": len(jobs), "seconds": seconds, "peak_mb": _peak_mb(),
            "written_seconds": time.perf_counter() - start}


def measure_obvious(args: argparse.Namespace) -> dict:
    import obvious
    manifest = json.loads((Path(args.pack) / "manifest.json").read_text(encoding="utf-8"))
    book, eng = _load(args.playbook)
    jobs = _template_paths(manifest, args.templates)
    tasks = {kt.id: kt for kt in book.key_tasks}
    start = time.perf_counter()
    for i, (entry, template) in enumerate(jobs):
        target = Path(args.out) / f"{i:05d}{template.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.get("tracker"):
            obvious.tracker(manifest["documents"], eng, target)
            continue
        ids = sorted(set(entry["outputs_of"] + entry["inputs_of"]),
                     key=lambda k: tasks[k].sort_key)
        obvious.fill(entry, [tasks[k] for k in ids], eng, template, target)
    return {"docs": len(jobs), "seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}


def measure_per_template(args: argparse.Namespace) -> dict:
    """Per template, in one process: render its documents one by one (the first includes
    the template's analysis, as in a pack), then re-zip the template as many times (its
    own floor). Returns {template: {docs, seconds, floor_seconds}}."""
    from m3docs.pack import make_plan, render_all
    book, eng = _load(args.playbook)
    _import_everything(True)
    plan = make_plan(book, eng, args.templates)
    by_template: dict[str, list] = {}
    for doc in plan.docs:
        template, choice, _ = plan.chain.load(doc.deliverable)
        if choice.official:
            by_template.setdefault(choice.path.name, []).append((doc, choice.path))
    out = {}
    for name, items in sorted(by_template.items()):
        docs = [d for d, _ in items]
        start = time.perf_counter()
        written = [outcome.data for outcome in render_all(docs, book, eng, plan.chain)]
        mine = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(len(docs)):
            _rezip(items[0][1], Path(args.out) / f"floor{items[0][1].suffix}")
        floor = time.perf_counter() - start
        start = time.perf_counter()
        for i, data in enumerate(written):
            source = Path(args.out) / f"written{i}{items[0][1].suffix}"
            source.write_bytes(data)
            _rezip(source, Path(args.out) / f"floor{items[0][1].suffix}")
        out[name] = {"docs": len(docs), "seconds": mine, "floor_seconds": floor,
                     "written_floor_seconds": time.perf_counter() - start}
    return {"templates": out, "seconds": 0.0, "peak_mb": _peak_mb()}


def _rezip(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(template) as src, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)


MEASURES = {"m3docs": measure_m3docs, "floor": measure_floor, "obvious": measure_obvious,
            "per_template": measure_per_template}


def per_template_table(result: dict) -> str:
    """Per template: against re-zipping the template (its own floor, the target's) and,
    for reference, against re-zipping the documents written from it (a template whose
    documents are much bigger than itself, as a schedule that gains every activity, has a
    floor that leaves no room for the work)."""
    lines = ["| template | documents | m3docs ms/doc | floor ms/doc | m3docs / floor | "
             "written re-zipped ms/doc | m3docs / written re-zipped |",
             "|---|---|---|---|---|---|---|"]
    for name, r in result["templates"].items():
        mine, floor = 1000 * r["seconds"] / r["docs"], 1000 * r["floor_seconds"] / r["docs"]
        written = 1000 * r.get("written_floor_seconds", 0.0) / r["docs"]
        lines.append(f"| {name} | {r['docs']} | {mine:.1f} | {floor:.1f} | "
                     f"{mine / floor:.2f}x | {written:.1f} | "
                     f"{mine / written if written else 0:.2f}x |")
    return "\n".join(lines)


def per_template_verdicts(result: dict) -> list[str]:
    """No template over TARGETS["template_x_floor"] times its own floor."""
    out = []
    for name, r in result["templates"].items():
        ratio, limit = r["seconds"] / r["floor_seconds"], TARGETS["template_x_floor"]
        out.append(f"{'PASS' if ratio <= limit else 'FAIL'}  [family, template] {name} / its "
                   f"floor: {ratio:.2f} (target <= {limit})")
    return out


def family_folder(work: Path) -> Path:
    """The family-sized templates (benchmarks/family.py), with the shared official samples
    beside them when ../shared has them (the generated ones win on a name clash)."""
    import family
    folder = work / "family"
    if not folder.is_dir():
        family.build(folder)
        shared = HERE.parent.parent / "shared" / "corpus" / "gsa-m3" / "assets" / "files"
        for f in sorted(shared.glob("*")) if shared.is_dir() else []:
            if not (folder / f.name).exists():
                shutil.copy(f, folder / f.name)
    return folder


# -- the driver --------------------------------------------------------------------

def run(kind: str, **opts) -> dict:
    """One measurement in a fresh Python process; returns its JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", kind]
    for key, value in opts.items():
        for v in (value if isinstance(value, list) else [value]):
            cmd += [f"--{key.replace('_', '-')}", str(v)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{kind} measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fresh(kind: str, **opts) -> dict:
    shutil.rmtree(Path(opts["out"]), ignore_errors=True)
    return run(kind, **opts)


def typical(results: list[dict]) -> dict:
    """The median run (by time; the slower of the middle two) with the largest peak memory
    seen: on a shared machine a median is steadier than a best, and fair between a 2 s and a
    100 s run."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    return ordered[len(ordered) // 2] | {"peak_mb": max(r["peak_mb"] for r in results),
                                         "runs": len(results)}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def repeats(n: int, args) -> int:
    """Runs per size: small packs take seconds and are the noisiest, so they run most."""
    return args.repeat or (9 if n <= 100 else 5 if n <= 500 else 3)


def bench(sets: list[tuple[str, list[str]]], sizes: list[int], work: Path, args) -> list[dict]:
    """Pack every (templates, N) in rounds, each with --jobs 1 and --jobs J back to back, so
    that every size and both job counts meet the same spells of load; then the references.

    In a round where larger sizes run, the smallest is packed again after them: a larger
    pack's time per document is compared with the smallest's measured just before and
    just after it (the machine's speed drifts more from minute to minute than that ratio).
    """
    from synth import write_playbook
    sizes = sorted(sizes)
    books = {}
    for n in sizes:
        books[n] = work / f"playbook-{n}-{args.recurrence}"
        if not books[n].is_dir():
            write_playbook(books[n], n, recurrence=args.recurrence)
    runs = {(label, n): {"one": {}, "many": {}, "after": {}, "ceiling": {}}
            for label, _ in sets for n in sizes}
    for r in range(max(repeats(n, args) for n in sizes)):
        for label, templates in sets:
            now = [n for n in sizes if r < repeats(n, args)]
            for n in now:
                mine = runs[(label, n)]
                common = {"playbook": books[n], "templates": templates}
                one = {"out": work / f"pack-{label}-{n}", "jobs": 1}
                many = {"out": work / "pack-parallel", "jobs": args.jobs}
                # Odd rounds run the pair the other way round, so drift cancels out.
                pair = [("one", one)] + ([("many", many)] if args.jobs > 1 else [])
                for kind, opts in (pair if r % 2 == 0 else pair[::-1]):
                    mine[kind][r] = _fresh("m3docs", **opts, **common)
                line = f"... round {r + 1}: N={n} {label}: {mine['one'][r]['seconds']:.2f}s"
                if args.jobs > 1:
                    mine["ceiling"][r] = cpu_ceiling(args.jobs, 2_000_000)
                    line += (f", --jobs {args.jobs} {mine['many'][r]['seconds']:.2f}s, "
                             f"ceiling {mine['ceiling'][r]:.2f}x")
                print(line, file=sys.stderr)
            if len(now) > 1:
                runs[(label, sizes[0])]["after"][r] = _fresh(
                    "m3docs", out=work / "pack-after", jobs=1, playbook=books[sizes[0]],
                    templates=templates)
    rows = []
    for label, templates in sets:
        for n in sizes:
            rows.append(_row(label, templates, n, runs, books, work, args))
    return rows


def _row(label: str, templates: list[str], n: int, runs: dict, books: dict, work: Path,
         args) -> dict:
    """One table row: the medians of the runs, the paired ratios, then the references."""
    mine, small = runs[(label, n)], runs[(label, min(books))]
    row = {"n": n, "templates": label, "m3docs": typical(list(mine["one"].values()))}
    if mine["many"]:
        row["parallel"] = typical(list(mine["many"].values()))
        row["speedup"] = median([mine["one"][r]["seconds"] / mine["many"][r]["seconds"]
                                 for r in mine["many"]])
        row["ceiling"] = median(list(mine["ceiling"].values()))
    if n > min(books):
        row["linearity"] = {unit: median([_per(mine["one"][r], unit) / (
            (_per(small["one"][r], unit) + _per(small["after"][r], unit)) / 2)
            for r in mine["one"]]) for unit in ("docs", "sections")}
    common = {"playbook": books[n], "templates": templates, "pack": work / f"pack-{label}-{n}"}
    row["floor"] = typical([_fresh("floor", out=work / "floor", **common)
                            for _ in range(repeats(n, args))])
    if n <= args.obvious_max:
        row["obvious"] = _fresh("obvious", out=work / "obvious", **common)
    _check_same_pack(row)
    return row


def _per(result: dict, unit: str) -> float:
    return result["seconds"] / result[unit]


def _check_same_pack(row: dict) -> None:
    if row["m3docs"]["docs"] != row["floor"]["docs"]:
        sys.exit(f"document counts differ: {row['m3docs']['docs']} vs {row['floor']['docs']}")


def ratios(row: dict) -> dict:
    m = row["m3docs"]["seconds"]
    out = {"x_floor": m / row["floor"]["seconds"]}
    if row["floor"].get("written_seconds"):
        out["x_written"] = m / row["floor"]["written_seconds"]
    if "obvious" in row:
        out["x_obvious"] = row["obvious"]["seconds"] / m
    if "speedup" in row:
        out["jobs_speedup"] = row["speedup"]
    return out


def table(rows: list[dict], jobs: int) -> str:
    head = ["N", "templates", "documents", "m3docs s", "docs/s", "peak MB", "floor s",
            "m3docs / floor", "m3docs / written re-zipped", "obvious s", "obvious / m3docs", f"--jobs {jobs} s",
            f"jobs 1 / jobs {jobs}", f"CPU ceiling, {jobs} processes", "ms/doc", "key-task sections", "ms/section",
            "ms/doc vs smallest N (paired)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        m, q = r["m3docs"], ratios(r)
        cells = [r["n"], r["templates"], m["docs"], f"{m['seconds']:.2f}",
                 f"{m['docs'] / m['seconds']:.0f}", f"{m['peak_mb']:.0f}",
                 f"{r['floor']['seconds']:.2f}", f"{q['x_floor']:.2f}x",
                 f"{q['x_written']:.2f}x" if "x_written" in q else "-",
                 f"{r['obvious']['seconds']:.2f}" if "obvious" in r else "-",
                 f"{q['x_obvious']:.1f}x" if "x_obvious" in q else "-",
                 f"{r['parallel']['seconds']:.2f}" if "parallel" in r else "-",
                 f"{q['jobs_speedup']:.2f}x" if "jobs_speedup" in q else "-",
                 f"{r['ceiling']:.2f}x" if "ceiling" in r else "-",
                 f"{1000 * m['seconds'] / m['docs']:.2f}", m["sections"],
                 f"{1000 * m['seconds'] / m['sections']:.2f}",
                 f"{r['linearity']['docs']:.2f}x" if "linearity" in r else "-"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> list[str]:
    """The issue's targets, checked on this run's numbers."""
    out = []
    for label in dict.fromkeys(r["templates"] for r in rows):
        mine = [r for r in rows if r["templates"] == label]
        base = min(mine, key=lambda r: r["n"])
        q = ratios(base)
        checks = [("m3docs / floor", q["x_floor"], "<=", TARGETS["x_floor"]),
                  ("peak MB", base["m3docs"]["peak_mb"], "<", TARGETS["peak_mb"])]
        if "x_obvious" in q:
            checks.append(("obvious / m3docs", q["x_obvious"], ">=", TARGETS["x_obvious"]))
        if "jobs_speedup" in q:
            checks.append(("jobs speed-up", q["jobs_speedup"], ">=", TARGETS["jobs_speedup"]))
        if "linearity" in mine[-1]:
            for unit, value in mine[-1]["linearity"].items():
                checks.append((f"time per {unit[:-1]} at N={mine[-1]['n']} / at N={base['n']}",
                               value, "<=", TARGETS["linearity"]))
        for name, value, op, limit in checks:
            ok = value <= limit if op in ("<=", "<") else value >= limit
            out.append(f"{'PASS' if ok else 'FAIL'}  [{label}, N={base['n']}] {name}: "
                       f"{value:.2f} (target {op} {limit})")
    return out


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_ceiling(jobs: int, n: int = 6_000_000) -> float:
    """How much faster ``jobs`` processes run pure-Python work than one, right now
    (other load on the machine lowers it; --jobs cannot beat it)."""
    from concurrent.futures import ProcessPoolExecutor
    start = time.perf_counter()
    for _ in range(jobs):
        _burn(n)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_burn, [1000] * jobs))
        start = time.perf_counter()
        list(pool.map(_burn, [n] * jobs))
        parallel = time.perf_counter() - start
    return serial / parallel


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="67,500,2000", help="key-task counts, comma separated")
    p.add_argument("--official", help="folder of official templates (adds rows using it)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes to compare with 1")
    p.add_argument("--recurrence", choices=("block", "phase"), default="block",
                   help="how recurring deliverables grow with N (see benchmarks/synth.py)")
    p.add_argument("--repeat", type=int, help="runs per measurement, the median reported "
                   "(default 9 up to N = 100, 5 up to 500, 3 above)")
    p.add_argument("--obvious-max", type=int, default=10_000,
                   help="skip the obvious approach above this N")
    p.add_argument("--family", action="store_true",
                   help="add rows on family-sized official templates (benchmarks/family.py) "
                        "and a per-template table against each template's own floor")
    p.add_argument("--markdown", help="also write the table to this Markdown file")
    p.add_argument("--keep", help="keep generated files in this folder")
    p.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    for name in ("playbook", "out", "pack"):
        p.add_argument(f"--{name}", help=argparse.SUPPRESS)
    p.add_argument("--templates", action="append", default=[], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        print(json.dumps(MEASURES[args.measure](args)))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="m3docs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sets = [("bundled", [])] + ([("official", [str(Path(args.official).resolve())])]
                               if args.official else [])
    if args.family:
        sets.append(("family", [str(family_folder(work))]))
    try:
        rows = bench(sets, [int(x) for x in args.sizes.split(",")], work, args)
        per_results = [_fresh(
            "per_template", out=work / "per-template", playbook=work /
            f"playbook-{min(int(x) for x in args.sizes.split(','))}-{args.recurrence}",
            templates=templates) for label, templates in sets if label == "family"]
        per = [per_template_table(r) for r in per_results]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = table(rows, args.jobs) + "".join(
        "\n\nPer template (family, smallest N; each template's own floor: re-zipping it once "
        "per document):\n\n" + t for t in per)
    checks = verdicts(rows) + [line for r in per_results for line in per_template_verdicts(r)]
    checks += [f"note  [{r['templates']}, N={r['n']}] --jobs {args.jobs} gave {r['speedup']:.2f}x "
               f"while {args.jobs} processes of plain Python ran {r['ceiling']:.2f}x faster "
               f"than 1 (the machine's ceiling, measured after each pair; median)"
               for r in rows if "ceiling" in r]
    print(text + "\n\n" + "\n".join(checks))
    if args.markdown:
        write_markdown(Path(args.markdown), text, checks, args)
    return 0


def write_markdown(path: Path, text: str, checks: list[str], args) -> None:
    cmd = "python benchmarks/bench_pack.py " + " ".join(
        a for a in sys.argv[1:] if not a.startswith("--markdown") and a != args.markdown)
    body = (f"# Benchmarks\n\nLatest run: {dt.date.today().isoformat()} on {machine()}.\n\n"
            f"Command: `{cmd.strip()}`\n\n{text}\n\n```\n" + "\n".join(checks) + "\n```\n")
    path.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
