"""Markdown of notes: formatting survives, anything executable or raw HTML is neutralised."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tutoring.notes.markdown import ALLOWED_TAGS, render


class Elements(HTMLParser):
    """Collects the elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def assert_inert(html: str) -> None:
    """No script-capable element, no event handler, no link but http(s) or mailto."""
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs
        assert "src" not in attrs
        if "href" in attrs:
            assert attrs["href"].split(":")[0].lower() in ("http", "https", "mailto"), attrs


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert('x')</script>", "<script"),
        ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<script"),
        ('<img src="x" onerror="alert(1)">', "<img"),
        ('<a href="https://example.org" onclick="steal()">x</a>', "<a "),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[click](JaVaScRiPt:alert(1))", "href="),
        ("[click](data:text/html;base64,PHNjcmlwdD4=)", "href="),
        ("[click](vbscript:msgbox)", "href="),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<div style="background:url(javascript:x)">x</div>', "<div"),
        ("![x](https://evil.example/track.png)", "<img"),
        ('<svg onload="alert(1)"></svg>', "<svg"),
    ],
)
def test_dangerous_input_is_neutralised(source, forbidden):
    html = str(render(source))
    assert forbidden.lower() not in html.lower()
    assert_inert(html)


def test_raw_html_is_shown_as_text():
    html = str(render("<b>太字</b> と <script>x()</script>"))
    assert "&lt;b&gt;太字&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html
    assert "<b>" not in html


def test_event_handler_attributes_never_survive():
    for source in (
        '<p onmouseover="x()">a</p>',
        '[a](https://example.org "t" onclick=x)',
        "<a href=https://example.org onfocus=x autofocus>a</a>",
    ):
        assert_inert(str(render(source)))


def test_markdown_formatting_survives():
    html = str(
        render(
            "## 今日の内容\n\n**一次方程式**と*文章題*\n\n- 例題1\n- 例題2\n\n"
            "1. 移項\n2. 計算\n\n`x = 3`\n\n> 先生のひとこと\n\n[教科書](https://example.org/book)\n\n"
            "| 問 | 正誤 |\n|---|---|\n| 1 | ○ |\n\n~~まちがい~~"
        )
    )
    assert "<h2>今日の内容</h2>" in html
    assert "<strong>一次方程式</strong>" in html
    assert "<em>文章題</em>" in html
    assert "<ul>\n<li>例題1</li>" in html
    assert "<ol>\n<li>移項</li>" in html
    assert "<code>x = 3</code>" in html
    assert "<blockquote>" in html
    assert (
        '<a href="https://example.org/book" rel="noopener noreferrer nofollow">教科書</a>' in html
    )
    assert "<table>" in html
    assert "<td>○</td>" in html
    assert "<s>まちがい</s>" in html or "<del>まちがい</del>" in html
    assert_inert(html)


def test_japanese_text_and_line_breaks_stay_intact():
    text = "連立方程式の文章題、よくできました！\n次回は「速さ・時間・道のり」。①②③ 𠮷野家 ｶﾀｶﾅ"
    html = str(render(text))
    assert "連立方程式の文章題、よくできました！<br" in html
    assert "次回は「速さ・時間・道のり」。①②③ 𠮷野家 ｶﾀｶﾅ" in html


def test_mailto_links_are_kept_and_empty_notes_render_empty():
    assert 'href="mailto:tutor@example.org"' in str(render("<mailto:tutor@example.org>"))
    assert str(render("")) == ""
