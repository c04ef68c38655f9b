"""Search over published papers and their claims (the index they are found in is written at
publication, by papers/search_index.py). Matching is blind to case and accents: "klaipeda"
finds "Klaipėda".

On PostgreSQL each live version's text is a weighted tsvector (title A, standfirst and claims
B, sections C) behind a GIN index, in the `standpoint` text search configuration (English with
`unaccent` before stemming; migration 0008), queried in websearch syntax ("quoted phrases",
or, -not) and ranked; on other databases (SQLite in development) every word of the query must
appear in the stored text, folded by `fold`, papers with the words in their title first.

A result's snippet is cut from one passage of a few sentences (the one matching best), never
from the whole paper, and only for the page's results: highlighting reads every word of the
text it is given, so it is given little.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Contains

from papers import rendering
from papers.models import Paper, SearchDocument
from papers.models.search import SearchPassage

CONFIG = "standpoint"  # PostgreSQL's text search configuration (migration 0008)
MAX_QUERY_LENGTH = 500
SNIPPET_LENGTH = 240
# Matches in a snippet are wrapped in these control characters, never HTML: the snippet stays
# plain text until rendering.highlighted escapes it and marks them. Queries and indexed text are
# cleared of control characters, so the markers cannot come from a reader or an author.
START, STOP = "\x02", "\x03"
_WORDS = re.compile(r"\w+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters that Unicode does not decompose into a base letter and an accent, folded as
# PostgreSQL's unaccent folds them.
_UNSPLIT = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"})


def fold(text):
    """Text without case or accents, as the SQLite fallback compares it ("Klaipėda" →
    "klaipeda"); PostgreSQL's configuration does the same with unaccent."""
    if text.isascii():
        return text.lower()
    bare = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    # translate() reads every character slowly: only text with letters left to fold needs it.
    return bare if bare.isascii() else bare.translate(_UNSPLIT)


# --- Queries -----------------------------------------------------------------------------------


def clean_query(raw):
    """The query to search for and a notice for the reader if it had to be shortened. Control
    characters go (PostgreSQL refuses NUL; tabs and newlines mean nothing in a search)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in raw or "")
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_LENGTH:
        return text, ""
    notice = f"Searches are limited to {MAX_QUERY_LENGTH} characters; the rest was left out."
    return text[:MAX_QUERY_LENGTH].rstrip(), notice


class Results:
    """The listed papers matching a query (and a tag), best first, as Django's Paginator reads
    them: their number, then one page of `Result`s. On PostgreSQL one query brings both, for
    the page the reader asked for (`asked`, the raw `?page=`); another is made only when the
    Paginator settles on another page (one past the last, say)."""

    def __init__(self, query, *, tag=None, per_page, asked):
        self.query, self.tag, self.per_page = query, tag, per_page
        self.offset = (_page_number(asked) - 1) * per_page
        self.rows, self.total = None, None

    def count(self):
        if self.rows is None:
            self.fetch(self.offset)
        if self.total is None:  # a page past the last brings no count with it
            self.total = self.matching().count()
        return self.total

    def __getitem__(self, window):
        if self.rows is None or window.start != self.offset:
            self.fetch(window.start)
        return self.rows

    def fetch(self, offset):
        self.offset = offset
        if connection.vendor == "postgresql":
            self.rows, total = _page_on_postgresql(self.query, self.tag, offset, self.per_page)
            if self.rows or offset == 0:
                self.total = total
        else:
            self.rows = _page_elsewhere(self.matching(), self.query, offset, self.per_page)

    def matching(self):
        papers = Paper.objects.listed()
        if self.tag is not None:
            papers = papers.filter(live_version__tags=self.tag)
        return matching(papers, self.query)


@dataclass(frozen=True, slots=True)
class Result:
    """A paper found: what its cards are kept under (papers/cards.py), and its snippet (HTML:
    the passage's text escaped, the matches in <mark>)."""

    paper_id: int
    version_id: int
    snippet: str


def matching(papers, query):
    """The papers of `papers` that match the query, best first."""
    if connection.vendor == "postgresql":
        found = _tsquery(query)
        return (
            papers.filter(search_document__vector=found)
            .annotate(rank=SearchRank(F("search_document__vector"), found))
            .order_by("-rank", "-live_version__published_at", "pk")
        )
    words = _query_words(query)
    if not words:
        return papers.none()
    fields = ("title", "standfirst", "claims", "body")
    papers = papers.alias(**{f"folded_{name}": Fold(f"search_document__{name}") for name in fields})
    for word in words:
        # `contains` escapes % and _ itself; each word may appear in any of the fields.
        papers = papers.filter(_anywhere(word, [f"folded_{name}" for name in fields]))
    return papers.annotate(title_hits=_hits(F("folded_title"), words)).order_by(
        "-title_hits", "-live_version__published_at", "pk"
    )


def matching_claims(claims, query):
    """The published claims (VersionClaim rows) of `claims` whose text matches the query."""
    if connection.vendor == "postgresql":
        # The same expression as the GIN index of migration 0008, matched on its own: folded
        # into the outer query, the planner reckons to_tsvector cheap and runs it, unaccent
        # dictionary and all, over every live claim (11 ms for 1,000 claims, against 0.9 ms
        # through the index). OFFSET 0 keeps it from folding the subquery in.
        vector = SearchVector("quote", config=CONFIG)
        found = claims.model.objects.alias(quote_vector=vector).filter(quote_vector=_tsquery(query))
        sql, params = found.values("pk").query.sql_with_params()
        return claims.filter(pk__in=RawSQL(f"{sql} OFFSET 0", params))
    words = _query_words(query)
    if not words:
        return claims.none()
    claims = claims.alias(folded_quote=Fold("quote"))
    for word in words:
        claims = claims.filter(folded_quote__contains=word)
    return claims


def _tsquery(query):
    return SearchQuery(query, search_type="websearch", config=CONFIG)


def _query_words(query):
    return list(dict.fromkeys(_WORDS.findall(fold(query))))


def _page_number(asked):
    """The page the reader asked for, as the Paginator will read it when it can."""
    try:
        return max(int(asked), 1)
    except (TypeError, ValueError):
        return 1


# --- The page's query on PostgreSQL ------------------------------------------------------------

# Stand-ins for a search's own values in the statement the ORM compiles once (`_statement`):
# neither can be a reader's query or a tag's slug, as queries lose their control characters.
QUERY, TAG = "\x00query", "\x00tag"


def _page_on_postgresql(query, tag, offset, limit):
    """One page of results and the number of them all, from one statement."""
    sql, params = _statement(tagged=tag is not None)
    values = {QUERY: query, TAG: tag.slug if tag is not None else None}
    params = [values.get(param, param) if isinstance(param, str) else param for param in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
    results = [
        Result(paper_id, version_id, rendering.highlighted(marked, START, STOP))
        for paper_id, version_id, _, marked in rows
    ]
    return results, rows[0][2] if rows else 0


@functools.cache
def _statement(*, tagged):
    """The SQL and parameters of a page's query (its LIMIT and OFFSET left to fill), compiled
    by the ORM once per process: compiling it took longer than PostgreSQL takes to run it. The
    rows come ranked, each with the count of all rows (a window over the whole match, computed
    before the LIMIT) and a snippet that PostgreSQL cuts only for the rows the LIMIT keeps."""
    found = _ParsedOnce(QUERY, search_type="websearch", config=CONFIG)
    papers = Paper.objects.listed().filter(search_document__vector=found)
    if tagged:
        papers = papers.filter(live_version__tags__slug=TAG)
    rows = (
        papers.annotate(
            rank=SearchRank(F("search_document__vector"), found),
            total=Window(Count("*")),
            marked=SearchHeadline(
                _best_passage(found),
                found,
                config=CONFIG,
                start_sel=START,
                stop_sel=STOP,
                min_words=15,
                max_words=35,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-live_version__published_at", "pk")
        .values_list("pk", "live_version_id", "total", "marked")
    )
    sql, params = rows.query.sql_with_params()
    return f"{sql} LIMIT %s OFFSET %s", params


def _best_passage(found):
    """The text of the outer paper's passage matching `found` best (the first of equals), or
    its first passage (the standfirst's) when only its title or claims match. Only matching
    passages are scored."""
    passages = SearchPassage.objects.filter(document=OuterRef("search_document"))
    first = passages.order_by("position").values("text")[:1]
    best = passages.filter(vector=found).order_by(SearchRank(F("vector"), found).desc(), "position")
    return Coalesce(Subquery(best.values("text")[:1]), Subquery(first))


class _ParsedOnce(SearchQuery):
    """The reader's query parsed once per statement: PostgreSQL runs a stable function of
    constants again for every row that meets it, and an uncorrelated subquery once (parsing
    the query for each passage compared cost 0.7 ms a search)."""

    template = "(SELECT %(function)s(%(expressions)s))"


def _page_elsewhere(papers, query, offset, limit):
    """One page of `matching`'s papers as Results, in two queries whatever its size: the papers
    and their snippets."""
    page = list(papers.values_list("pk", "live_version_id")[offset : offset + limit])
    words = _query_words(query)
    chosen = _best_passages([paper_id for paper_id, _ in page], hits=_hits(Fold("text"), words))
    marked = {
        paper_id: _fallback_headline(text, words)
        for paper_id, text in chosen.values_list("document__paper_id", "text")
    }
    return [
        Result(paper_id, version_id, rendering.highlighted(marked.get(paper_id, ""), START, STOP))
        for paper_id, version_id in page
    ]


def _best_passages(paper_ids, **scores):
    """Each paper's passage with the highest scores (in the order given), the first of equals
    (elsewhere than PostgreSQL; there, `_best_passage`)."""
    order = [f"-{name}" for name in scores]
    passages = SearchPassage.objects.filter(document=OuterRef("pk")).annotate(**scores)
    best = passages.order_by(*order, "position").values("pk")[:1]
    documents = SearchDocument.objects.filter(paper__in=paper_ids)
    return SearchPassage.objects.filter(pk__in=documents.values(best=Subquery(best)))


def _anywhere(word, fields):
    anywhere = Q()
    for name in fields:
        anywhere |= Q(**{f"{name}__contains": word})
    return anywhere


def _hits(expression, words):
    """How many of the (folded) words the folded expression holds."""
    return sum(
        (Case(When(Contains(expression, word), then=1), default=0) for word in words),
        start=Value(0),
    )


class Fold(Func):
    """`fold` in SQLite, whose lower() and LIKE fold ASCII letters only: with it “KLAIPĖDA” and
    “klaipeda” find “Klaipėda”. Registered on the connection when a query uses it."""

    function = "standpoint_fold"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function(self.function, 1, _fold, deterministic=True)
        return self.as_sql(compiler, connection, **extra_context)


# SQLite calls the function again for every row of every query: a search folded each paper's
# whole text once per word and per field, and every passage of the page's papers. A development
# database's papers and passages fit here.
@functools.lru_cache(maxsize=4096)
def _fold(text):
    return fold(text) if isinstance(text, str) else text


# --- Snippets on SQLite ------------------------------------------------------------------------


def _fallback_headline(text, words):
    """About SNIPPET_LENGTH characters of text around the first match, matches marked."""
    text = " ".join((text or "").split())
    spans = _spans(text, words)
    start = 0
    if spans and spans[0][0] > SNIPPET_LENGTH // 3:
        # From the start of the word a third of a snippet before the match.
        start = text.rfind(" ", 0, spans[0][0] - SNIPPET_LENGTH // 3) + 1
    end = start + SNIPPET_LENGTH
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    pieces, at = [], start
    for match_start, match_end in spans:
        if match_start < at or match_start >= end:
            continue
        match_end = min(match_end, end)
        pieces += [text[at:match_start], START, text[match_start:match_end], STOP]
        at = match_end
    pieces.append(text[at:end])
    return ("… " if start else "") + "".join(pieces) + (" …" if end < len(text) else "")


def _spans(text, words):
    """(start, end) in `text` of each match of the folded words in the folded text."""
    if not words:
        return []
    if text.isascii():  # most text: one character for one, nothing to map back
        folded, origins = [text.lower()], range(len(text))
    else:
        folded, origins = [], []
        for i, char in enumerate(text):
            folded.append(char.lower() if char.isascii() else fold(char))
            origins += [i] * len(folded[-1])
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    spans = []
    for match in pattern.finditer("".join(folded)):
        start, end = origins[match.start()], origins[match.end() - 1] + 1
        while end < len(text) and not fold(text[end]):  # accents written as separate marks
            end += 1
        spans.append((start, end))
    return spans
