"""Similar claims across the catalogue: published claims of other papers that say nearly the
same thing as a claim being written or reviewed, with their review status, any correction that
changed them and any forecast outcome. A claim resembling one that is disputed, corrected or
resolved as false elsewhere is flagged, with the reason.

Nearness is trigram similarity (PostgreSQL's pg_trgm): the share of three-letter sequences two
texts have in common, after accents are folded and case ignored. On PostgreSQL it runs in the
database against a GIN index over the published claims' folded text (migration 0011); elsewhere
the same measure runs here, over at most SQLITE_CANDIDATES published claims. Both give the same
score for the same pair (tests/test_similarity.py holds them to a table of sentence pairs).

Every published version's claims are compared, not only the live ones: a claim a correction
reworded or removed is exactly what an editor should hear about. Only papers readers can see
now (published, not withdrawn) take part, and never the claim's own paper. Looking up the
claims of a whole workspace costs the same five queries as looking up one.

What is found depends on the published catalogue alone, which changes only with the public
revision (papers.pagecache), so it is kept in the "similar" cache under the revision, the paper
left out and a digest of the text: the claims of a workspace part are read in one round trip,
and only those not kept yet are looked up (in the five queries). An entry holds published
claims only, never a draft's words (the text looked up is in its key as a digest alone); the
entries of an old revision are never read again and age out.

So that the first workspace view after a change readers can see does not pay for the lookups
(a trigram search per claim, some 6 ms each), a task looks up the claims of every paper in
review under the new revision once the change commits, when the cache is one every process
reads (Redis; not a process's own memory, which would keep them for the worker alone).
"""

import functools
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.db.backends.signals import connection_created
from django.urls import reverse

from papers import pagecache
from papers.models import Claim, Paper, Version, VersionClaim
from papers.models.forecasts import Resolution
from papers.tasks import enqueue_on_commit, retried

# Reworded, reordered, re-cased or re-accented sentences score 0.65 and up; different claims
# on the same subject, even sharing half their words, 0.58 and below (the test table).
THRESHOLD = 0.6
SHOWN = 5  # similar claims listed for one claim, the nearest first
SQLITE_CANDIDATES = 20_000
# Statuses and outcomes that put a similar claim under a flag, with the reason given.
FLAGGED_STATUSES = {"disputed": "disputed by a reviewer", "mixed": "reviewers disagree about it"}
FLAGGED_OUTCOMES = {Resolution.Outcome.DID_NOT: "the forecast did not come true"}

KEPT_SECONDS = 24 * 3600  # how long an entry is kept, at most
# Papers whose claims reviewers and editors look at beside their similar claims.
WARMED_STAGES = (Paper.Stage.IN_REVIEW, Paper.Stage.CHANGES_REQUESTED, Paper.Stage.APPROVED)

_WORD = re.compile(r"[^\W_]+")
logger = logging.getLogger(__name__)


@dataclass
class Correction:
    """How a correction changed a similar claim: reworded, re-assessed or removed."""

    change: str
    version: int
    note: str
    url: str


@dataclass
class Similar:
    """A published claim of another paper that resembles the claim looked up."""

    claim: VersionClaim  # the row that resembled it, with its version and paper
    score: float
    status: str  # as published last (the live version's, or the last that held the claim)
    status_label: str
    removed: bool = False  # no longer in its paper's live version
    correction: Correction | None = None
    outcome: Resolution | None = None

    @property
    def reasons(self):
        """Why this claim is flagged, in words; empty when it is not."""
        found = []
        if self.status in FLAGGED_STATUSES:
            found.append(FLAGGED_STATUSES[self.status])
        if self.correction is not None:
            found.append(f"{self.correction.change} by a correction in v{self.correction.version}")
        if self.outcome is not None and self.outcome.outcome in FLAGGED_OUTCOMES:
            found.append(FLAGGED_OUTCOMES[self.outcome.outcome])
        return found

    @property
    def flagged(self):
        return bool(self.reasons)

    @property
    def percent(self):
        return round(self.score * 100)


def similar_to(text, *, paper_id=None):
    """The published claims of papers other than `paper_id`'s that resemble `text`, nearest
    first."""
    return similar_to_claims({None: text}, paper_id=paper_id)[None]


def similar_to_claims(texts, *, paper_id=None):
    """{key: [Similar]} for {key: text}: the texts kept from earlier lookups read from the
    cache in one round trip, the others looked up together (`lookup`) and kept."""
    found = {key: [] for key in texts}
    texts = {key: text for key, text in texts.items() if text and text.strip()}
    if not texts:
        return found
    names = _names(texts, paper_id)
    kept = _read(list(set(names.values())))
    missing = {key: text for key, text in texts.items() if names[key] not in kept}
    if missing:
        looked_up = lookup(missing, paper_id=paper_id)
        fresh = {names[key]: similar for key, similar in looked_up.items()}
        _write(fresh)
        kept.update(fresh)
    for key in texts:
        found[key] = kept[names[key]]
    return found


def lookup(texts, *, paper_id=None):
    """{key: [Similar]} for {key: text}, looked up in the database (not the cache) in five
    queries whatever the number of texts."""
    found = {key: [] for key in texts}
    texts = {key: text for key, text in texts.items() if text and text.strip()}
    if not texts:
        return found
    keys = list(texts)
    if connection.vendor == "postgresql":
        matches = _matches_in_database([texts[key] for key in keys], paper_id)
    else:
        matches = _matches_here([texts[key] for key in keys], paper_id)
    best = {}  # (key, public id): (score, row id): a claim once, at its nearest version
    for n, row_id, public_id, score in matches:
        best[keys[n], public_id] = max(best.get((keys[n], public_id), (0, 0)), (score, row_id))
    rows = _rows([row_id for _, row_id in best.values()])
    history = _history({public_id for _, public_id in best})
    for (key, public_id), (score, row_id) in best.items():
        found[key].append(_similar(rows[row_id], score, history[public_id]))
    for key in found:
        found[key] = sorted(found[key], key=lambda s: (-s.score, s.claim.public_id))[:SHOWN]
    return found


def flag(similar):
    """What the flag over a claim says of the similar claims under one; empty if none is."""
    flagged = [item for item in similar if item.flagged]
    if not flagged:
        return ""
    reasons = ", ".join(dict.fromkeys(reason for item in flagged for reason in item.reasons))
    count = "a claim" if len(flagged) == 1 else f"{len(flagged)} claims"
    return f"Resembles {count} elsewhere: {reasons}"


# --- Kept results -------------------------------------------------------------------------------


def warm_after_commit():
    """Queue `warm` for when the change that moved the public revision commits, if the cache
    is shared by every process."""
    if not isinstance(caches["similar"], LocMemCache):
        enqueue_on_commit(warm)


@retried(attempts=1)  # the next change, or the first view, looks them up anyway
def warm():
    """Look up and keep the similar claims of every claim of the papers in review."""
    texts = {}
    claims = Claim.objects.filter(paper__stage__in=WARMED_STAGES).order_by("paper_id", "pk")
    for paper_id, pk, quote in claims.values_list("paper_id", "pk", "quote"):
        texts.setdefault(paper_id, {})[pk] = quote
    for paper_id, of_paper in texts.items():
        similar_to_claims(of_paper, paper_id=paper_id)
    return sum(len(of_paper) for of_paper in texts.values())


def _names(texts, paper_id):
    """{key: cache key} of each text: the release (entries hold model rows, whose shape a
    release may change), the public revision, the paper left out and the text's digest."""
    prefix = f"similar:{pagecache.release()}:{pagecache.revision()}:{paper_id or 0}:"
    return {key: prefix + hashlib.sha256(text.encode()).hexdigest() for key, text in texts.items()}


def _read(names):
    """{cache key: [Similar]} of the names kept; a cache that cannot be read keeps nothing."""
    try:
        return caches["similar"].get_many(names)
    except Exception:  # a cache server that is down costs the cache, not the page
        logger.warning("Similar claims cannot be read from the cache.", exc_info=True)
        return {}


def _write(entries):
    try:
        caches["similar"].set_many(entries, KEPT_SECONDS)
    except Exception:
        logger.warning("Similar claims cannot be written to the cache.", exc_info=True)


# --- The measure --------------------------------------------------------------------------------


def fold(text):
    """The text without accents, as PostgreSQL's unaccent leaves it for the Latin alphabets."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.lru_cache(maxsize=SQLITE_CANDIDATES)
def trigrams(text):
    """pg_trgm's trigrams of a text: each word (letters and digits) in lower case, padded with
    two spaces before and one after, cut into overlapping sequences of three."""
    found = set()
    for word in _WORD.findall(fold(text).lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def similarity(a, b):
    """pg_trgm's similarity(): trigrams in common over trigrams in either, from 0 to 1."""
    x, y = trigrams(a), trigrams(b)
    either = len(x | y)
    return len(x & y) / either if either else 0.0


# --- Matching -----------------------------------------------------------------------------------


def _set_threshold(sender, connection, **kwargs):
    """pg_trgm's `%` finds rows through the index by its own threshold, 0.3 unless set: ours,
    set on each new connection, lets the index skip far more rows (bench/similarity.py). The
    score is checked again in the query, so a connection without it (a pooler's) is only
    slower, never wrong; `%` is ours alone, so no other query is changed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.similarity_threshold', %s, false)", [str(THRESHOLD)]
            )


connection_created.connect(_set_threshold, dispatch_uid="papers.similarity.threshold")


def _matches_in_database(texts, paper_id):
    """[(index of text, row id, public id, score)], through the GIN index of migration 0011.
    Each text's matches are found first (MATERIALIZED), by the index alone, and their papers
    checked after: a planner free to start from the papers, when it takes them to be few,
    repeats the index search for each of them (20 times slower with 50 papers)."""
    claims, papers = VersionClaim._meta.db_table, Paper._meta.db_table
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT q.n - 1 AS n, c.id, c.public_id, c.paper_id,
                   similarity(papers_fold(c.quote), papers_fold(q.text)) AS score
            FROM unnest(%s::text[]) WITH ORDINALITY AS q(text, n)
            JOIN {claims} c ON papers_fold(c.quote) %% papers_fold(q.text)
        )
        SELECT m.n, m.id, m.public_id, m.score
        FROM m JOIN {papers} p ON p.id = m.paper_id
        WHERE p.live_version_id IS NOT NULL AND p.withdrawn_at IS NULL
          AND m.paper_id IS DISTINCT FROM %s AND m.score >= %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [texts, paper_id, THRESHOLD])
        return cursor.fetchall()


def _matches_here(texts, paper_id):
    """The same as _matches_in_database, measured here over a bounded set of candidates."""
    candidates = (
        VersionClaim.objects.filter(
            paper__live_version__isnull=False, paper__withdrawn_at__isnull=True
        )
        .exclude(paper_id=paper_id)
        .order_by("-pk")
        .values_list("pk", "public_id", "quote")[:SQLITE_CANDIDATES]
    )
    found = []
    for row_id, public_id, quote in candidates:
        for n, text in enumerate(texts):
            score = similarity(quote, text)
            if score >= THRESHOLD:
                found.append((n, row_id, public_id, score))
    return found


# --- What is shown of each ----------------------------------------------------------------------


def _rows(ids):
    rows = VersionClaim.objects.filter(pk__in=ids).select_related("version", "paper__live_version")
    return {row.pk: row for row in rows.only(*_ROW_FIELDS)}


_ROW_FIELDS = [
    "public_id",
    "quote",
    "kind",
    "status",
    "status_label",
    "version__number",
    "version__title",
    "paper__slug",
    "paper__live_version__number",
]


@dataclass
class _History:
    rows: dict  # version number: (quote, status, status label)
    corrections: list  # [(number, note)] of the paper's correction versions, oldest first
    outcome: Resolution | None


def _history(public_ids):
    """{public id: _History}: each claim in every version, its paper's corrections and its
    forecast's standing resolution (three queries)."""
    rows = VersionClaim.objects.filter(public_id__in=public_ids).values_list(
        "public_id", "paper_id", "version__number", "quote", "status", "status_label"
    )
    by_claim, papers = {}, {}
    for public_id, paper_id, number, quote, status, label in rows:
        by_claim.setdefault(public_id, {})[number] = (quote, status, label)
        papers[public_id] = paper_id
    corrections = {}
    versions = Version.objects.filter(paper_id__in=set(papers.values()), is_correction=True)
    for paper_id, number, note in versions.order_by("number").values_list(
        "paper_id", "number", "note"
    ):
        corrections.setdefault(paper_id, []).append((number, note))
    outcomes = {r.public_id: r for r in Resolution.objects.current().filter(public_id__in=papers)}
    return {
        public_id: _History(
            by_claim[public_id], corrections.get(papers[public_id], []), outcomes.get(public_id)
        )
        for public_id in by_claim
    }


def _similar(row, score, history):
    last = history.rows[max(history.rows)]
    similar = Similar(
        claim=row,
        score=score,
        status=last[1],
        status_label=last[2],
        removed=max(history.rows) < row.paper.live_version.number,
        outcome=history.outcome,
    )
    similar.correction = _last_correction(row, history)
    return similar


def _last_correction(row, history):
    """The latest correction that reworded, re-assessed or removed the claim, if any."""
    for number, note in reversed(history.corrections):
        before, after = history.rows.get(number - 1), history.rows.get(number)
        if before is None:
            continue
        if after is None:
            change = "removed"
        elif before[0] != after[0]:
            change = "reworded"
        elif before[1] != after[1]:
            change = "re-assessed"
        else:
            continue
        url = reverse("papers:version", args=[row.paper.slug, number])
        return Correction(change, number, note, url)
    return None
