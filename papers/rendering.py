"""Markdown to safe HTML, plain text for notes, and where quotes sit in rendered text.

This module is the only place that declares HTML safe. Everything user-written reaches a page
either autoescaped by a template or through `render_markdown` / `render_plain` / `highlighted`
here.
"""

import functools
import html
import re
from html.parser import HTMLParser

import nh3
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

# CommonMark with raw HTML off; tables and strikethrough because papers use them. markdown-it-py
# is linear on pathological input (10 KB of "[" in ~0.1 s) where Python-Markdown takes seconds.
# Footnotes as Pandoc writes them ([^1] in the text, "[^1]: …" anywhere in the section); the
# inline kind (^[…]) stays off, so that words like "^[a-z]" in existing sections stay words.
_markdown = (
    MarkdownIt("commonmark", {"html": False})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin, inline=False)
)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    # Footnotes: the reference's superscript, and the list of notes after the section's prose.
    "sup",
    "section",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "aria-label"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "li": {"id"},
}
# Values allowed only as the footnote markup below writes them (see _footnote_attribute).
ALLOWED_VALUES = {"a": {"role": {"doc-noteref", "doc-backlink"}}, "ol": {"aria-label": {"Notes"}}}
ALLOWED_CLASSES = {"sup": {"footnote-ref"}, "section": {"footnotes"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_FOOTNOTE_ID = re.compile(r"(?:[A-Za-z0-9_-]+--)?fn(?:ref)?-[0-9]+(?:-[0-9]+)?")
_BACKLINK_LABEL = re.compile(r"Back to reference [0-9]+(?: \([0-9]+\))?")


def _footnote_attribute(tag, attribute, value):
    # Ids and labels only as footnotes write them: no other id can clobber a page's own.
    if attribute == "id":
        return value if _FOOTNOTE_ID.fullmatch(value) else None
    if attribute == "aria-label" and tag == "a":
        return value if _BACKLINK_LABEL.fullmatch(value) else None
    return value


def sanitize(markup):
    """Keep only the allowlisted tags, attributes and URL schemes."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=ALLOWED_VALUES,
        allowed_classes=ALLOWED_CLASSES,
        attribute_filter=_footnote_attribute,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text, *, anchor=""):
    """The one Markdown renderer: admin preview, public pages and exports all use it.

    `anchor` is the section's: its footnotes' ids start with it, so that the notes of the many
    sections on one page (each may have its own [^1]) never share an id.
    """
    env = {"anchor": re.sub(r"[^A-Za-z0-9_-]", "", anchor or "")}
    return sanitize(_markdown.render(text or "", env))


# --- Footnotes ----------------------------------------------------------------------------------
# Our own markup for mdit-py-plugins' footnote tokens: ids prefixed by the section's anchor, and
# DPUB-ARIA roles for the links both ways. Note labels never reach the HTML (notes are numbered).


def _note_id(env, kind, number, use=0):
    """`fn-1` for note 1, `fnref-1` for its first reference, `fnref-1-2` for its second; after
    `<anchor>--` in a section."""
    ident = f"{kind}-{number}" + (f"-{use + 1}" if use else "")
    return f"{env['anchor']}--{ident}" if env.get("anchor") else ident


def _footnote_ref(renderer, tokens, idx, options, env):
    number, use = tokens[idx].meta["id"] + 1, tokens[idx].meta.get("subId", 0)
    return (
        f'<sup class="footnote-ref"><a href="#{_note_id(env, "fn", number)}" '
        f'id="{_note_id(env, "fnref", number, use)}" role="doc-noteref">[{number}]</a></sup>'
    )


def _footnote_anchor(renderer, tokens, idx, options, env):
    number, use = tokens[idx].meta["id"] + 1, tokens[idx].meta.get("subId", 0)
    label = f"Back to reference {number}" + (f" ({use + 1})" if use else "")
    return (
        f' <a href="#{_note_id(env, "fnref", number, use)}" role="doc-backlink" '
        f'aria-label="{label}">\u21a9\ufe0e</a>'  # ↩ as text, not as an emoji
    )


def _footnote_open(renderer, tokens, idx, options, env):
    return f'<li id="{_note_id(env, "fn", tokens[idx].meta["id"] + 1)}">'


for _name, _rule in {
    "footnote_ref": _footnote_ref,
    "footnote_anchor": _footnote_anchor,
    "footnote_open": _footnote_open,
    "footnote_block_open": lambda *args: '<section class="footnotes">\n<ol aria-label="Notes">\n',
    "footnote_block_close": lambda *args: "</ol>\n</section>\n",
}.items():
    _markdown.add_render_rule(_name, _rule)


def render_plain(text):
    """Plain text (comments, notes) as escaped paragraphs with links made clickable."""
    if not (text or "").strip():
        return mark_safe("")
    return mark_safe(linebreaks(urlize(text, nofollow=True, autoescape=True)))


def highlighted(text, start, stop):
    """Plain text whose matches stand between the characters `start` and `stop`, as HTML: the
    text escaped, each match in <mark> (search snippets). A marker without its pair is dropped."""
    marked = _matches(start, stop).sub(r"<mark>\1</mark>", html.escape(text or ""))
    return mark_safe(marked.replace(start, "").replace(stop, ""))


@functools.cache
def _matches(start, stop):
    return re.compile(f"{re.escape(start)}([^{re.escape(start + stop)}]*){re.escape(stop)}")


def stored_html(markup):
    """HTML that this module produced when the content was saved or published."""
    return mark_safe(markup or "")


def escape_markdown(text):
    """Backslash-escape a line of plain text so that Markdown renders it exactly as written."""
    escaped = "".join("\\" + c if c in "\\`*_[]<>|~&" else c for c in text)
    stripped = escaped.lstrip()
    if stripped[:1] in {"#", "-", "+", "=", ">"}:
        i = len(escaped) - len(stripped)
        escaped = escaped[:i] + "\\" + escaped[i:]
    head, dot, _ = stripped.partition(". ")
    if head.isdigit() and dot:
        escaped = escaped.replace(". ", "\\. ", 1)
    head, paren, _ = stripped.partition(") ")
    if head.isdigit() and paren:
        escaped = escaped.replace(") ", "\\) ", 1)
    return escaped


# --- Text of rendered HTML, and where quotes sit in it ------------------------------------------


# Footnote links are shown but are not words of the text: a claim's quote reads "sentence. Next"
# across "sentence.[1] Next", and adding a note to a claimed sentence leaves the claim in place.
_NOT_TEXT = {("role", "doc-noteref"), ("role", "doc-backlink")}


def start_tag(tag, attrs):
    rendered = "".join(
        f' {name}="{html.escape(value, quote=True)}"' if value is not None else f" {name}"
        for name, value in attrs
    )
    return f"<{tag}{rendered}>"


class _Tokens(HTMLParser):
    """Splits sanitised HTML into start tags, end tags and decoded text, in order; a footnote
    link is one ("raw", its markup) token, outside the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.raw = None  # the markup of the footnote link being read

    def handle_starttag(self, tag, attrs):
        if self.raw is None and tag == "a" and _NOT_TEXT.intersection(attrs):
            self.raw = []
        if self.raw is not None:
            self.raw.append(start_tag(tag, attrs))
        else:
            self.tokens.append(("start", tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.raw is None:
            self.tokens.append(("end", tag, None))
            return
        self.raw.append(f"</{tag}>")
        if tag == "a":
            self.tokens.append(("raw", "".join(self.raw), None))
            self.raw = None

    def handle_data(self, data):
        if self.raw is not None:
            self.raw.append(html.escape(data, quote=False))
        else:
            self.tokens.append(("text", data, None))


def _tokenize(markup):
    parser = _Tokens()
    parser.feed(markup)
    parser.close()
    if parser.raw:  # a footnote link left open: nothing is lost
        parser.tokens.append(("raw", "".join(parser.raw), None))
    return parser.tokens


def _normalized(raw):
    """Collapse whitespace runs to one space; return the text and each character's raw index."""
    chars, index, in_space = [], [], True
    for i, c in enumerate(raw):
        if c.isspace():
            if in_space:
                continue
            chars.append(" ")
            in_space = True
        else:
            chars.append(c)
            in_space = False
        index.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    return "".join(chars), index


def squash(text):
    return " ".join((text or "").split())


def html_to_text(markup):
    """The reader-visible text of HTML, whitespace collapsed: what claim quotes are matched in."""
    raw = "".join(value for kind, value, _ in _tokenize(markup) if kind == "text")
    return _normalized(raw)[0]


class QuoteNotFound(ValueError):
    pass


def find_quote(text, quote, prefix="", suffix=""):
    """The (start, end) of the one occurrence of quote in text that prefix/suffix select.

    Whitespace differences are ignored. Raises QuoteNotFound with a message for the editor.
    """
    quote, prefix, suffix = squash(quote), squash(prefix), squash(suffix)
    if not quote:
        raise QuoteNotFound("The quote is empty.")
    starts = occurrences(text, quote)
    if not starts:
        raise QuoteNotFound("These words do not appear in the section's text; copy them exactly.")
    fitting = [s for s in starts if _fits(text, s, s + len(quote), prefix, suffix)]
    if not fitting:
        raise QuoteNotFound(
            "The quote is in the section, but not with the given words before or after it."
        )
    if len(fitting) > 1:
        raise QuoteNotFound(
            f"The quote appears {len(fitting)} times in the section; add a few words before or "
            "after it (prefix or suffix) to say which one."
        )
    return fitting[0], fitting[0] + len(quote)


def _fits(text, start, end, prefix, suffix):
    """Whether text before start ends with prefix and text after end starts with suffix,
    whitespace between them aside. Walks instead of slicing: a short quote can occur thousands
    of times in a long section."""
    while start and text[start - 1].isspace():
        start -= 1
    while end < len(text) and text[end].isspace():
        end += 1
    return text.endswith(prefix, 0, start) and text.startswith(suffix, end)


def locate_quote(text, quote, prefix="", suffix=""):
    try:
        return find_quote(text, quote, prefix, suffix)
    except QuoteNotFound:
        return None


def occurrences(text, quote):
    """Where the (whitespace-collapsed) quote starts in text, overlapping occurrences included."""
    starts, at = [], text.find(quote) if quote else -1
    while at != -1:
        starts.append(at)
        at = text.find(quote, at + 1)
    return starts


# More occurrences than this in one section, and the words are too common to quote as a claim;
# refusing them also bounds the search for a context below.
MAX_OCCURRENCES = 50


def context_for(text, quote, start, limit=200):
    """The shortest (prefix, suffix) of whole words that makes `find_quote` select the
    occurrence of quote at `start`: both empty when the quote occurs once. Raises QuoteNotFound
    when no context within `limit` characters tells it apart."""
    quote = squash(quote)
    starts = occurrences(text, quote)
    if len(starts) <= 1:
        return "", ""
    if len(starts) > MAX_OCCURRENCES:
        raise QuoteNotFound(
            f"These words occur {len(starts)} times in the section: quote more of the sentence."
        )
    end = start + len(quote)
    rivals = [s for s in starts if s != start]
    before = text[max(0, start - 2 * limit) : start].split()
    after = text[end : end + 2 * limit].split()
    for n in range(1, max(len(before), len(after)) + 1):
        prefix, suffix = " ".join(before[-n:]), " ".join(after[:n])
        if (n > len(before) or len(prefix) > limit) and (n > len(after) or len(suffix) > limit):
            break  # neither side can grow within what the fields hold
        for candidate in ((prefix, ""), ("", suffix), (prefix, suffix)):
            if max(map(len, candidate)) > limit or not any(candidate):
                continue
            if not any(_fits(text, s, s + len(quote), *candidate) for s in rivals):
                return candidate
    raise QuoteNotFound(
        "These words occur more than once in the section, and the words around this occurrence "
        "do not tell it apart from the others."
    )
