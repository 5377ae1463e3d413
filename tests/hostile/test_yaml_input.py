"""Class 1: broken and hostile YAML in playbook pages (front matter) and engagement files."""
from __future__ import annotations

from pathlib import Path

import pytest

from m3docs.engagement import load_engagement
from m3docs.errors import M3DocsError
from m3docs.playbook.loader import check_playbook, load_playbook
from m3docs import yamlsrc

from .conftest import (CORPUS, ENGAGEMENT, KEY_TASK, assert_error, errors_of, page_text, peak_bytes,
                       snapshot)


def check(root: Path):
    """check_playbook, asserting nothing was written and load_playbook agrees."""
    before = snapshot(root)
    book, diags = check_playbook(root)
    if errors_of(diags):
        assert book is None
        with pytest.raises(M3DocsError) as info:
            load_playbook(root)
        assert [str(d) for d in info.value.diagnostics] == [str(d) for d in diags]
    assert snapshot(root) == before
    return book, diags


def engagement_error(path: Path) -> M3DocsError:
    before = snapshot(path.parent)
    with pytest.raises(M3DocsError) as info:
        load_engagement(path)
    assert snapshot(path.parent) == before
    return info.value


def bomb(levels: int = 6, width: int = 10) -> str:
    """Billion-laughs YAML: each level lists the previous one ``width`` times."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# -- syntax errors -------------------------------------------------------------------

def test_valid_page_loads(write_page, playbook_dir):
    write_page("1.2.md", page_text(KEY_TASK))
    book, diags = check(playbook_dir)
    assert book is not None and not errors_of(diags)
    assert [a.text.plain for a in book.key_tasks[0].activities] == ["Do one", "Do two"]


def test_syntax_error_in_front_matter_names_line(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK.replace("objective: Draft the things.",
                                                           "objective: Draft: the: things")))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 6, "YAML syntax", col=17)


def test_syntax_error_deep_in_front_matter(write_page, playbook_dir):
    bad = KEY_TASK.replace("    responsibleParty: provider", "   responsibleParty: provider")
    path = write_page("1.2.md", page_text(bad))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 12, "YAML syntax")


def test_syntax_error_in_engagement_file(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace("  provider: Pat Provider", " provider: Pat Provider"))
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 7, "YAML syntax")


def test_unclosed_front_matter(write_page, playbook_dir):
    path = write_page("1.2.md", "---\n" + KEY_TASK + "Body without a closing line\n")
    _, diags = check(playbook_dir)
    assert_error(diags, path, 14, "not closed")


# -- duplicate keys ----------------------------------------------------------------

def test_duplicate_top_level_key_names_both_lines(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "name: A Second Name\n"))
    _, diags = check(playbook_dir)
    d = assert_error(diags, path, 13, "duplicate key 'name'")
    assert "line 5" in d.message


def test_duplicate_key_inside_activity(write_page, playbook_dir):
    bad = KEY_TASK.replace("  - text: Do two\n", "  - text: Do two\n    text: Do two again\n")
    path = write_page("1.2.md", page_text(bad))
    _, diags = check(playbook_dir)
    d = assert_error(diags, path, 12, "duplicate key 'text'")
    assert "line 11" in d.message


def test_duplicate_activities_at_top_level_is_an_error(write_page, playbook_dir):
    """The documented repair applies inside an activities group only."""
    extra = "activities:\n  - group: Later\n  - text: Do three\n    responsibleParty: shared\n"
    path = write_page("1.2.md", page_text(KEY_TASK + extra))
    _, diags = check(playbook_dir)
    d = assert_error(diags, path, 13, "duplicate key 'activities'", count=None)
    assert "line 8" in d.message


def test_duplicate_key_in_engagement(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT + "agency: Another Agency\n")
    exc = engagement_error(path)
    d = assert_error(exc.diagnostics, path, 13, "duplicate key 'agency'")
    assert "line 1" in d.message


MISINDENTED_GROUP = """\
layout: m3/keyTask
phase: 2
keyTask: 1
name: Select Provider
objective: Pick one.
activitiesGroups:
  - group: 'First <b>group</b>:'
    activities:
    - text: Engage the QSMO
      responsibleParty: customer
    - text: Draft the workbook
      responsibleParty: customer

    - group: 'Second group:'
    activities:
    - text: Draft the RFP
      responsibleParty: customer
    - text: Select the provider
      responsibleParty: [customer, provider]
"""


def test_misindented_activities_group_is_the_one_repair(write_page, playbook_dir):
    path = write_page("2.1.md", page_text(MISINDENTED_GROUP))
    book, diags = check(playbook_dir)
    assert not errors_of(diags), [str(d) for d in diags]
    warns = [d for d in diags if d.severity == "warning" and "indented" in d.message]
    assert len(warns) == 1 and warns[0].path == str(path) and warns[0].line == 15
    acts = book.key_tasks[0].activities
    assert [(a.group.plain, a.text.plain) for a in acts] == [
        ("First group:", "Engage the QSMO"), ("First group:", "Draft the workbook"),
        ("Second group:", "Draft the RFP"), ("Second group:", "Select the provider")]


def test_misindented_group_with_another_duplicate_is_an_error(write_page, playbook_dir):
    bad = MISINDENTED_GROUP + "    group: 'A third title'\n"
    path = write_page("2.1.md", page_text(bad))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 21, "duplicate key 'group'")


@pytest.mark.skipif(not (CORPUS / "_pages/m3/keyTask/2.1.md").is_file(),
                    reason="shared M3 corpus not present")
def test_corpus_page_2_1_repair_is_a_warning():
    path = CORPUS / "_pages/m3/keyTask/2.1.md"
    book, diags = check_playbook(path)
    assert book is not None and not errors_of(diags)
    assert [d.line for d in diags if "indented" in d.message] == [26]
    groups = [a.group.plain.split(" ")[0] for a in book.key_tasks[0].activities]
    assert groups == ["In"] * 4 + ["Commercial"] * 4


# -- bombs, depth, size ----------------------------------------------------------------

def test_alias_bomb_in_front_matter_refused_with_bounded_memory(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + bomb()))
    result = {}
    peak = peak_bytes(lambda: result.update(out=check_playbook(playbook_dir)))
    book, diags = result["out"]
    assert book is None
    assert_error(diags, path, 18, "alias bomb")
    assert peak < 5 * 1024 * 1024, f"peak {peak} bytes while refusing a bomb"


def test_alias_bomb_in_engagement_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace("status:", "scope:\n  x: 1\nstatus:") .split("scope:")[0]
                    + "templates:\n" + "".join("  " + ln + "\n" for ln in bomb().splitlines()))
    box = {}

    def load():
        with pytest.raises(M3DocsError) as info:
            load_engagement(path)
        box["exc"] = info.value
    peak = peak_bytes(load)
    assert "alias bomb" in str(box["exc"]) and box["exc"].diagnostics[0].path == str(path)
    assert peak < 5 * 1024 * 1024


def test_recursive_alias_refused(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "loop: &loop [1, *loop]\n"))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "recursive alias")


def test_deep_nesting_within_stack(write_page, playbook_dir):
    deep = "extra: " + "[" * 80 + "]" * 80 + "\n"
    path = write_page("1.2.md", page_text(KEY_TASK + deep))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "nested deeper")


def test_deep_nesting_past_python_stack(write_page, playbook_dir):
    deep = "extra: " + "[" * 20000 + "]" * 20000 + "\n"
    path = write_page("1.2.md", page_text(KEY_TASK + deep))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "nested deeper")


def test_file_over_size_limit(write_page, playbook_dir):
    big = KEY_TASK + "bestPractice:\n" + "  - " + "x" * (yamlsrc.MAX_FILE_BYTES + 10) + "\n"
    path = write_page("1.2.md", page_text(big))
    _, diags = check(playbook_dir)
    d = assert_error(diags, path, 1, "over the limit")
    assert "M3DOCS_MAX_YAML_BYTES" in d.message


def test_size_limit_env_var_lowers_and_raises(write_page, playbook_dir, monkeypatch):
    path = write_page("1.2.md", page_text(KEY_TASK))
    monkeypatch.setenv("M3DOCS_MAX_YAML_BYTES", "100")
    _, diags = check(playbook_dir)
    assert_error(diags, path, 1, "limit of 100")
    monkeypatch.setenv("M3DOCS_MAX_YAML_BYTES", str(10 * 1024 * 1024))
    big = KEY_TASK + "bestPractice:\n  - " + "y" * (6 * 1024 * 1024) + "\n"
    write_page("1.2.md", page_text(big))
    book, diags = check(playbook_dir)
    assert book is not None and len(book.key_tasks[0].best_practices[0].plain) == 6 * 1024 * 1024


def test_size_limit_env_var_garbage_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT)
    monkeypatch.setenv("M3DOCS_MAX_YAML_BYTES", "lots")
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 1, "whole number")


# -- encodings and line ends -----------------------------------------------------------

def test_non_utf8_byte_names_line_and_column(write_page, playbook_dir):
    raw = page_text(KEY_TASK).encode().replace(b"Do two", b"Do tw\xe9")
    path = write_page("1.2.md", raw)
    _, diags = check(playbook_dir)
    d = assert_error(diags, path, 11, "not valid UTF-8", col=16)
    assert "0xe9" in d.message


def test_non_utf8_in_engagement(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_bytes(ENGAGEMENT.encode().replace(b"Ann Customer", b"Ann Cust\xffmer"))
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 6, "not valid UTF-8", col=21)


def test_utf8_encoded_surrogate_bytes_refused(write_page, playbook_dir):
    raw = page_text(KEY_TASK).encode().replace(b"Do one", b"Do \xed\xa0\x80one")
    path = write_page("1.2.md", raw)
    _, diags = check(playbook_dir)
    assert_error(diags, path, 9, "not valid UTF-8", col=14)


def test_bom_is_accepted_and_positions_unchanged(write_page, playbook_dir):
    bad = KEY_TASK + "name: Again\n"
    path = write_page("1.2.md", b"\xef\xbb\xbf" + page_text(bad).encode())
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "duplicate key 'name'", col=1)
    write_page("1.2.md", b"\xef\xbb\xbf" + page_text(KEY_TASK).encode())
    book, _ = check(playbook_dir)
    assert book.key_tasks[0].name == "Draft Things"


def test_bom_in_engagement(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + ENGAGEMENT.encode())
    assert load_engagement(path).agency == "Department of Tests"


def test_crlf_line_ends_keep_positions(write_page, playbook_dir):
    bad = KEY_TASK.replace("Draft the things.", "Draft: the: things")
    path = write_page("1.2.md", page_text(bad).replace("\n", "\r\n").encode())
    _, diags = check(playbook_dir)
    assert_error(diags, path, 6, "YAML syntax", col=17)
    write_page("1.2.md", page_text(KEY_TASK).replace("\n", "\r\n").encode())
    book, _ = check(playbook_dir)
    kt = book.key_tasks[0]
    assert [a.text.plain for a in kt.activities] == ["Do one", "Do two"]
    assert kt.activities[1].source.line == 11
    assert "\r" not in kt.objective.plain


def test_crlf_engagement_positions(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_bytes(ENGAGEMENT.replace("status: G", "status: Q").replace("\n", "\r\n").encode())
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 11, "not one of B, G, Y, R, P")


def test_old_mac_cr_line_ends(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "name: Twice\n").replace("\n", "\r").encode())
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "duplicate key 'name'")


def test_tab_indentation_is_a_syntax_error_at_its_line(write_page, playbook_dir):
    bad = KEY_TASK.replace("    responsibleParty: provider", "\tresponsibleParty: provider")
    path = write_page("1.2.md", page_text(bad))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 12, "YAML syntax")


def test_tab_inside_a_value_is_kept(write_page, playbook_dir):
    write_page("1.2.md", page_text(KEY_TASK.replace("Draft the things.", '"Draft\\tthe things."')))
    book, _ = check(playbook_dir)
    assert book.key_tasks[0].objective.runs[0].text == "Draft the things."  # whitespace collapsed


# -- shape of the file -----------------------------------------------------------------

def test_page_without_front_matter(write_page, playbook_dir):
    path = write_page("1.2.md", "# Just a heading\n\nNo front matter here.\n")
    _, diags = check(playbook_dir)
    assert_error(diags, path, 1, "no front matter")


def test_empty_page(write_page, playbook_dir):
    path = write_page("1.2.md", b"")
    _, diags = check(playbook_dir)
    assert_error(diags, path, 1, "empty")


def test_whitespace_only_page(write_page, playbook_dir):
    path = write_page("1.2.md", "\n   \n\t\n")
    _, diags = check(playbook_dir)
    assert_error(diags, path, 1, "empty")


def test_empty_engagement_file(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_bytes(b"")
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 1, "mapping")


def test_front_matter_is_a_list(write_page, playbook_dir):
    path = write_page("1.2.md", page_text("- phase: 1\n- keyTask: 2\n"))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 1, "must be a mapping")


def test_engagement_is_a_list(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text("- agency: A\n- program: B\n")
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 1, "must be a mapping")


def test_merge_key_refused(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "base: &b {x: 1}\nmore:\n  <<: *b\n"))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 15, "merge keys")


def test_mapping_as_key_refused(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "? [a, b]\n: c\n"))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "keys must be scalars")


def test_python_scalar_tag_refused(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK + "x: !!python/name:os.system\n"))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 13, "bad value")


def test_python_object_tag_never_executed(write_page, playbook_dir):
    marker = playbook_dir / "PWNED"
    write_page("1.2.md", page_text(
        KEY_TASK + f"x: !!python/object/apply:os.system ['touch {marker}']\n"))
    check(playbook_dir)
    assert not marker.exists()


# -- wrong field types, parties, required fields ------------------------------------------

WRONG_TYPES = [  # (id, replace this line of KEY_TASK (or "" to append), with, line, message)
    ("phase", "phase: 1", "phase: three", 3, "whole number"),
    ("phase-bool", "phase: 1", "phase: true", 3, "whole number"),
    ("keyTask", "keyTask: 2", "keyTask: [2]", 4, "whole number"),
    ("name", "name: Draft Things", "name: {first: Draft}", 5, "must be text"),
    ("objective", "objective: Draft the things.", "objective: [a, b]", 6, "must be text"),
    ("activities", "activities:\n  - text: Do one\n    responsibleParty: customer\n"
     "  - text: Do two\n    responsibleParty: provider", "activities: 5", 8, "must be a list"),
    ("activity-item", "  - text: Do two\n    responsibleParty: provider", "  - [Do, two]", 11,
     "activity must be a mapping"),
    ("activity-no-text", "  - text: Do two\n", "  - responsibleParty: customer\n  - text: Do two\n",
     11, "needs a 'text'"),
    ("inputs", "", "inputs: {a: 1}", 13, "must be a list"),
    ("outputs-item", "", "outputs:\n  - [nested, list]", 14, "must be text or"),
    ("stakeholders-item", "", "stakeholders:\n  - [a, b]", 14, "stakeholder must be"),
    ("bestPractice-item", "", "bestPractice:\n  - {a: b}", 14, "best practice must be text"),
    ("filename", "", "inputs:\n  - text: A doc\n    filename: [x.docx]", 15,
     "'filename' must be text"),
    ("group-not-mapping", "", "activitiesGroups:\n  - just text", 14, "must be a mapping"),
]


@pytest.mark.parametrize("field,old,new,line,message", WRONG_TYPES,
                         ids=[w[0] for w in WRONG_TYPES])
def test_wrong_type_for_field(write_page, playbook_dir, field, old, new, line, message):
    if old:
        assert KEY_TASK.count(old) == 1
        fm = KEY_TASK.replace(old, new)
    else:
        fm = KEY_TASK + new + "\n"
    path = write_page("1.2.md", page_text(fm))
    _, diags = check(playbook_dir)
    assert_error(diags, path, line, message)


UNKNOWN_PARTIES = [
    ("key-task", "\nresponsibleParty: customer", "\nresponsibleParty: agency", 7),
    ("activity", "    responsibleParty: provider", "    responsibleParty: vendor", 12),
    ("activity-list", "    responsibleParty: provider", "    responsibleParty: [provider, cio]", 12),
]


@pytest.mark.parametrize("where,old,new,line", UNKNOWN_PARTIES, ids=[u[0] for u in UNKNOWN_PARTIES])
def test_unknown_party(write_page, playbook_dir, where, old, new, line):
    path = write_page("1.2.md", page_text(KEY_TASK.replace(old, new)))
    _, diags = check(playbook_dir)
    assert_error(diags, path, line, "unknown party")


def test_unknown_party_in_stakeholder(write_page, playbook_dir):
    fm = KEY_TASK + "stakeholders:\n  - text: Sponsor\n    responsibleParty:\n      - customer\n      - contractor\n"
    path = write_page("1.2.md", page_text(fm))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 17, "unknown party 'contractor'")


def test_duplicate_key_task_ids_across_files_names_both(write_page, playbook_dir):
    first = write_page("1.2.md", page_text(KEY_TASK))
    second = write_page("1.2-copy.md", page_text(KEY_TASK.replace("Draft Things", "Copy")))
    _, diags = check(playbook_dir)
    errs = errors_of(diags)
    assert len(errs) == 1
    d = errs[0]
    assert {d.path, } <= {str(first), str(second)}
    other = str(second) if d.path == str(first) else str(first)
    assert "duplicate key task id 1.2" in d.message and other in d.message


@pytest.mark.parametrize("field", ["name", "phase", "keyTask", "objective"])
def test_missing_required_field(write_page, playbook_dir, field):
    fm = "\n".join(ln for ln in KEY_TASK.splitlines() if not ln.startswith(field + ":")) + "\n"
    path = write_page("1.2.md", page_text(fm))
    _, diags = check(playbook_dir)
    assert_error(diags, path, 2, f"missing required field '{field}'")


def test_impossible_date_in_yaml_scalar(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace("as_of: 2026-11-24", "as_of: 2026-02-30"))
    exc = engagement_error(path)
    assert_error(exc.diagnostics, path, 4, "2026-02-30")


def test_errors_in_many_pages_all_reported(write_page, playbook_dir):
    a = write_page("1.1.md", page_text(KEY_TASK.replace("keyTask: 2", "keyTask: 1") + "name: X\n"))
    b = write_page("1.2.md", "no front matter\n")
    c = write_page("1.3.md", b"---\nname: \xff\n---\n")
    _, diags = check(playbook_dir)
    errs = errors_of(diags)
    assert {d.path for d in errs} == {str(a), str(b), str(c)}
