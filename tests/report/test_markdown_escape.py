"""Text from an export (ticket text, categories, owners) never becomes live Markdown or HTML
in a report: rendered by nbconvert's own Markdown renderer, it stays text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from nbconvert.filters.markdown import markdown2html_mistune

from csi_helpers.report.tables import escape_markdown

PAYLOADS = [
    "[click here](http://evil.example/x)",
    "![tracker](http://evil.example/pixel.png)",
    "see http://evil.example/login now",
    '<a href="http://evil.example">open</a>',
    "<img src=x onerror=alert(1)>",
    "<http://evil.example>",
    "# Not a heading",
    "`rm -rf /`",
    "*P1* __urgent__ ~~old~~",
    "| a | b |",
    "[ref]: http://evil.example",
]


class Tags(HTMLParser):
    """The real elements of an HTML fragment, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


@pytest.mark.parametrize("text", PAYLOADS)
def test_export_text_renders_as_the_same_text_and_nothing_else(text):
    """Issue 17: `[x](http://evil.example…)` in ticket text became a live link in a heading."""
    rendered = markdown2html_mistune(f"### 1. {escape_markdown(text)}")
    tags = Tags()
    tags.feed(rendered)
    assert {t for t, _ in tags.found} <= {"h3", "a"}, rendered  # the heading and its anchor
    links = [v for _, attrs in tags.found for k, v in attrs if k in ("href", "src")]
    assert all(v.startswith("#") for v in links), links  # only the heading's own anchor
    body = re.sub(r"<a class=\"anchor-link\".*?</a>", "", rendered)
    visible = re.sub(r"<[^>]+>", "", body)
    unescaped = visible.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert unescaped.replace("&amp;", "&").strip() == f"1. {text}"
