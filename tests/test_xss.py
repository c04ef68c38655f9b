"""XSS (R15, R16, R18): the oracle that judges markup, the real renderer over the payload
corpus of tests/xss.py, and the rules the templates, the code and the settings keep.

The admin preview is tested in test_xss_preview.py, the pages in test_xss_pages.py.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from papers.claim_marks import mark_claims
from papers.rendering import html_to_text, render_markdown, render_plain, sanitize
from tests.xss import CORPUS, violations

# --- The oracle catches what could run, and passes the site's own markup ----------------------


@pytest.mark.parametrize(
    "bad",
    [
        '<a href="javascript:x" onclick="y">',
        '<a href=" JaVa&#x09;Script&colon;x">x</a>',
        '<a href="vbscript:x">x</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<p style="color:red">x</p>',
        "<script>x</script>",
        "<svg><a>x</a></svg>",
        "<math></math>",
        "<p><iframe></iframe></p>",
        '<meta http-equiv="refresh" content="0">',
        "<div>unlisted element</div>",
    ],
)
def test_oracle_catches_executable_markup(bad):
    assert violations(bad)


def test_oracle_catches_extra_head_elements_on_a_page():
    assert violations('<head><meta http-equiv="refresh"><script></script></head>', page=True)


@pytest.mark.parametrize(
    "bad",
    [
        '<head><script type="application/ld+json">{"a": "</script><script>alert(1)</script>',
        '<head><script type="application/ld+json">alert(1)</script></head>',
        '<head><script type="text/javascript">{}</script></head>',
        '<head><script type="application/ld+json" src="//evil.example/x.js"></script></head>',
        '<body><script type="application/ld+json">{}</script></body>',
        '<main><form action="/papers/" method="post"><input name="q"></form></main>',
        '<main><form action="/elsewhere/"><input name="q"></form></main>',
        '<main><input autofocus onfocus="alert(1)"></main>',
    ],
)
def test_oracle_allows_only_json_ld_and_the_search_box(bad):
    assert violations(bad, page=True)


def test_oracle_passes_json_ld_and_the_search_box():
    page = (
        '<head><script type="application/ld+json">{"headline": "\\u003C/script\\u003E"}'
        '</script></head><main><form role="search" method="get" action="/papers/">'
        '<label for="q">Search</label><input id="q" type="search" name="q">'
        '<button type="submit">Search</button></form></main>'
    )
    assert violations(page, page=True) == []


def test_oracle_passes_safe_links_and_page_chrome():
    safe = '<p><a href="/r">r</a> <a href="#f">f</a> <a href="mailto:a@b.c">m</a> <img src="x.png">'
    assert violations(safe) == []
    assert (
        violations("<head><title>t</title><meta charset=utf-8></head><main>x</main>", page=True)
        == []
    )


# --- R15: the renderer ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", CORPUS)
def test_rendered_markdown_carries_nothing_executable(payload):
    """R15, R18: the real render function, judged by a browser's parse."""
    assert violations(render_markdown(payload)) == []


@pytest.mark.parametrize("payload", CORPUS)
def test_sanitize_alone_neutralises_the_payload_as_raw_html(payload):
    """R15, R18: the sanitiser holds even if a Markdown extension let raw HTML through."""
    assert violations(sanitize(payload)) == []


@pytest.mark.parametrize("payload", CORPUS)
def test_plain_text_rendering_carries_nothing_executable(payload):
    """R16: notes are escaped, and only http(s) and mail addresses become links."""
    assert violations(render_plain(payload)) == []


@pytest.mark.parametrize("payload", CORPUS)
def test_claim_marks_over_a_payload_carry_nothing_executable(payload):
    """R15: re-serialising sanitised HTML to add marks must not revive what was escaped."""
    html = render_markdown(f"Lead.\n\n{payload}")
    marked, placed = mark_claims(
        html, [{"id": "c1", "number": 1, "quote": html_to_text(html), "kind": "factual"}]
    )
    assert placed == ["c1"]
    assert violations(marked, page=True) == []


# --- R16 and R18: configuration and templates -------------------------------------------------

ROOT = Path(settings.BASE_DIR)
UNSAFE_TEMPLATE = re.compile(r"\|\s*safe\b|{%\s*autoescape\s+off\s*%}")
UNSAFE_PYTHON = re.compile(r"\b(mark_safe|SafeString)\(")


def test_lint_patterns_catch_what_they_are_meant_to():
    assert UNSAFE_TEMPLATE.search("{{ paper.title|safe }}")
    assert UNSAFE_TEMPLATE.search("{% autoescape  off %}")
    assert not UNSAFE_TEMPLATE.search("{{ paper.safety }}")
    assert UNSAFE_PYTHON.search("return mark_safe(x)")
    assert UNSAFE_PYTHON.search("SafeString(x)")


def test_no_html_template_turns_off_autoescaping():
    """R16: user text is autoescaped everywhere an HTML template renders it. (The plain-text
    email templates in templates/emails/ turn it off: HTML escapes would garble a text mail.)"""
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if UNSAFE_TEMPLATE.search(path.read_text())
    ]
    assert found == []


def test_only_email_templates_are_plain_text():
    assert {p.parent.name for p in (ROOT / "templates").rglob("*.txt")} <= {"emails"}


def test_only_the_renderer_declares_html_safe():
    """R16: `papers/rendering.py` is the one module that marks HTML safe."""
    files = [*(ROOT / "papers").rglob("*.py"), *(ROOT / "config").rglob("*.py")]
    found = [
        str(path.relative_to(ROOT))
        for path in files
        if path != ROOT / "papers" / "rendering.py" and UNSAFE_PYTHON.search(path.read_text())
    ]
    assert found == []


def test_no_attribute_injecting_markdown_extension_is_enabled():
    """R18: attr_list, md_in_html and the extra bundle stay off; previews use our renderer."""
    names = {ext.rsplit(".", 1)[-1] for ext in map(str, settings.MARKDOWNX_MARKDOWN_EXTENSIONS)}
    assert not names & {"attr_list", "md_in_html", "extra"}
    assert settings.MARKDOWNX_MARKDOWNIFY_FUNCTION == "papers.rendering.render_markdown"
