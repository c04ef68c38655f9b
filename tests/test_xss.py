"""XSS: a payload corpus through the real renderer, the admin preview and the public pages.

Every output is parsed with html5lib, as a browser would, and checked by `violations` (R15).
"""

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import html5lib
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from papers import workflow
from papers.claim_marks import mark_claims
from papers.models import Paper, VersionClaim
from papers.rendering import html_to_text, render_markdown, render_plain, sanitize
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)

P = pytest.param


B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
CORPUS = [
    # Raw tags
    P("<script>alert(1)</script>", id="script"),
    P("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", id="script-src-upper"),
    P('<iframe src="javascript:alert(1)"></iframe>', id="iframe-js"),
    P('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    P('<object data="javascript:alert(1)"></object>', id="object"),
    P(f'<embed src="data:text/html;base64,{B64_SCRIPT}">', id="embed-data"),
    P('<form action="javascript:alert(1)"><button>go</button></form>', id="form-action"),
    P('<base href="javascript:alert(1)//">', id="base"),
    P('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh"),
    P("<svg><script>alert(1)</script></svg>", id="svg-script"),
    P("<svg/onload=alert(1)>", id="svg-onload"),
    P('<math href="javascript:alert(1)">x</math>', id="math-href"),
    P("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", id="math-mxss"),
    P("<style>@import 'javascript:alert(1)';</style>", id="style"),
    P('<link rel="stylesheet" href="javascript:alert(1)">', id="link"),
    P("<template><script>alert(1)</script></template>", id="template"),
    # Event handlers, broken and unquoted attributes
    P("<img src=x onerror=alert(1)>", id="img-onerror"),
    P("<body onload=alert(1)>", id="body-onload"),
    P('<a href="https://ok.example" onmouseover="alert(1)">x</a>', id="a-onmouseover"),
    P("<p onclick=alert(1)>x</p>", id="p-onclick"),
    P("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    P("<video><source onerror=alert(1)></video>", id="video-source"),
    P("<input autofocus onfocus=alert(1)>", id="input-onfocus"),
    P("<marquee onstart=alert(1)>x</marquee>", id="marquee"),
    P('<img src=x onerror="alert(1)"//', id="img-unclosed"),
    P('<img """><script>alert(1)</script>">', id="img-broken-quotes"),
    P("<img src=`x`onerror=alert(1)>", id="img-backticks"),
    P("<a/href=x/onclick=alert(1)>x</a>", id="a-slashes"),
    P("<img src=x:alert(alt) onerror=eval(src) alt=0>", id="img-eval-src"),
    P('<div style="background:url(javascript:alert(1))">x</div>', id="style-attr"),
    P('<table background="javascript:alert(1)"><tr><td>x</td></tr></table>', id="background"),
    P('<blockquote cite="javascript:alert(1)" onmouseover=alert(1)>x</blockquote>', id="cite"),
    P("<isindex type=image src=1 onerror=alert(1)>", id="isindex"),
    # URL schemes
    P("[x](javascript:alert(1))", id="md-js"),
    P("[x](JaVaScRiPt:alert(1))", id="md-js-mixed-case"),
    P("[x]( javascript:alert(1))", id="md-js-leading-space"),
    P("[x](<javascript:alert(1)>)", id="md-js-pointy"),
    P("[x](java\tscript:alert(1))", id="md-js-tab"),
    P("[x](java&#x0A;script:alert(1))", id="md-js-entity-newline"),
    P("[x](&#106;avascript:alert(1))", id="md-js-decimal-entity"),
    P("[x](&#x6A;avascript:alert(1))", id="md-js-hex-entity"),
    P("[x](&#0000106&#0000097vascript:alert(1))", id="md-js-padded-entities"),
    P("[x](javascript&colon;alert(1))", id="md-js-colon-entity"),
    P("[x](\x01javascript:alert(1))", id="md-js-control-char"),
    P('[x](javascript:alert(1) "t")', id="md-js-with-title"),
    P("[x](vbscript:msgbox(1))", id="md-vbscript"),
    P(f"[x](data:text/html;base64,{B64_SCRIPT})", id="md-data-html"),
    P("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="md-img-data-svg"),
    P("![x](data:image/png;base64,iVBORw0KGgo=)", id="md-img-data-png"),
    P('<a href="&#x20;javascript:alert(1)">x</a>', id="raw-js-space-entity"),
    P('<a href="jav&#x09;ascript:alert(1)">x</a>', id="raw-js-tab-entity"),
    P('<a href="javascript&colon;alert(1)">x</a>', id="raw-js-colon-entity"),
    # Markdown forms
    P("![x](javascript:alert(1))", id="md-img-js"),
    P("[x][r]\n\n[r]: javascript:alert(1)", id="md-ref-link-js"),
    P("![x][r]\n\n[r]: javascript:alert(1)", id="md-ref-img-js"),
    P("[x][r]\n\n[r]: &#106;avascript:alert(1)", id="md-ref-entity"),
    P('[x][r]\n\n[r]: https://ok.example "t" onclick=alert(1)', id="md-ref-trailing-attr"),
    P("<javascript:alert(1)>", id="autolink-js"),
    P("<vbscript:msgbox(1)>", id="autolink-vbscript"),
    P("<data:text/html,<script>alert(1)</script>>", id="autolink-data"),
    P('<x@example.org?subject="onclick=alert(1)>', id="autolink-email-quote"),
    P('[x](https://ok.example "a\\" onmouseover=\\"alert(1)")', id="title-double-quote"),
    P("[x](https://ok.example 'a\\' onclick=alert(1) x=\\'')", id="title-single-quote"),
    P('![x](https://ok.example/i.png "\\" onerror=\\"alert(1)")', id="img-title-quote"),
    P('[x](https://ok.example){: onclick="alert(1)" style="color:red"}', id="attr-list-link"),
    P("A paragraph.\n{: onmouseover=alert(1) style=x }", id="attr-list-block"),
    P("# Heading {: onclick=alert(1) #id .cls }", id="attr-list-heading"),
    P('<div markdown="1" onclick="alert(1)">*x*</div>', id="md-in-html-div"),
    P('<span markdown="1" style="x">[y](javascript:alert(1))</span>', id="md-in-html-span"),
    P("[<img src=x onerror=alert(1)>](https://ok.example)", id="link-text-html"),
    P('["><script>alert(1)</script>](https://ok.example)', id="link-text-breakout"),
    P('[x](https://ok.example/"onmouseover="alert(1))', id="url-quote-breakout"),
    P('[x](https://ok.example/"><script>alert(1)</script>)', id="url-tag-breakout"),
    P("[[x](javascript:alert(1))](https://ok.example)", id="nested-links"),
    P("`<script>alert(1)</script>`", id="inline-code"),
    P('```"><script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```', id="fence-info"),
    P("| a |\n|---|\n| <img src=x onerror=alert(1)> |", id="table-cell"),
    P("> <iframe src=javascript:alert(1)>\n> - [x](javascript:alert(1))", id="quote-list"),
    # Footnotes: labels, notes and the links inside them
    P('A[^"><script>alert(1)</script>]\n\n[^"><script>alert(1)</script>]: n', id="fn-label-script"),
    P('A[^x"onmouseover="alert(1)]\n\n[^x"onmouseover="alert(1)]: n', id="fn-label-attr"),
    P("A[^x]\n\n[^x]: <img src=x onerror=alert(1)>", id="fn-note-img"),
    P("A[^x]\n\n[^x]: [y](javascript:alert(1)) <javascript:alert(1)>", id="fn-note-js-link"),
    P("A[^x]\n\n[^x]: [y][r]\n\n[r]: javascript:alert(1)", id="fn-note-ref-link-js"),
    P(f"A[^x]\n\n[^x]: ![i](data:image/svg+xml;base64,{B64_SCRIPT})", id="fn-note-img-data"),
    P("A[^a]\n\n[^a]: see[^b]\n[^b]: <script>alert(1)</script>", id="fn-nested"),
    P("A[^<svg/onload=alert(1)>]", id="fn-undefined-svg"),
    P("^[<img src=x onerror=alert(1)>]", id="fn-inline"),
    P('<a id="location" role="doc-noteref" href="#fn-1" onclick="alert(1)">x</a>', id="fn-raw-a"),
    P('<sup onclick=alert(1)><section onmouseover=alert(1)><li id="fn-1" style="x">', id="fn-raw"),
    # Comments, CDATA, nesting, polyglots
    P("<!--<script>alert(1)</script>-->", id="comment"),
    P("<!-- --!><script>alert(1)</script> -->", id="comment-bang-close"),
    P("<![CDATA[<script>alert(1)</script>]]>", id="cdata"),
    P("<scr<script>ipt>alert(1)</scr</script>ipt>", id="split-script"),
    P("<<script>script>alert(1)<</script>/script>", id="double-open"),
    P('<a href="https://ok.example"><a href="javascript:alert(1)">x</a></a>', id="nested-a"),
    P('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', id="noscript-mxss"),
    P("<textarea></textarea><script>alert(1)</script>", id="textarea-close"),
    P("<xmp><img src=x onerror=alert(1)></xmp>", id="xmp"),
    P('"><svg/onload=alert(1)>', id="attr-breakout-svg"),
    P(
        "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/"
        "</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
        id="polyglot-0xsobky",
    ),
    P("'\"--></style></script><script>alert(1)</script><!--", id="polyglot-closers"),
]

# --- The oracle -------------------------------------------------------------------------------

FRAGMENT_TAGS = {"html", "head", "body", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
FRAGMENT_TAGS |= {"em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li"}
FRAGMENT_TAGS |= {"a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup", "section"}
# Site chrome and claim marks on public pages; still no script, style, frames, forms or foreign XML.
PAGE_TAGS = FRAGMENT_TAGS | {"main", "header", "footer", "nav", "section", "article", "aside"}
PAGE_TAGS |= {"div", "span", "time", "sup", "mark"}
PAGE_TAGS |= {"dl", "dt", "dd", "i"}  # the cite page: each style's reference, titles in italics
PAGE_TAGS |= {"details", "summary"}  # a paper's folded correction note, contents and key
# The site's own scripts, by address under /static/js/ and with nothing inline.
OWN_SCRIPT = re.compile(r"/static/js/[a-z-]+(?:\.[0-9a-f]+)?\.js")
HEAD_TAGS = {
    "title": set(),
    "meta": {"charset", "name", "content", "property"},
    "link": {"rel", "href", "type", "title"},  # type and title: the feed's autodiscovery link
    "script": {"type"},  # JSON-LD only: see _check
}
# The site's search box (a GET form to the paper list, in the page chrome) is the one form
# allowed on public pages.
SEARCH_FORM_TAGS = {"form", "label", "input", "button"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "background"}
URL_ATTRIBUTES |= {"cite", "data", "lowsrc", "dynsrc", "longdesc", "codebase", "ping"}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def url_scheme(value):
    """The scheme a browser would see: whitespace and control characters ignored, any case."""
    match = _SCHEME.match(re.sub(r"[\x00-\x20\x7f]+", "", value).lower())
    return match.group(1) if match else None


def local(name):
    return name.rsplit("}", 1)[-1].lower()


def violations(markup, *, page=False):
    """Everything in markup that could run script once a browser has parsed it."""
    allowed = PAGE_TAGS if page else FRAGMENT_TAGS
    root = html5lib.parse(markup, namespaceHTMLElements=False)
    search_box = set()
    if page:
        for form in root.iter("form"):
            if form.get("action") == "/papers/" and form.get("method", "get").lower() == "get":
                search_box |= {id(element) for element in form.iter()}
    problems = _check(root, None, allowed, page)
    for parent in root.iter():
        for element in parent:
            if isinstance(element.tag, str):
                chrome = allowed | SEARCH_FORM_TAGS if id(element) in search_box else allowed
                problems += _check(element, local(parent.tag), chrome, page)
    return problems


def _is_json(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _own_script(element, attrs):
    src = attrs.get("src", "")
    return set(attrs) <= {"src", "defer"} and OWN_SCRIPT.fullmatch(src) and not element.text


def _check(element, parent, allowed, page):
    tag, attrs = local(element.tag), {local(k): v for k, v in element.attrib.items()}
    namespaced = element.tag.startswith("{")
    problems = []
    if page and tag in HEAD_TAGS and parent == "head":
        problems += [f"<{tag} {name}>" for name in attrs if name not in HEAD_TAGS[tag]]
        # A data block, not a script: browsers run no type they do not know, and JSON that
        # parses is all of its text (a stray </script> would have cut it short).
        if tag == "script" and (
            attrs.get("type") != "application/ld+json" or not _is_json(element.text or "")
        ):
            problems.append("<script> that is not JSON-LD")
    elif tag == "script" and page and _own_script(element, attrs):
        pass
    elif namespaced or tag not in allowed:
        problems.append(f"<{tag}> element")
    for name, value in attrs.items():
        if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
            problems.append(f"<{tag} {name}>")
        if name in URL_ATTRIBUTES and url_scheme(value) not in {None, *SAFE_SCHEMES}:
            problems.append(f"<{tag} {name}={value!r}>")
    return problems


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


# --- R17 and R7: the admin preview ------------------------------------------------------------

PREVIEW = "/admin/markdown-preview/"


def is_login_redirect(response):
    """A 302 to the admin's or the site's login page, coming back to the preview afterwards."""
    location = urlsplit(response["Location"])
    login_pages = {reverse("admin:login"), resolve_url(settings.LOGIN_URL)}
    return (
        response.status_code == 302
        and location.path in login_pages
        and parse_qs(location.query).get("next") == [PREVIEW]
    )


@pytest.mark.parametrize("payload", CORPUS)
def test_preview_returns_exactly_the_public_render(editor_client, payload):
    """R17: what an editor previews is byte for byte what readers get."""
    response = editor_client.post(PREVIEW, {"content": payload})
    assert response.status_code == 200
    assert response.content.decode() == render_markdown(payload)


def test_anonymous_preview_is_redirected_to_login(db):
    """R7: the preview is behind the admin login."""
    assert is_login_redirect(Client().post(PREVIEW, {"content": "*x*"}))


@pytest.mark.parametrize("persona", ["outsider", "reviewer"])
def test_non_editor_cannot_use_the_preview(request, persona):
    """R7: logged in is not enough; only editors reach the preview."""
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    response = client.post(PREVIEW, {"content": "*x*"})
    assert response.status_code == 403 or is_login_redirect(response)
    assert b"<em>x</em>" not in response.content


def test_preview_refuses_get(editor_client):
    """R17: previews are POSTs under CSRF protection; a GET changes nothing and renders nothing."""
    assert editor_client.get(PREVIEW, {"content": "*x*"}).status_code == 405


@pytest.mark.parametrize("path", ["/admin/markdown-upload/", "/markdownx/upload/"])
@pytest.mark.parametrize("as_editor", [False, True])
def test_no_upload_path_stores_an_svg(request, settings, tmp_path, path, as_editor):
    """R7, R22: markdownx's own upload view is not routed, and ours (editors only) refuses an SVG
    with a 400: nobody writes a script into MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    client = request.getfixturevalue("editor_client") if as_editor else Client()
    image = SimpleUploadedFile("x.svg", b'<svg onload="alert(1)"/>', content_type="image/svg+xml")
    response = client.post(path, {"image": image})
    assert response.status_code in {302, 400, 403, 404, 405}
    if as_editor and path == "/admin/markdown-upload/":
        assert response.status_code == 400
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


# --- End to end: every user-written field on every public page -------------------------------


def squash(text):
    return " ".join(text.split())


def text_of(root, tag, cls=None):
    for element in root.iter():
        if element.tag == tag and (cls is None or cls in element.get("class", "").split()):
            return squash("".join(element.itertext()))
    raise AssertionError(f"no <{tag} class={cls!r}> on the page")


# Django's URLValidator accepts quotes and angle brackets after the host.
HOSTILE_URL = 'https://example.org/?q="onmouseover="alert(1)"><script>alert(1)</script>'


@pytest.fixture
def hostile_paper(request, editor):
    payload = request.param
    tag = TagFactory(slug="hostile", name=payload[:80], description=payload)
    paper = PaperFactory(
        slug="hostile", title=payload[:300], standfirst=payload, byline=payload[:300]
    )
    paper.tags.add(tag)
    section = SectionFactory(paper=paper, heading=payload[:300], body=f"Claim text.\n\n{payload}")
    source = SourceFactory(title=payload[:300], publisher=payload[:200], quote=payload)
    source.url = HOSTILE_URL
    source.full_clean()
    source.save()
    claim = ClaimFactory(section=section, quote=section.body_text, note=payload)
    claim.full_clean()
    claim.tags.add(tag)
    claim.sources.add(source)
    workflow.publish_paper(approved(paper), by=editor)
    return payload


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_fields_reach_no_public_page_as_markup(client, hostile_paper):
    """R15, R16: a published paper full of payloads shows them only as inert text."""
    payload = hostile_paper
    pages = ["/papers/hostile/", "/papers/hostile/v1/", "/papers/", "/papers/?tag=hostile", "/"]
    pages += ["/tags/"]
    for url in [*pages, "/tags/hostile/", "/papers/hostile/cite/", "/papers/hostile/v1/cite/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert violations(response.content.decode(), page=True) == [], url
    root = html5lib.parse(client.get("/papers/hostile/").content, namespaceHTMLElements=False)
    assert text_of(root, "h1", "paper__title") == squash(payload[:300])
    assert text_of(root, "title") == squash(f"{payload[:300]} · Standpoint")
    assert text_of(root, "span", "paper__byline") == squash(f"By {payload[:300]}")
    assert text_of(root, "a", "tag") == squash(payload[:80])
    note = text_of(root, "div", "claim-note__note")
    assert note.replace(" ", "") == "".join(payload.split())
    (claim_note,) = [el for el in root.iter("li") if el.get("id", "").startswith("claim-note-")]
    links = [el.get("href") for el in claim_note.findall("a")]  # not those of the editor's note
    assert [href for href in links if not href.startswith(("/", "#"))] == [HOSTILE_URL]


@pytest.mark.parametrize("hostile_paper", [CORPUS[0], CORPUS[-2]], indirect=True)
def test_exports_are_not_served_as_html(client, hostile_paper):
    """R15: exports carry raw Markdown, so browsers must not render them as a page."""
    markdown = client.get("/papers/hostile/export.md")
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    data = client.get("/papers/hostile/export.json")
    assert data["Content-Type"] == "application/json"
    assert data.json()["title"] == hostile_paper
    for response in (markdown, data):
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_the_api_carries_hostile_fields_as_inert_json(client, hostile_paper):
    """R15, R16: the claims API gives every field back exactly, as JSON that holds no markup
    (<, > and & escaped), served as JSON and never sniffed; its docs page shows none of it."""
    payload = hostile_paper
    claim_id = Paper.objects.get(slug="hostile").claims.get().public_id
    urls = ["/api/v1/papers/", "/api/v1/papers/hostile/", "/api/v1/papers/hostile/versions/1/"]
    urls += ["/api/v1/claims/?tag=hostile", f"/api/v1/claims/{claim_id}/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/json; charset=utf-8", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert not {"<", ">"} & set(response.content.decode()), url
    paper = client.get("/api/v1/papers/hostile/").json()
    assert (paper["title"], paper["byline"], paper["standfirst"]) == (
        payload[:300],
        payload[:300],
        payload,
    )
    claim = client.get(f"/api/v1/claims/{claim_id}/").json()
    assert claim["note"] == payload and claim["tags"][0]["name"] == payload[:80]
    assert claim["sources"][0]["title"] == payload[:300]
    assert claim["sources"][0]["url"] == HOSTILE_URL
    docs = client.get("/api/v1/docs/").content.decode()
    assert violations(docs, page=True) == []


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_corrections_reach_the_log_and_its_feed_only_as_text(client, editor, hostile_paper):
    """R15, R16: the corrections log and its feed show notes, titles and claims as text."""
    paper = Paper.objects.get(slug="hostile")
    claim = paper.claims.get()
    claim.kind = "normative"  # a changed claim, so the log lists its words
    claim.save()
    workflow.publish_correction(paper, by=editor, note=hostile_paper)
    workflow.withdraw_paper(paper, by=editor, reason=hostile_paper)
    html = client.get("/corrections/").content.decode()
    # <ins> is the log's own markup for inserted words, as on the diff page.
    assert [v for v in violations(html, page=True) if v != "<ins> element"] == []
    root = html5lib.parse(html, namespaceHTMLElements=False)
    notes = [squash("".join(el.itertext())) for el in root.iter("div")]
    expected = "".join(hostile_paper.split())
    assert sum(expected in note.replace(" ", "") for note in notes) == 2  # note and reason
    feed = ElementTree.fromstring(client.get("/corrections/feed/").content)
    atom = "{http://www.w3.org/2005/Atom}"
    for element in [*feed.iter(f"{atom}summary"), *feed.iter(f"{atom}content")]:
        assert [v for v in violations(element.text) if v != "<ins> element"] == []


# The forecasts page's own markup: its chart (inline SVG, no script) and its filter form.
FORECAST_PAGE_MARKUP = {
    f"<{tag}> element"
    for tag in ("svg", "g", "rect", "text", "title", "desc", "form", "label", "select", "option")
}
FORECAST_PAGE_MARKUP |= {"<button> element", "<caption> element"}


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_forecasts_and_resolutions_reach_pages_only_as_text(client, editor, hostile_paper):
    """R15, R16: a forecast's criteria, and its resolution's note and sources, show as text on
    the versions, the claim's page and /forecasts/ (whose chart draws the figures, not words)."""
    paper = Paper.objects.get(slug="hostile")
    claim = paper.claims.get()
    claim.kind, claim.due, claim.resolves_when = "predictive", "2020-01-01", hostile_paper
    claim.save()
    workflow.publish_correction(paper, by=editor, note="Now a forecast.")
    forecast = VersionClaim.objects.get(version__number=2, public_id=claim.public_id)
    source = {"title": hostile_paper[:300], "url": HOSTILE_URL}
    workflow.resolve_forecast(
        forecast, by=editor, outcome="partly", note=hostile_paper, sources=[source]
    )
    for url in ["/papers/hostile/", "/papers/hostile/v2/", f"/claims/{claim.public_id}/"]:
        html = client.get(url).content.decode()
        assert violations(html, page=True) == [], url
        assert 'href="https://example.org/?q=&quot;onmouseover' in html, url
    for url in ["/forecasts/", "/forecasts/?paper=hostile&tag=hostile"]:
        html = client.get(url).content.decode()
        assert [v for v in violations(html, page=True) if v not in FORECAST_PAGE_MARKUP] == []
    markdown = client.get("/papers/hostile/export.md").content.decode()
    assert "resolutions:" in markdown


def test_sources_refuse_non_web_urls(db):
    """R15: a source link is http(s) only, so `href="{{ source.url }}"` cannot run script."""
    source = SourceFactory.build(url="javascript:alert(1)")
    with pytest.raises(ValidationError):
        source.full_clean()


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


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_titles_reach_the_pdf_pending_page_and_the_task_admin_only_as_text(
    client, editor_client, task_queue, hostile_paper
):
    """R15, R16: the page saying a PDF is being typeset, and a failed task's arguments and
    error in the editors' admin, show user-written text only as text."""
    from django.utils.html import escape
    from django_tasks_db.models import DBTaskResult, get_date_max

    response = client.get("/papers/hostile/v1/paper.pdf")
    assert response.status_code == 503
    assert violations(response.content.decode(), page=True) == []
    failed = DBTaskResult.objects.create(
        task_path="papers.notifications.send_email",
        args_kwargs={"args": [hostile_paper[:300], hostile_paper, "a@example.org"], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
        status="FAILED",
        exception_class_path="smtplib.SMTPDataError",
        traceback=f"smtplib.SMTPDataError: (554, {hostile_paper!r})",
    )
    admin = "/admin/django_tasks_database/dbtaskresult/"
    for url in [admin, f"{admin}?status__exact=FAILED", f"{admin}{failed.pk}/change/"]:
        html = editor_client.get(url).content.decode()
        assert "<" not in hostile_paper or hostile_paper not in html, url
    assert escape(f"(554, {hostile_paper!r})") in html
