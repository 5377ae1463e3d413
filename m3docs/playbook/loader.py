"""Reading playbook pages (Jekyll front matter or plain YAML) into the model."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, M3DocsError, error, warning
from ..yamlsrc import LList, LMap, Pos, YamlError, decode, parse, split_front_matter
from .model import (OFFICE_EXTENSIONS, WORKSTREAMS, Activity, DocRef, GlossaryTerm, KeyTask,
                    Party, Phase, PhaseDocument, Playbook, Source, Stakeholder,
                    canonical_category, default_phase_name)
from .richtext import DEFAULT_BASE_URL, RichText, linked_file, parse_html

PAGE_SUFFIXES = (".md", ".markdown", ".yaml", ".yml")
REQUIRED_KEY_TASK_FIELDS = ("name", "phase", "keyTask", "objective")
_PARTY_VALUES = {p.value for p in Party}
_PARTY_SPLIT = re.compile(r"\s*(?:,|/|&|\band\b)\s*", re.I)


def bundled_playbook_path() -> Path:
    """The small example playbook shipped with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "playbook"


@dataclass
class _Page:
    path: str
    kind: str  # "keyTask", "phase", "glossary" or "" (decide by content)
    data: Any = None


@dataclass
class _Reader:
    """Turns one page's front matter into model objects, collecting diagnostics."""

    path: str
    base_url: str
    diags: list[Diagnostic] = field(default_factory=list)

    def err(self, pos: Pos, msg: str) -> None:
        self.diags.append(error(self.path, pos.line, pos.col, msg))

    def warn(self, pos: Pos, msg: str) -> None:
        self.diags.append(warning(self.path, pos.line, pos.col, msg))

    def src(self, pos: Pos) -> Source:
        return Source(self.path, pos.line, pos.col)

    def rich(self, value: Any) -> RichText:
        return parse_html("" if value is None else str(value), self.base_url)

    # -- scalars -------------------------------------------------------------
    def integer(self, data: LMap, key: str) -> int | None:
        value = data.get(key)
        if isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        if value is not None:
            self.err(data.where(key), f"'{key}' must be a whole number, not {value!r}")
        return None

    def text(self, data: LMap, key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.err(data.where(key), f"'{key}' must be text, not a {_kind(value)}")
            return None
        return str(value)

    def parties(self, value: Any, pos: Pos, what: str) -> tuple[Party, ...]:
        items = value if isinstance(value, list) else [value]
        out: list[Party] = []
        for i, item in enumerate(items):
            ipos = value.item_pos[i] if isinstance(value, LList) else pos
            if item is None:
                continue
            if not isinstance(item, str):
                self.err(ipos, f"{what} responsibleParty must be text, not {item!r}")
                continue
            for word in _PARTY_SPLIT.split(item.strip()):
                norm = re.sub(r"\s+", "", word).lower()
                if not norm:
                    continue
                if norm.endswith("s") and norm[:-1] in _PARTY_VALUES:
                    norm = norm[:-1]  # "providers", "QSMOs"
                try:
                    party = Party(norm)
                except ValueError:
                    self.err(ipos, f"unknown party {word!r} in {what} (expected customer, "
                                   "provider, shared or qsmo)")
                    continue
                if party not in out:
                    out.append(party)
        return tuple(out)

    # -- lists -----------------------------------------------------------------
    def items(self, data: LMap, key: str) -> list[tuple[Any, Pos]]:
        value = data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [(value, data.where(key))]
        if not isinstance(value, list):
            self.err(data.where(key), f"'{key}' must be a list, not a {_kind(value)}")
            return []
        return list(zip(value, value.item_pos))

    def docrefs(self, data: LMap, key: str) -> tuple[DocRef, ...]:
        out = []
        for item, pos in self.items(data, key):
            if isinstance(item, dict):
                title = item.get("text", item.get("name"))
                if not isinstance(title, (str, int, float)):
                    self.err(pos, f"each of '{key}' needs a 'text'")
                    continue
                fname = item.get("filename")
                if fname is not None and not isinstance(fname, str):
                    self.err(item.where("filename"), "'filename' must be text")
                    fname = None
                rich = self.rich(title)
                fname = (fname or "").strip() or linked_file(rich, OFFICE_EXTENSIONS)
                out.append(DocRef(rich, fname, self.src(pos)))
            elif isinstance(item, (str, int, float)):
                rich = self.rich(item)
                out.append(DocRef(rich, linked_file(rich, OFFICE_EXTENSIONS), self.src(pos)))
            elif item is not None:
                self.err(pos, f"each of '{key}' must be text or {{text, filename}}")
        return tuple(d for d in out if d.title)

    def stakeholders(self, data: LMap) -> tuple[Stakeholder, ...]:
        out = []
        for item, pos in self.items(data, "stakeholders"):
            if isinstance(item, dict):
                role = item.get("text", item.get("role", item.get("name")))
                if not isinstance(role, (str, int, float)):
                    self.err(pos, "each stakeholder needs a 'text'")
                    continue
                parties = self.parties(item.get("responsibleParty"),
                                       item.where("responsibleParty"), "stakeholder")
                out.append(Stakeholder(self.rich(role), parties, self.src(pos)))
            elif isinstance(item, (str, int, float)):
                out.append(Stakeholder(self.rich(item), (), self.src(pos)))
            elif item is not None:
                self.err(pos, "each stakeholder must be a mapping with 'text'")
        return tuple(out)

    def best_practices(self, data: LMap) -> tuple[RichText, ...]:
        out = []
        for item, pos in self.items(data, "bestPractice"):
            if isinstance(item, dict) and isinstance(item.get("text"), (str, int, float)):
                item = item["text"]
            if isinstance(item, (dict, list)):
                self.err(pos, "each best practice must be text")
            elif item is not None and self.rich(item):
                out.append(self.rich(item))
        return tuple(out)

    def paragraph(self, data: LMap, key: str) -> RichText | None:
        """A text field that pages write as one string or as a list of lines."""
        value = data.get(key)
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            value = " ".join(str(v) for v in value)
        elif value is not None and not isinstance(value, (str, int, float)):
            self.err(data.where(key), f"'{key}' must be text")
            return None
        text = self.rich(value) if value is not None else None
        return text or None

    # -- activities ---------------------------------------------------------------
    def activities(self, data: LMap) -> list[Activity]:
        acts: list[Activity] = []
        if "activities" in data:
            self._activity_list(data.get("activities"), data.where("activities"), None, acts)
        for item, pos in self.items(data, "activitiesGroups"):
            if not isinstance(item, dict):
                self.err(pos, "each of 'activitiesGroups' must be a mapping with 'group' "
                              "and 'activities'")
                continue
            group = self.rich(item.get("group")) if item.get("group") is not None else None
            before = len(acts)
            group = self._activity_list(item.get("activities"), item.where("activities"),
                                        group, acts)
            if len(acts) == before and not item.duplicates and \
                    isinstance(item.get("activities"), (list, type(None))):
                title = f" {group.plain[:60]!r}" if group else ""
                self.warn(pos, f"activities group{title} lists no activities; it appears "
                               "in no document")
            for dup in item.duplicates:
                if dup.key == "activities" and _has_group_marker(item):
                    # Continuation of a group whose title was mis-indented (see _activity_list).
                    group = self._activity_list(dup.value, dup.second, group, acts)
        return acts

    def _activity_list(self, value: Any, pos: Pos, group: RichText | None,
                       acts: list[Activity]) -> RichText | None:
        """Append the activities of ``value``; return the group in force at the end.

        An item holding only ``group:`` is a group title indented into the list
        above it: the activities that follow belong to that new group.
        """
        if value is None:
            return group
        if not isinstance(value, list):
            self.err(pos, f"'activities' must be a list, not a {_kind(value)}")
            return group
        for item, ipos in zip(value, value.item_pos):
            if isinstance(item, dict) and "group" in item and "text" not in item:
                group = self.rich(item.get("group"))
                self.warn(ipos, f"activities group {group.plain[:60]!r} is indented inside "
                                "the previous group's list; read as a new group with the "
                                "activities that follow it")
                if "activities" in item:
                    group = self._activity_list(item["activities"], item.where("activities"),
                                                group, acts)
                continue
            if isinstance(item, dict):
                text = item.get("text")
                if not isinstance(text, (str, int, float)):
                    self.err(ipos, "each activity needs a 'text'")
                    continue
                parties = self.parties(item.get("responsibleParty"),
                                       item.where("responsibleParty"), "activity")
            elif isinstance(item, (str, int, float)):
                text, parties = item, ()
            else:
                self.err(ipos, "each activity must be a mapping with 'text'")
                continue
            acts.append(Activity(len(acts) + 1, self.rich(text), parties, group, self.src(ipos)))
        return group

    # -- pages -------------------------------------------------------------------
    def key_task(self, data: LMap) -> KeyTask | None:
        for key in REQUIRED_KEY_TASK_FIELDS:
            if data.get(key) in (None, ""):
                self.err(data.pos, f"missing required field '{key}'")
        phase, number = self.integer(data, "phase"), self.integer(data, "keyTask")
        name, objective = self.text(data, "name"), self.text(data, "objective")
        category = canonical_category(self.text(data, "category"))
        if category is not None and category not in WORKSTREAMS:
            self.warn(data.where("category"), f"unknown category {category!r} (expected one of "
                                              f"{', '.join(WORKSTREAMS)})")
        parties = self.parties(data.get("responsibleParty"), data.where("responsibleParty"),
                               "key task")
        intro = self.paragraph(data, "activitiesText")
        permalink = self.text(data, "permalink")
        kt = KeyTask(
            phase=phase if phase is not None else -1, number=number if number is not None else -1,
            name=self.rich(name).plain if name else "", objective=self.rich(objective),
            category=category, parties=parties, activities=tuple(self.activities(data)),
            inputs=self.docrefs(data, "inputs"), outputs=self.docrefs(data, "outputs"),
            stakeholders=self.stakeholders(data), best_practices=self.best_practices(data),
            activities_text=intro,
            permalink=permalink.strip() if permalink else None, source=self.src(data.pos))
        self.duplicates(data, allow=("activities",), top=True)
        if any(d.is_error for d in self.diags):
            return None
        return kt

    def duplicates(self, value: Any, allow: tuple[str, ...] = (), top: bool = False) -> None:
        """Every duplicate key is an error, except the one documented repair."""
        if isinstance(value, LMap):
            for dup in value.duplicates:
                repaired = dup.key in allow and not top and _has_group_marker(value)
                if not repaired:
                    self.err(dup.second, f"duplicate key '{dup.key}' (first at line "
                                         f"{dup.first.line}); the second value would win silently")
            for v in value.values():
                self.duplicates(v, allow)
            for d in value.duplicates:
                self.duplicates(d.value, allow)
        elif isinstance(value, list):
            for v in value:
                self.duplicates(v, allow)

    def phase(self, data: LMap) -> Phase | None:
        number, name = self.integer(data, "phase"), self.text(data, "name")
        if number is None:
            self.err(data.pos, "missing required field 'phase'")
        docs = []
        for item, pos in self.items(data, "documentation"):
            if isinstance(item, dict) and item.get("name") is not None:
                fname, title = item.get("filename"), self.rich(item["name"])
                docs.append(PhaseDocument(title, str(fname).strip() if fname else
                                          linked_file(title, OFFICE_EXTENSIONS)))
        exits = tuple(self.rich(i.get("name") if isinstance(i, dict) else i).plain
                      for i, _ in self.items(data, "exitCriteria"))
        self.duplicates(data)
        if number is None or any(d.is_error for d in self.diags):
            return None
        return Phase(number, self.rich(name).plain if name else default_phase_name(number),
                     self.rich(self.text(data, "objective")), self.text(data, "permalink"),
                     tuple(docs), exits, self.src(data.pos))

    def glossary(self, data: LMap) -> tuple[GlossaryTerm, ...]:
        out = []
        for sec, _ in self.items(data, "sections"):
            if not isinstance(sec, dict):
                continue
            for term, _ in self.items(sec, "terms"):
                if isinstance(term, dict) and term.get("name"):
                    out.append(GlossaryTerm(str(sec.get("name", "")).strip(),
                                            str(term["name"]).strip(),
                                            self.rich(term.get("description")).plain))
        return tuple(out)


def _has_group_marker(data: LMap) -> bool:
    acts = data.get("activities")
    return isinstance(acts, list) and any(
        isinstance(i, dict) and "group" in i and "text" not in i for i in acts)


def _kind(value: Any) -> str:
    return {dict: "mapping", LMap: "mapping", list: "list", LList: "list"}.get(
        type(value), type(value).__name__)


# -- finding and reading files ------------------------------------------------------

def find_pages(path: Path) -> list[_Page]:
    """The pages under ``path``: a repository root, its m3 folder, a folder or a file."""
    if path.is_file():
        return [_Page(str(path), "")]
    if not path.is_dir():
        raise M3DocsError([error(str(path), 0, 0, "no such playbook file or folder")])
    for root in (path / "_pages" / "m3", path / "m3", path):
        if (root / "keyTask").is_dir() or (root / "phase").is_dir():
            return _pages_in_m3(root)
    return [_Page(str(p), "") for p in sorted(path.rglob("*")) if _is_page(p)]


def _pages_in_m3(root: Path) -> list[_Page]:
    pages = [_Page(str(p), "keyTask") for p in sorted((root / "keyTask").rglob("*")) if _is_page(p)]
    pages += [_Page(str(p), "phase") for p in sorted((root / "phase").rglob("*")) if _is_page(p)]
    pages += [_Page(str(p), "") for p in sorted(root.glob("*")) if _is_page(p)]
    return pages


def _is_page(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in PAGE_SUFFIXES and not p.name.startswith(".")


def read_front_matter(path: str) -> Any:
    """The YAML data of one page: front matter of a page, or a whole YAML file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise YamlError(error(path, 0, 0, f"cannot read: {exc.strerror or exc}"))
    text = decode(data, path)
    if Path(path).suffix.lower() in (".yaml", ".yml") and not text.lstrip().startswith("---\n"):
        return parse(text, path)
    if not text.strip():
        raise YamlError(error(path, 1, 1, "empty file"))
    fm, offset = split_front_matter(text, path)
    return parse(fm, path, offset)


def _looks_like_m3_page(path: str) -> bool:
    """Whether an unparsable page outside keyTask/ and phase/ claims to be an M3 page."""
    try:
        head = Path(path).read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return True
    return bool(re.search(r"^\s*(layout:\s*m3/|keyTask:|sections:)", head, re.M))


def _classify(page: _Page, data: LMap) -> str:
    layout = str(data.get("layout") or "").lower()
    for kind in ("keytask", "phase", "glossary"):
        if layout.endswith(kind):
            return {"keytask": "keyTask"}.get(kind, kind)
    if layout and "keyTask" not in data and "phase" not in data:
        return ""  # another kind of page (an index, a landing page) kept beside them
    if page.kind:
        return page.kind
    if "keyTask" in data:
        return "keyTask"
    if "sections" in data and "glossary" in Path(page.path).name.lower():
        return "glossary"
    return ""


def check_playbook(path: str | Path | None = None, base_url: str = DEFAULT_BASE_URL
                   ) -> tuple[Playbook | None, list[Diagnostic]]:
    """Load a playbook, returning it (None on errors) with every diagnostic found."""
    root = Path(path).expanduser() if path is not None else bundled_playbook_path()
    try:
        pages = find_pages(root)
    except M3DocsError as exc:
        return None, exc.diagnostics
    diags: list[Diagnostic] = []
    key_tasks: list[KeyTask] = []
    phases: dict[int, Phase] = {}
    glossary: tuple[GlossaryTerm, ...] = ()
    seen: dict[str, str] = {}
    single = root.is_file()
    for page in pages:
        try:
            data = read_front_matter(page.path)
        except YamlError as exc:
            if single or page.kind or _looks_like_m3_page(page.path):
                diags.append(exc.diagnostic)
            continue
        if not isinstance(data, LMap):
            if single or page.kind:
                diags.append(error(page.path, 1, 1, "front matter must be a mapping of fields"))
            continue
        kind = "keyTask" if single and not _classify(page, data) else _classify(page, data)
        reader = _Reader(page.path, base_url)
        if kind == "keyTask":
            kt = reader.key_task(data)
            if kt is not None:
                if kt.id in seen:
                    reader.err(data.pos, f"duplicate key task id {kt.id} (also in {seen[kt.id]})")
                else:
                    seen[kt.id] = page.path
                    key_tasks.append(kt)
        elif kind == "phase":
            ph = reader.phase(data)
            if ph is not None:
                phases[ph.number] = ph
        elif kind == "glossary":
            glossary = reader.glossary(data)
        diags.extend(reader.diags)
    if phases:
        for kt in key_tasks:
            if kt.phase not in phases and kt.source:
                diags.append(warning(kt.source.path, kt.source.line, 1,
                                     f"key task {kt.id}: phase {kt.phase} has no phase page"))
    if not key_tasks and not any(d.is_error for d in diags):
        diags.append(error(str(root), 0, 0, "no key-task pages found"))
    if any(d.is_error for d in diags):
        return None, diags
    key_tasks.sort(key=lambda k: k.sort_key)
    numbers = sorted(set(phases) | {kt.phase for kt in key_tasks})
    book = Playbook(tuple(phases.get(n) or Phase(n, default_phase_name(n)) for n in numbers),
                    tuple(key_tasks), glossary, base_url, str(root),
                    tuple(d for d in diags if not d.is_error))
    return book, diags


def load_playbook(path: str | Path | None = None, base_url: str = DEFAULT_BASE_URL) -> Playbook:
    """Load a playbook; raise M3DocsError listing every problem if any page is bad."""
    book, diags = check_playbook(path, base_url)
    if book is None:
        raise M3DocsError(diags)
    return book
