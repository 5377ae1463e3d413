"""Shared test fixtures: the real sample playbook (skipped when ../shared is absent)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "gsa-m3"
SEED = SHARED / "seed"
OFFICIAL = CORPUS / "assets" / "files"


_OWN_CACHE: list[str] = []


def pytest_configure(config) -> None:
    """The suite keeps m3docs' cache (compiled templates, inferred tags) in a folder of its
    own, shared by its tests and the CLI runs they start, never in the user's home."""
    if "M3DOCS_CACHE" not in os.environ:
        os.environ["M3DOCS_CACHE"] = tempfile.mkdtemp(prefix="m3docs-test-cache-")
        _OWN_CACHE.append(os.environ["M3DOCS_CACHE"])


def pytest_unconfigure(config) -> None:
    import shutil
    for folder in _OWN_CACHE:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def playbook():
    """The playbook bundled with m3docs (frozen: safe to share)."""
    from m3docs import load_playbook
    return load_playbook()


@pytest.fixture(scope="session")
def engagement():
    """examples/engagement.yaml (frozen: safe to share)."""
    from m3docs import load_engagement
    return load_engagement(REPO / "examples" / "engagement.yaml")


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "_pages" / "m3").is_dir():
        pytest.skip("the shared playbook sample (../shared/corpus/gsa-m3) is not present")
    return CORPUS


@pytest.fixture(scope="session")
def seed_page() -> Path:
    pages = sorted(SEED.glob("*")) if SEED.is_dir() else []
    if not pages:
        pytest.skip("the shared seed page (../shared/seed) is not present")
    return pages[0]


@pytest.fixture(scope="session")
def official_dir() -> Path:
    if not OFFICIAL.is_dir():
        pytest.skip("the shared official templates are not present")
    return OFFICIAL


@pytest.fixture
def write_page(tmp_path):
    """Write a key-task page from front-matter text; returns its path."""
    def write(text: str, name: str = "1.1.md", folder: str = "keyTask") -> Path:
        d = tmp_path / "_pages" / "m3" / folder
        d.mkdir(parents=True, exist_ok=True)
        p = d / name
        p.write_text(text, encoding="utf-8")
        return p
    return write
