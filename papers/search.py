"""Search over published papers: the index written at publication, and the query side.

On PostgreSQL each live version's text is a weighted tsvector (title A, standfirst and claims
B, sections C) behind a GIN index, queried in websearch syntax ("quoted phrases", or, -not) and
ranked; on other databases (SQLite in development) every word of the query must appear in the
stored text, papers with the words in their title first.
"""

import re
import unicodedata

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, Func, Q, TextField, Value, When
from django.db.models.functions import Concat

from papers import rendering
from papers.models import SearchDocument

MAX_QUERY_LENGTH = 500
SNIPPET_LENGTH = 240
# Matches in a snippet are wrapped in these control characters, never HTML: the snippet stays
# plain text that the template escapes piece by piece. Queries and indexed text are cleared of
# control characters, so the markers cannot come from a reader or an author.
START, STOP = "\x02", "\x03"
_MARKERS = re.compile(f"([{START}{STOP}])")
_NO_MARKERS = {ord(START): None, ord(STOP): None}
_WORDS = re.compile(r"\w+")


def index(version, document):
    """Make the paper's search entry the text of this version (called when it is published)."""
    fields = {
        "title": version.title,
        "standfirst": rendering.html_to_text(version.standfirst_html),
        "claims": "\n".join(claim["quote"] for claim in document.get("claims", [])),
        "body": "\n".join(
            f"{section['heading']}\n{rendering.html_to_text(rendering.render_markdown(section['body']))}"
            for section in document["sections"]
        ),
    }
    fields = {name: text.translate(_NO_MARKERS) for name, text in fields.items()}
    entry, _ = SearchDocument.objects.update_or_create(paper=version.paper, defaults=fields)
    if connection.vendor == "postgresql":
        SearchDocument.objects.filter(pk=entry.pk).update(
            vector=SearchVector(Value(fields["title"]), weight="A", config="english")
            + SearchVector(Value(fields["standfirst"]), weight="B", config="english")
            + SearchVector(Value(fields["claims"]), weight="B", config="english")
            + SearchVector(Value(fields["body"]), weight="C", config="english")
        )
    return entry


def unindex(paper):
    """Withdrawn papers leave search."""
    SearchDocument.objects.filter(paper=paper).delete()


def clean_query(raw):
    """The query to search for and a notice for the reader if it had to be shortened. Control
    characters go (PostgreSQL refuses NUL; tabs and newlines mean nothing in a search)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in raw or "")
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_LENGTH:
        return text, ""
    notice = f"Searches are limited to {MAX_QUERY_LENGTH} characters; the rest was left out."
    return text[:MAX_QUERY_LENGTH].rstrip(), notice


def matching(papers, query):
    """The papers of `papers` that match the query, best first, ready for `with_snippets`."""
    if connection.vendor == "postgresql":
        return _postgres_matching(papers, query)
    return _fallback_matching(papers, query)


def with_snippets(papers, query):
    """The papers (one page of `matching`) as a list, each with `snippet`: the matching text as
    (text, is_match) pieces."""
    papers = list(papers)
    for paper in papers:
        if connection.vendor == "postgresql":
            marked = paper.headline
        else:
            marked = _fallback_headline(paper.search_text, _WORDS.findall(query))
        paper.snippet = _pieces(marked)
    return papers


def _postgres_matching(papers, query):
    found = SearchQuery(query, search_type="websearch", config="english")
    headline = SearchHeadline(
        _searched_text(),
        found,
        config="english",
        start_sel=START,
        stop_sel=STOP,
        min_words=15,
        max_words=35,
        max_fragments=2,
        fragment_delimiter=" … ",
    )
    return (
        papers.filter(search_document__vector=found)
        .annotate(rank=SearchRank(F("search_document__vector"), found), headline=headline)
        .order_by("-rank", "-live_version__published_at", "pk")
    )


def _searched_text():
    """What snippets are cut from: the standfirst, then the sections (claims are in them)."""
    return Concat(
        "search_document__standfirst",
        Value("\n"),
        "search_document__body",
        output_field=TextField(),
    )


class Casefold(Func):
    """Python's str.casefold() in SQLite, whose lower() and LIKE fold ASCII letters only: with
    it “KLAIPĖDA” finds “Klaipėda”. Registered on the connection when a query uses it."""

    function = "standpoint_casefold"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function(self.function, 1, _casefold, deterministic=True)
        return self.as_sql(compiler, connection, **extra_context)


def _casefold(text):
    return text.casefold() if isinstance(text, str) else text


def _fallback_matching(papers, query):
    words = list(dict.fromkeys(word.casefold() for word in _WORDS.findall(query)))
    if not words:
        return papers.none()
    fields = ("title", "standfirst", "claims", "body")
    papers = papers.annotate(
        **{f"folded_{name}": Casefold(f"search_document__{name}") for name in fields},
        search_text=_searched_text(),
    )
    for word in words:
        # `contains` escapes % and _ itself; each word may appear in any of the fields.
        anywhere = Q()
        for name in fields:
            anywhere |= Q(**{f"folded_{name}__contains": word})
        papers = papers.filter(anywhere)
    title_hits = sum(
        (Case(When(folded_title__contains=word, then=1), default=0) for word in words),
        start=Value(0),
    )
    return papers.annotate(title_hits=title_hits).order_by(
        "-title_hits", "-live_version__published_at", "pk"
    )


def _fallback_headline(text, words):
    """About SNIPPET_LENGTH characters of text around the first match, matches marked."""
    text = " ".join((text or "").split())
    if not words:
        return text[:SNIPPET_LENGTH]
    pattern = re.compile(
        "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True)),
        re.IGNORECASE,
    )
    first = pattern.search(text)
    start = 0
    if first and first.start() > SNIPPET_LENGTH // 3:
        # From the start of the word a third of a snippet before the match.
        start = text.rfind(" ", 0, first.start() - SNIPPET_LENGTH // 3) + 1
    end = start + SNIPPET_LENGTH
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    window = text[start:end]
    marked = pattern.sub(lambda match: f"{START}{match.group()}{STOP}", window)
    return ("… " if start else "") + marked + (" …" if end < len(text) else "")


def _pieces(marked):
    """Split marked text into (text, is_match) pieces."""
    pieces, inside = [], False
    for piece in _MARKERS.split(marked or ""):
        if piece in (START, STOP):
            inside = piece == START
        elif piece:
            pieces.append((piece, inside))
    return pieces
