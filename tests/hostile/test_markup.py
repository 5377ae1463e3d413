"""Classes 2 and 3: markup in page text and text the Office formats cannot hold."""
from __future__ import annotations

import pytest

from m3docs.ooxml.xml import clean_text
from m3docs.playbook.loader import check_playbook
from m3docs.playbook.richtext import parse_html, resolve_url

from .conftest import KEY_TASK, errors_of, page_text

UNSAFE_HREFS = [
    ("javascript", "javascript:alert(1)"),
    ("javascript-case", "JaVaScRiPt:alert(1)"),
    ("javascript-space", "  javascript:alert(1)"),
    ("javascript-tab", "java\tscript:alert(1)"),
    ("javascript-newline", "java\nscript:alert(1)"),
    ("javascript-entity", "javascript&colon;alert(1)"),
    ("javascript-numeric-entity", "&#106;avascript:alert(1)"),
    ("file", "file:///etc/passwd"),
    ("file-windows", "file://C:/Windows/win.ini"),
    ("data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("vbscript", "vbscript:msgbox(1)"),
    ("protocol-relative", "//evil.example/x"),
    ("ms-word-handler", "ms-word:ofe|u|https://evil.example/x.docx"),
]


@pytest.mark.parametrize("href", [h for _, h in UNSAFE_HREFS], ids=[i for i, _ in UNSAFE_HREFS])
def test_unsafe_link_becomes_plain_text(href):
    rich = parse_html(f'See <a href="{href}">the guide</a> now.')
    assert rich.plain == "See the guide now."
    assert rich.links == ()
    assert all(r.url is None for r in rich.runs)


@pytest.mark.parametrize("href,expected", [
    ("https://ussm.gsa.gov/m3/", "https://ussm.gsa.gov/m3/"),
    ("http://example.gov/a b", "http://example.gov/a%20b"),
    ("mailto:m3@gsa.gov", "mailto:m3@gsa.gov"),
    ("/assets/files/x.docx", "https://ussm.gsa.gov/assets/files/x.docx"),
], ids=["https", "http-space", "mailto", "relative"])
def test_safe_links_stay_links(href, expected):
    rich = parse_html(f'<a href="{href}">go</a>')
    assert [(r.text, r.url) for r in rich.runs] == [("go", expected)]


def test_unc_path_stays_on_the_playbook_site():
    rich = parse_html('<a href="\\\\evil-host\\share\\doc.docx">doc</a>')
    assert rich.runs[0].url.startswith("https://ussm.gsa.gov/")
    assert "\\" not in rich.runs[0].url


def test_relative_link_cannot_escape_to_another_scheme():
    assert resolve_url("javascript:x", "https://ussm.gsa.gov") is None
    assert resolve_url("x", "file:///etc/") is None


DROPPED = [
    ("script", "<script>alert('x')</script>"),
    ("script-upper", "<SCRIPT type='text/javascript'>alert('x')</SCRIPT>"),
    ("script-nested-quote", "<script>var s = '</scr' + 'ipt>'; alert('x')</script>"),
    ("style", "<style>body { background: url(javascript:alert('x')) }</style>"),
    ("iframe", "<iframe src='https://evil.example'>alert('x')</iframe>"),
    ("object", "<object data='x.swf'>alert('x')</object>"),
    ("noscript", "<noscript>alert('x')</noscript>"),
    ("template", "<template>alert('x')</template>"),
]


@pytest.mark.parametrize("markup", [m for _, m in DROPPED], ids=[i for i, _ in DROPPED])
def test_script_and_style_content_never_in_text(markup):
    rich = parse_html(f"Before {markup} after")
    assert "alert" not in rich.plain and "background" not in rich.plain
    assert all("alert" not in r.text and "background" not in r.text for r in rich.runs)
    assert rich.plain.startswith("Before") and rich.plain.endswith("after")


def test_unclosed_script_drops_the_rest():
    rich = parse_html("Visible <script>alert('x') and more")
    assert rich.plain == "Visible"


def test_unknown_tags_dropped_text_kept():
    rich = parse_html('<blink>Blink</blink> <img src=x onerror="alert(1)"><marquee>Move</marquee>'
                      '<svg onload="alert(1)"><text>Svg</text></svg>')
    assert rich.plain == "Blink MoveSvg"
    assert "<" not in "".join(r.text for r in rich.runs)
    assert "alert" not in rich.plain and rich.links == ()


def test_escaped_markup_is_literal_text():
    rich = parse_html("Use &lt;script&gt; tags &amp; such")
    assert rich.plain == "Use <script> tags & such" and rich.links == ()


def test_page_with_hostile_markup_loads_clean(write_page, playbook_dir):
    fm = KEY_TASK.replace(
        "Do one",
        "'Do <a href=\"javascript:alert(1)\">one</a><script>steal()</script>"
        "<style>p{}</style> <a href=\"https://ussm.gsa.gov\">ok</a>'")
    write_page("1.2.md", page_text(fm))
    book, diags = check_playbook(playbook_dir)
    assert not errors_of(diags)
    act = book.key_tasks[0].activities[0]
    assert act.text.plain == "Do one ok"
    assert [r.url for r in act.text.links] == ["https://ussm.gsa.gov"]
    assert "steal" not in "".join(r.text for r in act.text.runs)


# -- text the formats cannot hold -----------------------------------------------------

def test_escaped_control_chars_kept_then_cleaned(write_page, playbook_dir):
    write_page("1.2.md", page_text(KEY_TASK.replace("Do one", '"Do\\vo\\0ne\\x1b"')))
    book, diags = check_playbook(playbook_dir)
    assert not errors_of(diags)
    text = book.key_tasks[0].activities[0].text.runs[0].text
    assert text == "Do o\x00ne\x1b"  # \v is whitespace: collapsed to a space
    assert clean_text(text) == ("Do one", True)


def test_raw_control_char_refused_at_its_position(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK.replace("Do two", "Do\x0btwo")))
    book, diags = check_playbook(playbook_dir)
    errs = errors_of(diags)
    assert book is None and len(errs) == 1
    assert (errs[0].path, errs[0].line, errs[0].col) == (str(path), 11, 13)
    assert "U+000B" in errs[0].message and "\n" not in str(errs[0])


def test_raw_nul_byte_refused_at_its_position(write_page, playbook_dir):
    path = write_page("1.2.md", page_text(KEY_TASK.replace("Draft Things", "Draft\x00Things")))
    _, diags = check_playbook(playbook_dir)
    errs = errors_of(diags)
    assert [(e.path, e.line, e.col) for e in errs] == [(str(path), 5, 12)]


def test_unpaired_surrogate_escape_kept_then_cleaned(write_page, playbook_dir):
    write_page("1.2.md", page_text(KEY_TASK.replace("Do one", '"Do \\uD800one"')))
    book, diags = check_playbook(playbook_dir)
    assert not errors_of(diags)
    text = book.key_tasks[0].activities[0].text.plain
    assert "\ud800" in text
    cleaned, changed = clean_text(text)
    assert changed and cleaned == "Do one"
    cleaned.encode("utf-8")  # now encodable


def test_one_megabyte_activity_text(write_page, playbook_dir):
    big = ("word " * 210_000).strip()
    write_page("1.2.md", page_text(KEY_TASK.replace("Do one", big)))
    book, diags = check_playbook(playbook_dir)
    assert not errors_of(diags)
    assert book.key_tasks[0].activities[0].text.plain == big and len(big) > 1_000_000


def test_rtl_and_emoji_kept_exactly(write_page, playbook_dir):
    text = "مراجعة الخطة 🚀 with עברית and 👩🏽‍💻 ZWJ \u202eoverride\u202c"
    write_page("1.2.md", page_text(KEY_TASK.replace("Do one", f'"{text}"')))
    book, diags = check_playbook(playbook_dir)
    assert not errors_of(diags)
    got = book.key_tasks[0].activities[0].text.plain
    assert got == text
    assert clean_text(got) == (text, False)
