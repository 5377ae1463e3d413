"""Batch packs: many engagements on a process pool or a Dask cluster, same bytes as single runs."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import docx
import pytest

from m3docs import build_pack, generate_packs
from m3docs.batch import pack_folders
from m3docs.cli import main
from m3docs.engagement import load_engagement
from m3docs.pack import MANIFEST, make_plan, render_all

REPO = Path(__file__).resolve().parent.parent
AGENCIES = ["Department of Examples", "Department of Samples", "Office of Tests",
            "Bureau of Records", "Agency for Benchmarks"]
PROGRAMS = ["Financial Management", "Grants Management", "Human Capital", "Acquisition",
            "Payroll Consolidation"]


@pytest.fixture(scope="module")
def engagements(playbook):
    base = load_engagement(REPO / "examples" / "engagement.yaml", playbook)
    return [dataclasses.replace(base, agency=AGENCIES[i % 5],
                                program=f"{PROGRAMS[i // 5 % 5]} Modernization {i + 1}",
                                provider=f"Provider {i % 3}")
            for i in range(20)]


@pytest.fixture(scope="module")
def single_runs(playbook, engagements, tmp_path_factory) -> Path:
    """The reference: 20 separate build_pack runs, in the batch's folder names."""
    root = tmp_path_factory.mktemp("single")
    for name, eng in zip(pack_folders(engagements), engagements):
        build_pack(playbook, eng, root / name)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_trees(got: Path, want: Path) -> None:
    a, b = tree(got), tree(want)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert not different, f"bytes differ: {different[:5]}"


def test_folder_names_are_unique_and_safe(engagements):
    twins = [engagements[0], engagements[0], dataclasses.replace(engagements[1], agency="A/B:C")]
    names = pack_folders(twins)
    assert names[0] != names[1] and names[1].endswith("(2)")
    assert "/" not in names[2] and ":" not in names[2]
    assert len(set(pack_folders(engagements))) == 20


def test_process_pool_batch_matches_single_runs(playbook, engagements, single_runs, tmp_path):
    reports = generate_packs(engagements, tmp_path, playbook=playbook, jobs=2)
    assert len(reports) == 20
    assert [r.out.name for r in reports] == pack_folders(engagements)
    assert all(r.written and not r.kept for r in reports)
    assert_same_trees(tmp_path, single_runs)
    # Real content: each pack's CONOPS names its own agency and program.
    for report, eng in zip(reports, engagements):
        word = next(d["path"] for d in report.documents if d["format"] == "docx")
        text = "\n".join(p.text for p in docx.Document(report.out / word).paragraphs)
        text += "\n".join(c.text for t in docx.Document(report.out / word).tables
                          for row in t.rows for c in row.cells)
        assert eng.agency in text and eng.program in text


def test_explicit_executor_without_initializer(playbook, engagements, single_runs, tmp_path):
    with ProcessPoolExecutor(2) as pool:
        generate_packs(engagements[:4], tmp_path, playbook=playbook, executor=pool)
    for name in pack_folders(engagements)[:4]:
        assert_same_trees(tmp_path / name, single_runs / name)


def test_in_process_batch_and_rerun_is_unchanged(playbook, engagements, single_runs, tmp_path):
    generate_packs(engagements[:3], tmp_path, playbook=playbook, jobs=1)
    again = generate_packs(engagements[:3], tmp_path, playbook=playbook, jobs=1)
    assert all(not r.written and r.unchanged for r in again)
    for name in pack_folders(engagements)[:3]:
        assert_same_trees(tmp_path / name, single_runs / name)


def test_build_pack_on_an_executor_gives_the_same_bytes(playbook, engagements):
    eng = engagements[0]
    plan = make_plan(playbook, eng)
    alone = [o.data for o in render_all(plan.docs, playbook, eng, plan.chain)]
    with ProcessPoolExecutor(2) as pool:
        spread = [o.data for o in render_all(plan.docs, playbook, eng, plan.chain,
                                             executor=pool)]
    assert alone == spread


def test_dask_local_cluster_matches_single_runs(playbook, engagements, single_runs, tmp_path):
    distributed = pytest.importorskip("dask.distributed",
                                      reason="the m3docs[dask] extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        reports = generate_packs(engagements, tmp_path, playbook=playbook,
                                 executor=client.get_executor())
    assert len(reports) == 20
    assert_same_trees(tmp_path, single_runs)


def test_cli_batch(tmp_path):
    source = (REPO / "examples" / "engagement.yaml").read_text(encoding="utf-8")
    files = []
    for i, agency in enumerate(("Department of One", "Department of Two")):
        path = tmp_path / f"eng{i}.yaml"
        path.write_text(source.replace("U.S. Department of Examples", agency), encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "packs"
    assert main(["batch", *files, "--out", str(out), "--jobs", "2", "--quiet"]) == 0
    folders = sorted(p.name for p in out.iterdir())
    assert folders == ["Department of One - Financial Management Modernization",
                       "Department of Two - Financial Management Modernization"]
    assert all((out / f / MANIFEST).is_file() for f in folders)


def test_tracker_warnings_reach_batch_reports(tmp_path):
    from m3docs.batch import generate_packs
    from m3docs.engagement import example_engagement
    odd = dataclasses.replace(example_engagement(), agency="Odd\x0b Agency")
    (report,) = generate_packs([odd], tmp_path, jobs=1)
    assert any(w.startswith("Deliverables Tracker.xlsx:") for w in report.warnings)
