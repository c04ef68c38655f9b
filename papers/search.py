"""Search over published papers and their claims: the index written at publication, and the
query side. Matching is blind to case and accents: "klaipeda" finds "Klaipėda".

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

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Contains

from papers import rendering
from papers.models import SearchDocument
from papers.models.search import SearchPassage

CONFIG = "standpoint"  # PostgreSQL's text search configuration (migration 0008)
MAX_QUERY_LENGTH = 500
SNIPPET_LENGTH = 240
PASSAGE_CHARS = 800
# Matches in a snippet are wrapped in these control characters, never HTML: the snippet stays
# plain text that the template escapes piece by piece. Queries and indexed text are cleared of
# control characters, so the markers cannot come from a reader or an author.
START, STOP = "\x02", "\x03"
_MARKERS = re.compile(f"([{START}{STOP}])")
_NO_MARKERS = {ord(START): None, ord(STOP): None}
_WORDS = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
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


# --- The index ---------------------------------------------------------------------------------


def index(version, document):
    """Make the paper's search entry the text of this version (called when it is published)."""
    standfirst = rendering.html_to_text(version.standfirst_html)
    sections = [
        (section["heading"], rendering.html_to_text(rendering.render_markdown(section["body"])))
        for section in document["sections"]
    ]
    fields = {
        "title": version.title,
        "standfirst": standfirst,
        "claims": "\n".join(claim["quote"] for claim in document.get("claims", [])),
        "body": "\n".join(f"{heading}\n{text}" for heading, text in sections),
    }
    fields = {name: text.translate(_NO_MARKERS) for name, text in fields.items()}
    entry, _ = SearchDocument.objects.update_or_create(paper=version.paper, defaults=fields)
    entry.passages.all().delete()
    texts = [standfirst, *(text for _, text in sections)]
    SearchPassage.objects.bulk_create(
        SearchPassage(document=entry, position=n, text=text.translate(_NO_MARKERS))
        for n, text in enumerate(passage for text in texts for passage in passages(text))
    )
    if connection.vendor == "postgresql":
        SearchDocument.objects.filter(pk=entry.pk).update(
            vector=SearchVector(Value(fields["title"]), weight="A", config=CONFIG)
            + SearchVector(Value(fields["standfirst"]), weight="B", config=CONFIG)
            + SearchVector(Value(fields["claims"]), weight="B", config=CONFIG)
            + SearchVector(Value(fields["body"]), weight="C", config=CONFIG)
        )
        entry.passages.update(vector=SearchVector("text", config=CONFIG))
    return entry


def passages(text):
    """The text in passages of at most PASSAGE_CHARS, cut between sentences (between words in
    a sentence longer than that)."""
    found, current = [], ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        while len(sentence) > PASSAGE_CHARS:
            cut = sentence.rfind(" ", 0, PASSAGE_CHARS + 1)
            cut = cut if cut > 0 else PASSAGE_CHARS
            found += [current] if current else []
            found.append(sentence[:cut].rstrip())
            current, sentence = "", sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > PASSAGE_CHARS:
            found.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return found + ([current] if current else [])


def unindex(paper):
    """Withdrawn papers leave search."""
    SearchDocument.objects.filter(paper=paper).delete()


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


def matching(papers, query):
    """The papers of `papers` that match the query, best first, ready for `with_snippets`.
    A result shows no version's body or snapshot: they are not read."""
    papers = papers.defer("live_version__body_html", "live_version__snapshot", "live_version__toc")
    if connection.vendor == "postgresql":
        found = _tsquery(query)
        # Each paper's snippet comes with it: PostgreSQL runs the subquery, and its ts_headline,
        # only for the rows the page keeps (after the sort and the LIMIT), in the same query.
        return (
            papers.filter(search_document__vector=found)
            .annotate(
                rank=SearchRank(F("search_document__vector"), found),
                marked=Subquery(_headline_of_best_passage(found)),
            )
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


def with_snippets(papers, query):
    """The papers (one page of `matching`) as a list, each with `snippet`: the matching text of
    its best passage as (text, is_match) pieces. On PostgreSQL the page's query brought them;
    elsewhere one more query, whatever the page holds."""
    papers = list(papers)
    if connection.vendor == "postgresql":
        marked = {paper.pk: paper.marked for paper in papers}
    else:
        words = _query_words(query)
        chosen = _best_passages(papers, hits=_hits(Fold("text"), words)).values_list(
            "document__paper_id", "text"
        )
        marked = {paper_id: _fallback_headline(text, words) for paper_id, text in chosen}
    for paper in papers:
        paper.snippet = _pieces(marked.get(paper.pk, ""))
    return papers


def _tsquery(query):
    return SearchQuery(query, search_type="websearch", config=CONFIG)


def _query_words(query):
    return list(dict.fromkeys(_WORDS.findall(fold(query))))


def _headline_of_best_passage(found):
    """The outer paper's passage matching `found` best (the first of equals; the standfirst's
    first when only the title matches), cut and marked by ts_headline."""
    return (
        SearchPassage.objects.filter(document__paper=OuterRef("pk"))
        .annotate(
            hit=ExpressionWrapper(Q(vector=found), output_field=BooleanField()),
            score=SearchRank(F("vector"), found),
            headline=SearchHeadline(
                "text",
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
        .order_by("-hit", "-score", "position")
        .values("headline")[:1]
    )


def _best_passages(papers, **scores):
    """Each paper's passage with the highest scores (in the order given), the first of equals
    (SQLite; on PostgreSQL, `_headline_of_best_passage`)."""
    order = [f"-{name}" for name in scores]
    passages = SearchPassage.objects.filter(document=OuterRef("pk")).annotate(**scores)
    best = passages.order_by(*order, "position").values("pk")[:1]
    documents = SearchDocument.objects.filter(paper__in=[paper.pk for paper in papers])
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


def _pieces(marked):
    """Split marked text into (text, is_match) pieces."""
    pieces, inside = [], False
    for piece in _MARKERS.split(marked or ""):
        if piece in (START, STOP):
            inside = piece == START
        elif piece:
            pieces.append((piece, inside))
    return pieces
