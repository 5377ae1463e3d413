"""The PowerPoint engine: decks built here with python-pptx, filled, read back."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Inches, Pt

from m3docs.engine.core import TemplateProblems
from m3docs.engine.pptx import PptxEngine, render_pptx
from m3docs.ooxml.package import Template
from m3docs.playbook.richtext import RichText, Run

ENGINE = PptxEngine()
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
TITLE_ONLY = 5  # python-pptx's default template: "Title Only" layout


def render(prs: Presentation, context: dict, name: str = "deck.pptx") -> tuple[Presentation,
                                                                                list[str]]:
    data, warnings = compile_deck(prs, name).render(context)
    return Presentation(io.BytesIO(data)), warnings


def compile_deck(prs: Presentation, name: str = "deck.pptx"):
    buf = io.BytesIO()
    prs.save(buf)
    return ENGINE.compile(Template(name, buf.getvalue()), name)


def texts(slide) -> list[str]:
    """Every paragraph's text on a slide, shapes in order (groups and tables included)."""
    out = []
    for shape in slide.shapes:
        out += shape_texts(shape)
    return out


def shape_texts(shape) -> list[str]:
    if shape.shape_type == 6:  # group
        return [t for s in shape.shapes for t in shape_texts(s)]
    if shape.has_table:
        return [c.text for row in shape.table.rows for c in row.cells]
    if shape.has_text_frame:
        return [p.text for p in shape.text_frame.paragraphs]
    return []


def table_rows(slide) -> list[list[str]]:
    table = next(s for s in slide.shapes if s.has_table).table
    return [[c.text for c in row.cells] for row in table.rows]


def titled(prs: Presentation, title: str):
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    slide.shapes.title.text = title
    return slide


def text_box(slide, lines: list[str], top: float = 1.5, name: str | None = None):
    box = slide.shapes.add_textbox(Inches(0.5), Inches(top), Inches(9), Inches(1))
    frame = box.text_frame
    frame.text = lines[0]
    for line in lines[1:]:
        frame.add_paragraph().text = line
    if name:
        box.name = name
    return box


def table(slide, rows: list[list[str]], top: float = 1.5, height: float = 0.4):
    shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(top),
                                   Inches(9), Inches(height * len(rows)))
    for r, row in enumerate(rows):
        shape.table.rows[r].height = Inches(height)
        for c, value in enumerate(row):
            cell = shape.table.cell(r, c)
            cell.text = value
            cell.text_frame.paragraphs[0].font.size = Pt(11)  # the end mark's size
            for run in cell.text_frame.paragraphs[0].runs:
                run.font.size = Pt(11)
    return shape


ACTIVITIES = [{"number": f"3.14.{n}", "text": f"Activity {n} text", "owner": f"Owner {n}"}
              for n in range(1, 4)]
CONTEXT = {"agency": "Department of Examples", "program": "Payroll Modernization",
           "key_tasks": [{"id": f"3.{n}", "name": f"Key task {n}", "activities": ACTIVITIES,
                          "objective": f"Objective {n}"} for n in (1, 2, 3)]}


# -- fields --------------------------------------------------------------------------------
def test_fields_fill_titles_bodies_tables_groups_and_notes():
    prs = Presentation()
    slide = titled(prs, "{{ agency }} status")
    text_box(slide, ["Program: {{ program }}", "plain line"], top=1.2)
    table(slide, [["Agency", "Program"], ["{{ agency }}", "{{ program|upper }}"]], top=2.5)
    group = slide.shapes.add_group_shape()
    inner = group.shapes.add_textbox(Inches(0.5), Inches(4.5), Inches(4), Inches(0.5))
    inner.text_frame.text = "Grouped: {{ agency }}"
    slide.notes_slide.notes_text_frame.text = "Say {{ program }} twice"
    out, warnings = render(prs, CONTEXT)
    got = out.slides[0]
    assert got.shapes.title.text == "Department of Examples status"
    all_text = texts(got)
    assert "Program: Payroll Modernization" in all_text and "plain line" in all_text
    assert table_rows(got)[1] == ["Department of Examples", "PAYROLL MODERNIZATION"]
    assert "Grouped: Department of Examples" in all_text
    assert got.notes_slide.notes_text_frame.text == "Say Payroll Modernization twice"
    assert warnings == []


def test_values_are_escaped_and_names_listed():
    prs = Presentation()
    titled(prs, "{{ agency }} & {{ program }}")
    compiled = compile_deck(prs)
    assert compiled.names == {"agency", "program"}
    data, _ = compiled.render({"agency": "<A&B>", "program": 'x"y'})
    assert Presentation(io.BytesIO(data)).slides[0].shapes.title.text == '<A&B> & x"y'


def test_text_xml_cannot_hold_is_removed_with_a_warning():
    prs = Presentation()
    titled(prs, "{{ agency }}")
    text_box(prs.slides[0], ["{{r rich }}"])
    out, warnings = render(prs, {"agency": "A\x01B\ufdd6S1\ufdd7",
                                 "rich": RichText((Run("x\x02y", url="https://e.gov/"),))})
    assert out.slides[0].shapes.title.text == "ABS1"
    assert out.slides[0].shapes[1].text_frame.text == "xy"
    assert len(warnings) == 2 and all("removed characters" in w for w in warnings)


def test_undefined_names_are_a_warning_naming_them():
    prs = Presentation()
    titled(prs, "{{ agency }} {{ missing_name }}")
    out, warnings = render(prs, {"agency": "X"})
    assert out.slides[0].shapes.title.text.strip() == "X"
    assert any("missing_name" in w for w in warnings)


def _split_title(prs: Presentation, pieces: list[str]):
    """A title whose text PowerPoint stored as several runs (as it does after edits)."""
    slide = titled(prs, pieces[0])
    p = slide.shapes.title.text_frame.paragraphs[0]
    for piece in pieces[1:]:
        run = p.add_run()
        run.text = piece
        run.font.bold = True
    return slide


def test_a_tag_split_across_runs_is_filled():
    prs = Presentation()
    _split_title(prs, ["Plan for {{ ag", "ency }} and {", "{ program }", "} now"])
    out, _ = render(prs, CONTEXT)
    title = out.slides[0].shapes.title.text_frame.paragraphs[0]
    assert title.text == "Plan for Department of Examples and Payroll Modernization now"
    assert title.runs[0].text.startswith("Plan for Department")  # the tag's first run keeps it


def test_trimmed_tags_merge_their_paragraph_with_the_previous_and_next():
    prs = Presentation()
    slide = titled(prs, "T")
    text_box(slide, ["My house is located ", "{%- if town -%}", "in urban area",
                     "{%- else -%}", "in countryside", "{%- endif -%}", " and I love it.",
                     "Next line"])
    for town, where in ((True, "in urban area"), (False, "in countryside")):
        got = texts(render(prs, {"town": town})[0].slides[0])
        assert got == ["T", f"My house is located {where} and I love it.", "Next line"]


def test_curly_quotes_typed_by_autocorrect_work_inside_tags():
    prs = Presentation()
    titled(prs, "{{ missing|default(\u201cnone yet\u201d) }} \u2018{{ agency }}\u2019")
    out, _ = render(prs, {"agency": "A"})
    assert out.slides[0].shapes.title.text == "none yet \u2018A\u2019"


SPLIT_TEXT = "Plan for {{ agency }}: {% if program %}{{ program|upper }}{% endif %}!"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, len(SPLIT_TEXT) - 1), max_size=8, unique=True))
def test_a_tag_split_anywhere_across_runs_renders_the_same(cuts):
    edges = [0] + sorted(cuts) + [len(SPLIT_TEXT)]
    pieces = [SPLIT_TEXT[a:b] for a, b in zip(edges, edges[1:])]
    prs = Presentation()
    _split_title(prs, pieces)
    out, _ = render(prs, CONTEXT)
    assert out.slides[0].shapes.title.text == (
        "Plan for Department of Examples: PAYROLL MODERNIZATION!")


def test_escaped_delimiters_are_literal():
    prs = Presentation()
    titled(prs, "write {_{ name }_} for {{ agency }}")
    out, _ = render(prs, CONTEXT)
    assert out.slides[0].shapes.title.text == "write {{ name }} for Department of Examples"


# -- paragraphs and rows -------------------------------------------------------------------
def test_paragraph_loops_repeat_paragraphs_and_drop_control_paragraphs():
    prs = Presentation()
    slide = titled(prs, "Tasks")
    text_box(slide, ["Before", "{%p for kt in key_tasks %}", "{{ kt.id }}: {{ kt.name }}",
                     "{%p endfor %}", "After"])
    text_box(slide, ["{%p for kt in nothing %}", "{{ kt }}", "{%p endfor %}"], top=4)
    out, _ = render(prs, {**CONTEXT, "nothing": []})
    assert texts(out.slides[0]) == ["Tasks", "Before", "3.1: Key task 1", "3.2: Key task 2",
                                    "3.3: Key task 3", "After", ""]


def test_row_loops_repeat_rows_and_drop_control_rows():
    prs = Presentation()
    slide = titled(prs, "Activities")
    table(slide, [["#", "Activity", "Owner"],
                  ["{%tr for a in key_tasks[0].activities %}", "", ""],
                  ["{{ a.number }}", "{{ a.text }}", "{{ a.owner }}"],
                  ["{%tr endfor %}", "", ""],
                  ["Total", "{{ key_tasks[0].activities|length }}", ""]])
    out, _ = render(prs, CONTEXT)
    assert table_rows(out.slides[0]) == [
        ["#", "Activity", "Owner"], ["3.14.1", "Activity 1 text", "Owner 1"],
        ["3.14.2", "Activity 2 text", "Owner 2"], ["3.14.3", "Activity 3 text", "Owner 3"],
        ["Total", "3", ""]]


def test_comment_rows_are_removed_and_column_loops_grow_the_grid():
    prs = Presentation()
    slide = titled(prs, "T")
    table(slide, [["Name", "{%tc for q in quarters %}", "{{ q }}", "{%tc endfor %}"],
                  ["{#tr a note for the author #}", "", "", ""],
                  ["{{ name }}", "{%tc for q in quarters %}", "{{ q }} done", "{%tc endfor %}"]])
    out, _ = render(prs, {"quarters": ["Q1", "Q2", "Q3"], "name": "Payroll"})
    shape = next(s for s in out.slides[0].shapes if s.has_table)
    assert table_rows(out.slides[0]) == [["Name", "Q1", "Q2", "Q3"],
                                         ["Payroll", "Q1 done", "Q2 done", "Q3 done"]]
    assert len(shape.table.columns) == 4


def test_cell_backgrounds_from_a_value():
    prs = Presentation()
    slide = titled(prs, "T")
    table(slide, [["Task", "Status"], ["{%tr for kt in tasks %}", ""],
                  ["{{ kt.id }}", "{% cellbg kt.color %}{{ kt.status }}"], ["{%tr endfor %}", ""]])
    tasks = [{"id": "3.1", "status": "G", "color": "2E8540"},
             {"id": "3.2", "status": "-", "color": ""}]
    out, warnings = render(prs, {"tasks": tasks})
    shape = next(s for s in out.slides[0].shapes if s.has_table)
    assert table_rows(out.slides[0])[1:] == [["3.1", "G"], ["3.2", "-"]]
    green, plain = shape.table.cell(1, 1), shape.table.cell(2, 1)
    assert str(green.fill.fore_color.rgb) == "2E8540"
    assert plain.fill.type is None  # the template cell's own (theme) fill
    assert warnings == []


def test_text_colours_and_shape_fills_from_values():
    """``{% textcolor %}`` colours a cell's or shape's text; ``{% cellbg %}`` outside a table
    fills its shape; an empty value keeps the template's colours."""
    prs = Presentation()
    slide = titled(prs, "T")
    table(slide, [["Task", "Status"], ["{%tr for kt in tasks %}", ""],
                  ["{{ kt.id }}", "{% cellbg kt.fill %}{% textcolor kt.ink %}{{ kt.status }}"],
                  ["{%tr endfor %}", ""]])
    box = text_box(slide, ["{% cellbg tile.fill %}{% textcolor tile.ink %}STATUS",
                           "{{ tile.label }}"], top=4, name="Tile")
    box.text_frame.paragraphs[1].runs[0].font.size = Pt(18)
    tasks = [{"id": "3.1", "status": "Y", "fill": "F2C037", "ink": "1F1F1F"},
             {"id": "3.2", "status": "-", "fill": "", "ink": ""}]
    out, warnings = render(prs, {"tasks": tasks, "tile": {"fill": "2E8540", "ink": "FFFFFF",
                                                          "label": "G (On track)"}})
    grid = next(s for s in out.slides[0].shapes if s.has_table).table
    assert table_rows(out.slides[0])[1:] == [["3.1", "Y"], ["3.2", "-"]]
    (run,) = grid.cell(1, 1).text_frame.paragraphs[0].runs
    assert str(run.font.color.rgb) == "1F1F1F" and str(grid.cell(1, 1).fill.fore_color.rgb) \
        == "F2C037"
    (plain,) = grid.cell(2, 1).text_frame.paragraphs[0].runs
    assert plain.font.color.type is None and grid.cell(2, 1).fill.type is None
    tile = next(s for s in out.slides[0].shapes if s.name == "Tile")
    assert [p.text for p in tile.text_frame.paragraphs] == ["STATUS", "G (On track)"]
    assert str(tile.fill.fore_color.rgb) == "2E8540"
    assert {str(r.font.color.rgb) for p in tile.text_frame.paragraphs for r in p.runs} == \
        {"FFFFFF"}
    assert tile.text_frame.paragraphs[1].runs[0].font.size == Pt(18)
    assert warnings == []


def test_word_merges_are_refused_in_a_deck():
    prs = Presentation()
    slide = titled(prs, "T")
    table(slide, [["A", "{% vm %}"]]).name = "Grid"
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert str(caught.value) == ("deck.pptx: ppt/slides/slide1.xml: slide 1, shape 'Grid', row 1, "
                                 "cell 2: error: {% vm %} is not supported in PowerPoint tables; "
                                 "merge the cells in the template")


LONG = [{"number": f"3.14.{n}", "text": ("A long activity description that wraps " * (n % 4 + 1)),
         "owner": "Owner"} for n in range(1, 41)]


def _long_deck() -> Presentation:
    prs = Presentation()
    slide = titled(prs, "Activities of {{ program }}")
    table(slide, [["#", "Activity", "Owner"], ["{%tr for a in acts %}", "", ""],
                  ["{{ a.number }}", "{{ a.text }}", "{{ a.owner }}"], ["{%tr endfor %}", "", ""],
                  ["End of the list", "", ""]], top=1.5, height=0.35)
    footer = slide.shapes.add_textbox(Inches(0.5), Inches(6.8), Inches(9), Inches(0.4))
    footer.text_frame.text = "Footer note"
    slide.notes_slide.notes_text_frame.text = "notes for {{ program }}"
    titled(prs, "Closing")
    return prs


def test_a_long_row_loop_continues_on_copies_of_its_slide():
    out, warnings = render(_long_deck(), {**CONTEXT, "acts": LONG})
    slides = list(out.slides)
    assert len(slides) >= 3
    body = [s for s in slides if s.shapes.title.text.startswith("Activities")]
    assert body[0].shapes.title.text == "Activities of Payroll Modernization"
    assert all(s.shapes.title.text == "Activities of Payroll Modernization (continued)"
               for s in body[1:])
    assert slides[-1].shapes.title.text == "Closing"
    numbers = []
    for s in body:
        rows = table_rows(s)
        assert rows[0] == ["#", "Activity", "Owner"]  # the header on every slide
        numbers += [r[0] for r in rows[1:] if r[0].startswith("3.14.")]
        frame = next(sh for sh in s.shapes if sh.has_table)
        footer = next(sh for sh in s.shapes if sh.has_text_frame and
                      sh.text_frame.text == "Footer note")
        assert frame.top + sum(r.height for r in frame.table.rows) <= footer.top
    assert numbers == [a["number"] for a in LONG]  # each row once, in order
    assert table_rows(body[-1])[-1][0] == "End of the list"
    assert all(table_rows(s)[-1][0] != "End of the list" for s in body[:-1])
    assert body[0].has_notes_slide and "Payroll" in body[0].notes_slide.notes_text_frame.text
    assert not any(s.has_notes_slide for s in body[1:])
    assert warnings == []


def test_two_long_tables_on_one_slide_continue_together():
    prs = Presentation()
    slide = titled(prs, "Two tables")
    for n, (left, name) in enumerate(((0.3, "acts"), (5.2, "more"))):
        shape = table(slide, [["#", "Text"], [f"{{%tr for a in {name} %}}", ""],
                              ["{{ a.number }}", "{{ a.text }}"], ["{%tr endfor %}", ""]])
        shape.left, shape.width = Inches(left), Inches(4.5)
        shape.table.columns[0].width, shape.table.columns[1].width = Inches(1), Inches(3.5)
    out, warnings = render(prs, {"acts": LONG, "more": LONG[:12]})
    slides = list(out.slides)
    assert len(slides) > 2 and warnings == []
    assert all(s.shapes.title.text == "Two tables (continued)" for s in slides[1:])
    shown = {0: [], 1: []}
    for s in slides:
        frames = sorted((sh for sh in s.shapes if sh.has_table), key=lambda f: f.left)
        for frame in frames:
            assert frame.top + sum(r.height for r in frame.table.rows) <= out.slide_height
            side = 0 if frame.left < Inches(5) else 1
            shown[side] += [r.cells[0].text for r in list(frame.table.rows)[1:]]
    assert shown[0] == [a["number"] for a in LONG]
    assert shown[1] == [a["number"] for a in LONG[:12]]


def test_a_box_above_the_table_that_fits_its_text_pushes_the_table_down():
    prs = Presentation()
    slide = titled(prs, "T")
    box = text_box(slide, ["{{ objective }}"], top=1.5)
    box.width, box.height = Inches(9), Inches(0.5)
    box.text_frame.word_wrap = True
    box.text_frame.auto_size = MSO_AUTO_SIZE.SHAPE_TO_FIT_TEXT
    table(slide, [["#"], ["{%tr for a in acts %}"], ["{{ a }}"], ["{%tr endfor %}"]], top=2.1)
    long_text = "An objective long enough to wrap over several lines of the box. " * 6
    out, _ = render(prs, {"objective": long_text, "acts": ["1", "2"]})
    got_box = out.slides[0].shapes[1]
    frame = next(s for s in out.slides[0].shapes if s.has_table)
    assert got_box.height > Inches(1)
    assert frame.top == Inches(2.1) + got_box.height - Inches(0.5)
    out, _ = render(prs, {"objective": "short", "acts": ["1", "2"]})
    assert next(s for s in out.slides[0].shapes if s.has_table).top == Inches(2.1)


def test_a_short_row_loop_stays_on_its_slide():
    out, _ = render(_long_deck(), {**CONTEXT, "acts": LONG[:3]})
    assert [s.shapes.title.text for s in out.slides] == ["Activities of Payroll Modernization",
                                                         "Closing"]


# -- slides --------------------------------------------------------------------------------
def _slide_loop_deck() -> Presentation:
    prs = Presentation()
    titled(prs, "{{ program }}")
    first = titled(prs, "{{ kt.id }} {{ kt.name }}")
    text_box(first, ["{%slide for kt in key_tasks %}"], top=6.5)
    text_box(first, ["{{ kt.objective }}"], top=2)
    first.notes_slide.notes_text_frame.text = "Notes on {{ kt.id }}"
    second = titled(prs, "Activities of {{ kt.id }}")
    table(second, [["#", "Activity"], ["{%tr for a in kt.activities %}", ""],
                   ["{{ a.number }}", "{{ a.text }}"], ["{%tr endfor %}", ""]])
    text_box(second, ["{%slide endfor %}"], top=6.5)
    titled(prs, "The end")
    return prs


def test_slide_loops_repeat_their_slides_per_item():
    out, _ = render(_slide_loop_deck(), CONTEXT)
    titles = [s.shapes.title.text for s in out.slides]
    assert titles == ["Payroll Modernization", "3.1 Key task 1", "Activities of 3.1",
                      "3.2 Key task 2", "Activities of 3.2", "3.3 Key task 3",
                      "Activities of 3.3", "The end"]
    slides = list(out.slides)
    assert texts(slides[3]) == ["3.2 Key task 2", "Objective 2"]  # control shape removed
    assert [s.notes_slide.notes_text_frame.text for s in slides[1:7:2]] == [
        "Notes on 3.1", "Notes on 3.2", "Notes on 3.3"]
    assert table_rows(slides[6])[1] == ["3.14.1", "Activity 1 text"]
    names = sorted(p.partname for p in out.part.package.iter_parts()
                   if "/slides/slide" in p.partname)
    assert names == sorted(f"/ppt/slides/slide{n}.xml" for n in range(1, 9))


def test_a_slide_loop_over_nothing_drops_its_slides_and_conditions_keep_slides():
    out, _ = render(_slide_loop_deck(), {**CONTEXT, "key_tasks": []})
    assert [s.shapes.title.text for s in out.slides] == ["Payroll Modernization", "The end"]
    prs = Presentation()
    titled(prs, "Always")
    maybe = titled(prs, "Maybe")
    text_box(maybe, ["{%slide if show %}"])
    text_box(maybe, ["{%slide endif %}"], top=3)
    assert [s.shapes.title.text for s in render(prs, {"show": False})[0].slides] == ["Always"]
    assert len(render(prs, {"show": True})[0].slides) == 2


def test_links_between_slides_follow_the_slides():
    prs = Presentation()
    titled(prs, "Start")
    maybe = titled(prs, "Maybe")
    text_box(maybe, ["{%slide if show %}"])
    text_box(maybe, ["{%slide endif %}"], top=3)
    target = titled(prs, "Target")
    link = text_box(prs.slides[0], ["go"]).click_action
    link.target_slide = target
    for show, index in ((True, 2), (False, 1)):
        out, _ = render(prs, {"show": show})
        action = [s for s in out.slides[0].shapes if s.has_text_frame][-1].click_action
        assert action.target_slide.shapes.title.text == "Target"
        assert list(out.slides).index(action.target_slide) == index


def test_a_chart_on_a_repeated_slide_is_copied_for_each_slide():
    prs = Presentation()
    slide = titled(prs, "{{ kt.id }}")
    text_box(slide, ["{%slide for kt in key_tasks %}", "{%slide endfor %}"], top=6.5)
    data = CategoryChartData()
    data.categories = ["Planned", "Done"]
    data.add_series("Activities", (5, 3))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(2), Inches(4),
                           Inches(3), data)
    out, _ = render(prs, CONTEXT)
    charts = [next(s for s in slide.shapes if s.has_chart).chart for slide in out.slides]
    assert len({c.part.partname for c in charts}) == 3
    assert len({c.part.chart_workbook.xlsx_part.partname for c in charts}) == 3
    assert all(list(c.plots[0].categories) == ["Planned", "Done"] for c in charts)


def test_the_same_inputs_give_the_same_bytes():
    compiled = compile_deck(_slide_loop_deck())
    assert compiled.render(CONTEXT)[0] == compiled.render(CONTEXT)[0]


# -- rich runs -----------------------------------------------------------------------------
RICH = RichText((Run("Read "), Run("the guide", bold=True), Run(" and "),
                 Run("the playbook", url="https://ussm.gsa.gov/m3/"),
                 Run(" now", italic=True)))


def test_rich_runs_keep_bold_italic_and_working_hyperlinks():
    prs = Presentation()
    slide = titled(prs, "Rich")
    box = text_box(slide, ["Objective: ", "{{ plain }}"])
    p = box.text_frame.paragraphs[0]
    run = p.add_run()
    run.text = "{{r text }}"
    run.font.size = Pt(14)
    loop = _slide_loop_deck()
    del loop  # rich runs on a repeated slide are checked below
    out, _ = render(prs, {"text": RICH, "plain": RICH})
    para = out.slides[0].shapes[1].text_frame.paragraphs[0]
    assert para.text == "Objective: Read the guide and the playbook now"
    runs = {r.text: r for r in para.runs}
    assert runs["the guide"].font.bold and runs[" now"].font.italic
    assert runs["the playbook"].hyperlink.address == "https://ussm.gsa.gov/m3/"
    assert runs["the guide"].font.size == Pt(14)
    assert out.slides[0].shapes[1].text_frame.paragraphs[1].text == RICH.plain


def test_rich_runs_on_repeated_slides_each_get_their_own_relationship():
    prs = Presentation()
    slide = titled(prs, "{{ kt.id }}")
    text_box(slide, ["{%slide for kt in key_tasks %}"], top=6)
    text_box(slide, ["{{r kt.objective }}", "{%slide endfor %}"], top=2)
    tasks = [{"id": f"3.{n}", "objective": RichText((Run("see "), Run(
        f"task {n}", url=f"https://example.gov/{n}")))} for n in (1, 2)]
    out, _ = render(prs, {"key_tasks": tasks})
    for n, s in enumerate(out.slides, 1):
        link = s.shapes[1].text_frame.paragraphs[0].runs[1]
        assert link.hyperlink.address == f"https://example.gov/{n}"
        rels = [r for r in s.part.rels.values() if r.is_external]
        assert [r.target_ref for r in rels] == [f"https://example.gov/{n}"]


def test_rich_paragraphs():
    prs = Presentation()
    slide = titled(prs, "P")
    text_box(slide, ["{{p text }}"])
    out, _ = render(prs, {"text": RichText((Run("line one\nline "), Run("two", bold=True)))})
    paras = out.slides[0].shapes[1].text_frame.paragraphs
    assert [p.text for p in paras] == ["line one", "line two"]
    assert paras[1].runs[1].font.bold


# -- layouts -------------------------------------------------------------------------------
def test_tags_in_a_layout_are_filled_once():
    prs = Presentation()
    layout = prs.slide_layouts[TITLE_ONLY]
    slide = titled(prs, "One")
    box = text_box(slide, ["{{ agency }} confidential"], top=7)
    layout.shapes._spTree.append(box._element)  # python-pptx cannot add a box to a layout
    out, _ = render(prs, CONTEXT)
    texts_in_layout = [s.text_frame.text for s in out.slide_layouts[TITLE_ONLY].shapes
                       if s.has_text_frame]
    assert "Department of Examples confidential" in texts_in_layout


# -- errors --------------------------------------------------------------------------------
def test_three_errors_in_three_places_are_reported_in_one_run():
    prs = Presentation()
    one = titled(prs, "{{ agency ) }}")
    one.shapes.title.name = "Title 1"
    two = titled(prs, "fine")
    table(two, [["A", "B"], ["ok", "{% for x in %}{% endfor %}"]]).name = "Activities"
    three = titled(prs, "fine")
    text_box(three, ["{%p if x %}", "{{ y }}"], name="Body")
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    lines = [str(d) for d in caught.value.diagnostics]
    assert len(lines) == 3, lines
    assert lines[0] == ("deck.pptx: ppt/slides/slide1.xml: slide 1, shape 'Title 1': error: "
                        "unexpected ')' in {{ agency ) }}")
    assert lines[1].startswith("deck.pptx: ppt/slides/slide2.xml: slide 2, shape "
                               "'Activities', row 2, cell 2: error: ")
    assert lines[2].startswith("deck.pptx: ppt/slides/slide3.xml: slide 3, shape 'Body': "
                               "error: {%p if x %} is never closed")


@pytest.mark.parametrize("tag", ["{{ ''.__class__.__mro__ }}",
                                 "{{ cycler.__init__.__globals__ }}",
                                 "{{ x|attr('__class__') }}"])
def test_the_sandbox_refuses_python_internals(tag):
    prs = Presentation()
    titled(prs, tag)
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert "refused" in str(caught.value) and "slide 1" in str(caught.value)


def test_errors_in_notes_are_located_in_the_notes():
    prs = Presentation()
    slide = titled(prs, "T")
    slide.notes_slide.notes_text_frame.text = "{{ a ) }}"
    notes = slide.notes_slide.notes_placeholder.name
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert str(caught.value) == (f"deck.pptx: ppt/notesSlides/notesSlide1.xml: notes of slide "
                                 f"1, shape '{notes}': error: unexpected ')' in {{{{ a ) }}}}")


def test_an_error_while_rendering_names_its_slide():
    prs = Presentation()
    titled(prs, "{{ agency }}")
    slide = titled(prs, "{{ kt.id }}")
    text_box(slide, ["{%slide for kt in key_tasks %}", "{{ 10 // kt.count }}"])
    text_box(slide, ["{%slide endfor %}"], top=4)
    compiled = compile_deck(prs)
    with pytest.raises(TemplateProblems) as caught:
        compiled.render({"agency": "A", "key_tasks": [{"id": "1", "count": 0}]})
    assert str(caught.value).startswith("deck.pptx: ppt/slides/slide2.xml: slide 2: error: "
                                        "cannot render: integer division")


def test_a_slide_loop_never_closed_is_located():
    prs = Presentation()
    slide = titled(prs, "T")
    text_box(slide, ["{%slide for kt in key_tasks %}"], name="Loop")
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert str(caught.value) == ("deck.pptx: ppt/slides/slide1.xml: slide 1, shape 'Loop': "
                                 "error: {%slide for kt in key_tasks %} is never closed "
                                 "(no {% endfor %})")


def test_blocks_spanning_paragraphs_need_the_paragraph_form():
    prs = Presentation()
    slide = titled(prs, "T")
    text_box(slide, ["{% if x %}", "text", "{% endif %}"], name="Box")
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert len(caught.value.diagnostics) == 2
    assert "shape 'Box'" in str(caught.value) and "{%p %}" in str(caught.value)


def test_structural_blocks_must_close_where_they_open():
    prs = Presentation()
    slide = titled(prs, "T")
    text_box(slide, ["{%p for x in xs %}", "{{ x }}"], name="One")
    text_box(slide, ["{%p endfor %}"], name="Two", top=4)
    with pytest.raises(TemplateProblems) as caught:
        compile_deck(prs)
    assert [str(d) for d in caught.value.diagnostics] == [
        "deck.pptx: ppt/slides/slide1.xml: slide 1, shape 'Two': error: {%p endfor %} closes "
        "{%p for x in xs %} (slide 1, shape 'One') from another text box: a block must open "
        "and close in the same text box, with tags of the same level"]


def test_run_level_conditions():
    prs = Presentation()
    slide = titled(prs, "T")
    p = text_box(slide, ["Status: "]).text_frame.paragraphs[0]
    for text in ("{%r if late %}", "LATE", "{%r endif %}", " end"):
        p.add_run().text = text
    assert texts(render(prs, {"late": True})[0].slides[0])[1] == "Status: LATE end"
    assert texts(render(prs, {"late": False})[0].slides[0])[1] == "Status:  end"


def test_render_pptx_from_a_file(tmp_path: Path):
    path = tmp_path / "status.pptx"
    _slide_loop_deck().save(path)
    data, warnings = render_pptx(path, CONTEXT)
    assert len(Presentation(io.BytesIO(data)).slides) == 8 and warnings == []


# -- our status deck (templates/status.pptx is a tagged template) ----------------------------
STATUS = Path(__file__).resolve().parents[2] / "templates" / "status.pptx"


def test_our_status_deck_as_a_tagged_template(tmp_path: Path):
    """The bundled status deck is a tagged template: its key-task slides a slide loop, its
    activity table a row loop that continues on copies of its slide."""
    prs = Presentation(str(STATUS))
    long = [{"number": f"3.14.{n}", "text": "Review the provider agreement and agree the "
             "in-scope processes with the program office" * (1 + n % 2), "owner": "Owner"}
            for n in range(1, 31)]
    tasks = [{"id": "3.14", "activities": long}, {"id": "3.15", "activities": long[:2]}]
    ctx = {"program": "Payroll", "agency": "Examples", "date": "October 7, 2026",
           "key_tasks": tasks}
    compiled = compile_deck(prs, "status.pptx")
    data, _ = compiled.render(ctx)
    out = Presentation(io.BytesIO(data))
    titles = [s.shapes.title.text for s in out.slides]
    continued = [t for t in titles if t.startswith("Major Activities — 3.14 (continued)")]
    assert titles[:2] == ["Payroll", "Major Activities — 3.14"] and continued
    assert titles[2 + len(continued):] == [
        "Risks and Issues — 3.14", "Accomplishments and Upcoming Activities — 3.14",
        "Major Activities — 3.15", "Risks and Issues — 3.15",
        "Accomplishments and Upcoming Activities — 3.15"]
    numbers = []
    for slide in out.slides:
        if not slide.shapes.title.text.startswith("Major Activities — 3.14"):
            continue
        frame = next(s for s in slide.shapes if s.has_table)
        legend = next(s for s in slide.shapes if s.name == "Legend")
        assert frame.top + sum(r.height for r in frame.table.rows) <= legend.top
        numbers += [r[0] for r in table_rows(slide)[1:]]
    assert numbers == [a["number"] for a in long]
    if pytest.importorskip("openxml_audit"):
        assert _audit_errors(data, tmp_path, "o.pptx") <= _audit_errors(
            STATUS.read_bytes(), tmp_path, "t.pptx")


# -- validity ------------------------------------------------------------------------------
def _audit_errors(data: bytes, tmp_path: Path, name: str) -> set[str]:
    from openxml_audit import validate_pptx
    path = tmp_path / name
    path.write_bytes(data)
    result = validate_pptx(str(path))
    return {f"{getattr(e, 'description', e)}".split(" at ")[0] for e in result.errors}


def _kitchen_sink_deck() -> Presentation:
    """Every tag form on one deck: rich runs and paragraphs, a column loop, cell fills,
    paragraph loops, an empty loop, notes."""
    prs = Presentation()
    slide = titled(prs, "{{ program }}")
    text_box(slide, ["{{r rich }}", "{{p rich }}", "{%p for kt in key_tasks %}",
                     "{{ kt.id }}", "{%p endfor %}"], top=1.3)
    text_box(slide, ["{%p for x in nothing %}", "{{ x }}", "{%p endfor %}"], top=3.5)
    table(slide, [["Name", "{%tc for q in quarters %}", "{{ q }}", "{%tc endfor %}"],
                  ["{{ program }}", "{%tc for q in quarters %}",
                   "{% cellbg 'C0392B' %}{{ q }}", "{%tc endfor %}"]], top=4.5)
    slide.notes_slide.notes_text_frame.text = "{{r rich }}"
    return prs


def test_rendered_decks_add_no_open_xml_errors(tmp_path: Path):
    pytest.importorskip("openxml_audit")
    sink = {**CONTEXT, "rich": RICH, "nothing": [], "quarters": ["Q1", "Q2"]}
    for n, (prs, ctx) in enumerate([(_slide_loop_deck(), CONTEXT),
                                    (_long_deck(), {**CONTEXT, "acts": LONG}),
                                    (_kitchen_sink_deck(), sink)]):
        buf = io.BytesIO()
        prs.save(buf)
        before = _audit_errors(buf.getvalue(), tmp_path, f"t{n}.pptx")
        data, _ = compile_deck(prs).render(ctx)
        after = _audit_errors(data, tmp_path, f"o{n}.pptx")
        assert after <= before, after - before


def test_stacked_tables_share_the_copies_and_the_lower_moves_up():
    """Two looped tables one above the other: each copy shows the next rows of both while
    both have rows; once the upper one is done, the lower one takes its place (and grows down
    into the room below), so no copy is left half empty; a table below stays in its room
    while the one above still shows rows."""
    prs = Presentation()
    slide = titled(prs, "Stacked")
    upper = table(slide, [["#", "Text"], ["{%tr for a in acts %}", ""],
                          ["{{ a.number }}", "{{ a.text }}"], ["{%tr endfor %}", ""]], top=1.4,
                  height=0.3)
    lower = table(slide, [["Milestone", "Text"], ["{%tr for m in more %}", ""],
                          ["{{ m.number }}", "{{ m.text }}"], ["{%tr endfor %}", ""]], top=3.6,
                  height=0.3)
    out, warnings = render(prs, {"acts": LONG[:14], "more": LONG * 2})
    assert warnings == []
    slides = list(out.slides)
    first_tops = {}
    shown = {"#": [], "Milestone": []}
    for n, s in enumerate(slides):
        frames = [sh for sh in s.shapes if sh.has_table]
        for frame in frames:
            head = frame.table.cell(0, 0).text
            shown[head] += [frame.table.cell(r, 0).text for r in range(1, len(frame.table.rows))]
            assert frame.top + sum(r.height for r in frame.table.rows) <= out.slide_height
            first_tops.setdefault(head, frame.top)
            if head == "Milestone":
                upper_here = any(f.table.cell(0, 0).text == "#" for f in frames)
                assert frame.top == (first_tops[head] if upper_here else upper.top), n
    assert shown["#"] == [a["number"] for a in LONG[:14]]
    assert shown["Milestone"] == [a["number"] for a in LONG * 2]
    alone = [s for s in slides if [sh.table.cell(0, 0).text for sh in s.shapes
                                   if sh.has_table] == ["Milestone"]]
    assert alone and lower.top > upper.top


def test_a_field_that_renders_empty_leaves_no_empty_run(tmp_path):
    """LibreOffice lays out an empty run at 18 pt, so a row of 8 pt text with an empty cell
    grew and pushed its table into the next shape: empty runs go, their format kept as the
    paragraph's end mark."""
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(1), Inches(6), Inches(1)).table
    table.cell(0, 0).text = "{%tr for a in rows %}"
    table.cell(1, 0).text, table.cell(1, 1).text = "{{ a.name }}", "{{ a.note }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    for c in range(2):
        for run in table.cell(1, c).text_frame.paragraphs[0].runs:
            run.font.size = Pt(8)
    prs.save(tmp_path / "t.pptx")
    data, _ = render_pptx(tmp_path / "t.pptx", {"rows": [{"name": "A", "note": ""}]})
    xml = Presentation(io.BytesIO(data)).slides[0].shapes[0]._element.xml
    assert "<a:t/>" not in xml and "<a:t></a:t>" not in xml
    cell = Presentation(io.BytesIO(data)).slides[0].shapes[0].table.cell(0, 1)
    end = cell.text_frame.paragraphs[0]._p.find(
        "{http://schemas.openxmlformats.org/drawingml/2006/main}endParaRPr")
    assert cell.text == "" and end is not None and end.get("sz") == "800"


def test_a_raw_block_keeps_its_tags_as_text():
    prs = Presentation()
    slide = titled(prs, "{% raw %}{{ agency }} {% for x in y %}{% endraw %} {{ agency }}")
    text_box(slide, ["{{ program }}"])
    out, warnings = render(prs, CONTEXT)
    assert texts(out.slides[0]) == ["{{ agency }} {% for x in y %} Department of Examples",
                                    "Payroll Modernization"]
