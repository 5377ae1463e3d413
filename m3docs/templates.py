"""The template chain: like a chain of loaders, the first one that has a template wins.

Order: a template the engagement file names for the deliverable; the official
file name found in a ``--templates`` folder; the project's own template for the
document kind; the generic starter for the format.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, Protocol
from urllib.parse import unquote

from .errors import M3DocsError
from .ooxml.package import PackageError, Template
from .ooxml.xml import UnsafeXML
from .plan import FORMAT_OF_EXTENSION, Deliverable


@dataclass(frozen=True)
class TemplateChoice:
    path: Path
    official: bool
    origin: str  # "engagement", "templates", "own" or "generic"

    @property
    def name(self) -> str:
        return self.path.name


class Loader(Protocol):
    def find(self, deliverable: Deliverable) -> TemplateChoice | None: ...


def own_templates_dir() -> Path:
    """The project's own templates: inside the installed wheel, else the source tree."""
    packaged = Path(__file__).resolve().parent / "_templates"
    if (packaged / "generic.docx").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def _format_of(path: Path) -> str | None:
    return FORMAT_OF_EXTENSION.get(path.suffix.lower())


@dataclass
class EngagementLoader:
    """Templates the engagement file names, by deliverable title or official file name."""

    mapping: dict[str, Path]

    def find(self, d: Deliverable) -> TemplateChoice | None:
        for key, path in self.mapping.items():
            if d.named(key) and _format_of(path) == d.format:
                return TemplateChoice(path, True, "engagement")
        return None


@dataclass
class DirectoryLoader:
    """Official templates in a folder, found by the file name the playbook gives.

    Only regular files directly in the folder are used; a symlink whose target
    lies outside the folder is not followed. The folder is never written.
    """

    folder: Path

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        root = self.folder.resolve()
        self.files: dict[str, Path] = {}
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError as exc:
            raise M3DocsError(f"{self.folder}: cannot read templates folder: "
                              f"{exc.strerror or exc}")
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink() and root not in path.resolve().parents:
                continue
            if path.is_file():
                self.files.setdefault(entry.name.lower(), path)

    def find(self, d: Deliverable) -> TemplateChoice | None:
        """The file the playbook names (a path or URL counts by its last part, and a
        percent-encoded name such as 'Progress%20Review.pptx' as it reads decoded)."""
        if not d.template_file:
            return None
        name = PurePosixPath(d.template_file.replace("\\", "/")).name
        for candidate in dict.fromkeys((name, unquote(name))):
            if path := self.files.get(candidate.lower()):
                return TemplateChoice(path, True, "templates")
        return None


@dataclass
class OwnLoader:
    """The project's own template for a document kind (CONOPS, RTM, status deck)."""

    folder: Path

    def find(self, d: Deliverable) -> TemplateChoice | None:
        path = self.folder / f"{d.kind}.{d.format}"
        if d.kind != "generic" and path.is_file():
            return TemplateChoice(path, False, "own")
        return None


@dataclass
class GenericLoader:
    """The generic Word, Excel or PowerPoint starter."""

    folder: Path

    def find(self, d: Deliverable) -> TemplateChoice | None:
        path = self.folder / f"generic.{d.format}"
        return TemplateChoice(path, False, "generic") if path.is_file() else None


_CACHE: dict[tuple[str, int, int], Template] = {}


def open_template(path: Path) -> Template:
    """A Template, read and parsed once per process (keyed by path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = Template(path)
    return _CACHE[key]


@dataclass
class TemplateChain:
    loaders: list

    @classmethod
    def build(cls, engagement_templates: dict[str, str] | None = None,
              folders: Iterable[str | Path] = (), base: Path | None = None) -> "TemplateChain":
        own = own_templates_dir()
        mapping = {k: (base or Path.cwd()) / Path(v).expanduser()
                   for k, v in (engagement_templates or {}).items()}
        loaders: list = [EngagementLoader(mapping)] if mapping else []
        loaders += [DirectoryLoader(Path(f).expanduser()) for f in folders]
        return cls(loaders + [OwnLoader(own), GenericLoader(own)])

    def own_only(self) -> "TemplateChain":
        """The chain without the user's templates (the fallback when one cannot be filled)."""
        return TemplateChain([l for l in self.loaders if isinstance(l, (OwnLoader, GenericLoader))])

    @property
    def has_user_templates(self) -> bool:
        """Whether the engagement or a --templates folder can supply (official) templates."""
        return any(not isinstance(l, (OwnLoader, GenericLoader)) for l in self.loaders)

    def unmatched_folders(self, deliverables: Iterable[Deliverable]) -> list[str]:
        """A warning for each ``--templates`` folder that holds no template of these
        deliverables (a wrong folder, or files renamed from what the playbook names)."""
        wanted = [d for d in deliverables if d.template_file]
        out = []
        for loader in self.loaders:
            if isinstance(loader, DirectoryLoader) and not any(loader.find(d) for d in wanted):
                names = sorted({PurePosixPath(d.template_file.replace("\\", "/")).name
                                for d in wanted})
                hint = f" (the playbook names {', '.join(names[:3])}" + \
                    (", ..." if len(names) > 3 else "") + ")" if names else ""
                out.append(f"{loader.folder}: --templates folder matched no template of "
                           f"this pack{hint}")
        return out

    def candidates(self, d: Deliverable) -> Iterator[TemplateChoice]:
        for loader in self.loaders:
            choice = loader.find(d)
            if choice is not None:
                yield choice

    def has_template(self, d: Deliverable) -> bool:
        """Whether anything but the generic starter serves this deliverable."""
        return any(c.origin != "generic" for c in self.candidates(d)) or bool(d.template_file)

    def load(self, d: Deliverable) -> tuple[Template, TemplateChoice, list[str]]:
        """The first template that opens; problems with earlier ones are returned."""
        problems: list[str] = []
        for choice in self.candidates(d):
            try:
                return open_template(choice.path), choice, problems
            except (PackageError, UnsafeXML, OSError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                why = why.removeprefix(f"{choice.path}: ")
                problems.append(f"template {choice.path}: {why}; used the next one in line")
        raise M3DocsError(f"no usable template for {d.title!r} ({d.format})")
