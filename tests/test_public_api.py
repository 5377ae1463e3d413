"""The public API as a new user meets it: engagement files straight into generate_packs, and
real signatures in help()."""
from __future__ import annotations

import inspect
import pydoc
from pathlib import Path

import pytest

import m3docs
from m3docs import M3DocsError, generate_packs, load_engagement

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "engagement.yaml"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_generate_packs_takes_engagement_paths(playbook, tmp_path):
    other = tmp_path / "eng-b.yaml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        "U.S. Department of Examples", "U.S. Department of Samples"), encoding="utf-8")
    by_path = generate_packs([str(EXAMPLE), other], tmp_path / "a", playbook=playbook, jobs=1)
    loaded = [load_engagement(EXAMPLE, playbook), load_engagement(other, playbook)]
    generate_packs(loaded, tmp_path / "b", playbook=playbook, jobs=1)
    assert [r.out.name for r in by_path] == [
        "U.S. Department of Examples - Financial Management Modernization",
        "U.S. Department of Samples - Financial Management Modernization"]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_generate_packs_names_a_missing_engagement_file(playbook, tmp_path):
    with pytest.raises(M3DocsError, match="nope.yaml.*cannot read engagement file"):
        generate_packs([tmp_path / "nope.yaml"], tmp_path / "out", playbook=playbook, jobs=1)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", [n for n in m3docs.__all__
                                  if inspect.isfunction(getattr(m3docs, n))])
def test_public_functions_show_their_real_signature(name):
    function = getattr(m3docs, name)
    params = inspect.signature(function).parameters.values()
    assert not [p for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert "**kwargs" not in pydoc.render_doc(function)
