"""The tag language core: tags read, checked one by one, blocks, sandbox, undefined names."""
from __future__ import annotations

import pytest

from m3docs.engine.core import (Place, RenderRecord, TemplateProblems, check_tags,
                                compile_source, literal, make_environment, parse_tag,
                                render_recorded, unescape)

ENV = make_environment()


def at(where: str) -> Place:
    return Place("t.docx", "word/document.xml", where)


def located(texts: list[str]) -> list[str]:
    tags = [(parse_tag(t), at(f"paragraph {i}")) for i, t in enumerate(texts, 1)]
    return [str(d) for d in check_tags(ENV, tags)]


@pytest.mark.parametrize("text, level, body", [
    ("{%p for a in x %}", "p", "for a in x"), ("{%tr endfor %}", "tr", "endfor"),
    ("{{r a.text }}", "r", "a.text"), ("{{ r }}", "", "r"), ("{#tc note #}", "tc", "note"),
    ("{%- if x -%}", "", "if x"), ("{{p para }}", "p", "para")])
def test_tags_read_their_level_and_body(text, level, body):
    tag = parse_tag(text)
    assert (tag.level, tag.body) == (level, body)


def test_three_errors_in_three_places_in_one_run():
    lines = located(["{{ agency ) }}", "{% if x %}", "{{ program }}", "{% for a in %}",
                     "{% endif %}", "{{ 'a' ~ }}"])
    assert len(lines) == 3, lines
    assert lines[0] == ("t.docx: word/document.xml: paragraph 1: error: unexpected ')' in "
                        "{{ agency ) }}")
    assert lines[1].startswith("t.docx: word/document.xml: paragraph 4: error: ")
    assert lines[1].endswith(" in {% for a in %}")
    assert lines[2].startswith("t.docx: word/document.xml: paragraph 6: error: ")


def test_blocks_must_close_in_order():
    lines = located(["{%p for a in x %}", "{% if y %}", "{%p endfor %}"])
    assert lines == ["t.docx: word/document.xml: paragraph 2: error: {% if y %} is never closed "
                     "(expected {% endif %} before {%p endfor %} at paragraph 3)"]
    assert located(["{% endif %}"]) == [
        "t.docx: word/document.xml: paragraph 1: error: {% endif %} closes no open {% if %}"]
    assert "never closed" in located(["{%tr for r in rows %}"])[0]
    assert located(["{% if a %}", "{% elif b %}", "{% else %}", "{% endif %}"]) == []
    assert "outside" in located(["{% else %}"])[0]


@pytest.mark.parametrize("text", ["{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}",
                                  "{{ x|attr('__class__') }}", "{{ x['__dict__'] }}",
                                  "{% for c in ().__class__.__base__.__subclasses__() %}{% endfor %}"])
def test_python_internals_are_refused_before_anything_runs(text):
    (line,) = located([text.replace("{% endfor %}", "")]) if "endfor" not in text else \
        located(text.replace("%}{%", "%}\0{%").split("\0"))
    assert "refused" in line and "Python internals" in line


def test_sandbox_refuses_at_run_time_what_no_check_sees():
    compiled = compile_source(ENV, "{{ x.mro() }}", lambda n: at(f"line {n}"))
    with pytest.raises(TemplateProblems, match="refused"):
        render_recorded(compiled, {"x": int}, RenderRecord(), at("paragraph 1"))


def test_values_are_escaped_and_undefined_names_recorded():
    compiled = compile_source(ENV, "{{ a }}|{{ b.c }}|{% for x in z %}{{ x }}{% endfor %}|{{ n }}",
                              lambda n: at(f"line {n}"))
    record = RenderRecord()
    out = render_recorded(compiled, {"a": "R&D <x>", "n": 3}, record, at("paragraph 1"))
    assert out == "R&amp;D &lt;x&gt;|||3"
    assert record.warnings() == ["undefined in the context (rendered empty): b, z"]
    assert compiled.names == {"a", "b", "z", "n"}


def test_syntax_errors_left_to_the_compiler_are_located_by_line():
    with pytest.raises(TemplateProblems) as info:
        compile_source(ENV, "ok\n{{ a }\n", lambda n: at(f"line {n}"))
    assert "line 2" in str(info.value)


def test_escaped_delimiters_are_literal():
    compiled = compile_source(ENV, literal("{_{ agency }_} {_% x %_}"), lambda n: at("p"))
    assert compiled.render({"agency": "A"}) == "{{ agency }} {% x %}"
    assert unescape("{_{x}_}") == "{{x}}"
