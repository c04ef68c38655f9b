"""The corrections log: every correction and withdrawal across the catalogue, newest first,
each correction with the claims it changed (the claim-level diff of `papers.diffing` between
the correction's version and the one before it).

Only published rows are read: a correction is a Version (made only by publishing), and a
withdrawal is shown for papers that have a live version. A correction being prepared is a
working copy, which has no row here, so it cannot show.

A page of the log costs the same queries for 2 entries as for 20: the rows of the page are
read first (kind, id, time), then the versions, the versions before them, the headings of
their sections and the withdrawn papers, each in one query. The claims are compared from the
`claims` and `taxonomy` keys of the stored snapshots, never from the sections' text.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import F, Q, Value
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from papers import diffing
from papers.models import Paper, Tag, Version, VersionClaim

CORRECTION, WITHDRAWAL = "correction", "withdrawal"
# A correction that rewrote many claims lists this many; its diff page has the rest.
CLAIMS_SHOWN = 20
# The facts an entry shows of a version and of a paper (never a version's body or snapshot).
VERSION_FIELDS = ["paper", "number", "title", "note", "is_correction", "published_at"]
PAPER_FIELDS = ["slug", "withdrawn_at", "withdrawal_reason", "live_version"]


def log(*, paper=None, tag=None):
    """Rows (kind, id, time) of every correction and withdrawal readers may see, newest first,
    for one paper or one tag if given: a query set to paginate (one query to count, one to read
    a page)."""
    published = Paper.objects.published()
    corrections = Version.objects.filter(is_correction=True, paper__in=published)
    withdrawals = published.filter(withdrawn_at__isnull=False)
    if paper is not None:
        corrections = corrections.filter(paper=paper)
        withdrawals = withdrawals.filter(pk=paper.pk)
    if tag is not None:
        corrections = corrections.filter(tags=tag)
        withdrawals = withdrawals.filter(live_version__tags=tag)
    # Each side without its model's default ordering: SQLite refuses one inside a UNION.
    corrections = (
        corrections.order_by()
        .annotate(kind=Value(CORRECTION), key=F("pk"), when=F("published_at"))
        .values_list("kind", "key", "when")
    )
    withdrawals = (
        withdrawals.order_by()
        .annotate(kind=Value(WITHDRAWAL), key=F("pk"), when=F("withdrawn_at"))
        .values_list("kind", "key", "when")
    )
    return corrections.union(withdrawals, all=True).order_by("-when", "-key")


@dataclass
class Entry:
    """One line of the log: a correction (its version) or a withdrawal (its paper)."""

    kind: str
    when: datetime
    paper: Paper
    version: Version | None = None
    tags: list[Tag] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # "2 claims reworded", …
    claims: list[dict] = field(default_factory=list)  # items of diffing.compare's claims group
    more_claims: int = 0

    @property
    def is_correction(self):
        return self.kind == CORRECTION

    @property
    def title(self):
        return (self.version or self.paper.live_version).title

    @property
    def note(self):
        """The public note: what was corrected, or why the paper was withdrawn."""
        return self.version.note if self.version else self.paper.withdrawal_reason

    @property
    def url(self):
        return self.version.get_absolute_url() if self.version else self.paper.get_absolute_url()

    @property
    def previous(self):
        """The number of the version this correction replaced."""
        return self.version.number - 1

    @property
    def diff_url(self):
        return reverse("papers:diff", args=[self.paper.slug, self.previous, self.version.number])


def entries(rows):
    """The entries of log rows, in their order."""
    rows = list(rows)
    corrections = _corrections([key for kind, key, _ in rows if kind == CORRECTION])
    papers = _withdrawn([key for kind, key, _ in rows if kind == WITHDRAWAL])
    found = []
    for kind, key, when in rows:
        if kind == CORRECTION and key in corrections:
            found.append(_correction_entry(*corrections[key], when))
        elif kind == WITHDRAWAL and key in papers:
            paper = papers[key]
            found.append(Entry(WITHDRAWAL, when, paper, tags=list(paper.live_version.tags.all())))
    return found


def _correction_entry(version, changes, when):
    claims = next(group for group in changes["groups"] if group["noun"] == "claim")["items"]
    return Entry(
        CORRECTION,
        when,
        version.paper,
        version,
        tags=list(version.tags.all()),
        summary=changes["summary"],
        claims=claims[:CLAIMS_SHOWN],
        more_claims=max(len(claims) - CLAIMS_SHOWN, 0),
    )


def _with_claims(versions):
    """The `claims` and `taxonomy` of the versions' snapshots, read in the database."""
    return versions.annotate(
        snapshot_claims=KeyTransform("claims", "snapshot"),
        snapshot_taxonomy=KeyTransform("taxonomy", "snapshot"),
    )


def _corrections(ids):
    """{id: (correction version, diffing.compare's result against the version before it)}."""
    if not ids:
        return {}
    versions = list(
        _with_claims(Version.objects.filter(pk__in=ids))
        .select_related("paper")
        .prefetch_related("tags")
        .only(*VERSION_FIELDS, "paper__slug")
    )
    before = _with_claims(
        Version.objects.filter(
            reduce(or_, (Q(paper_id=v.paper_id, number=v.number - 1) for v in versions))
        )
    ).values("pk", "paper_id", "number", "snapshot_claims", "snapshot_taxonomy")
    before = {(row["paper_id"], row["number"]): row for row in before}
    headings = _headings([*(v.pk for v in versions), *(row["pk"] for row in before.values())])
    found = {}
    for version in versions:
        old = before.get((version.paper_id, version.number - 1), {})
        # The new version's heading wins for a section both name, as on the diff page.
        names = {**headings.get(old.get("pk"), {}), **headings.get(version.pk, {})}
        changes = diffing.compare(
            _document(old.get("snapshot_claims"), old.get("snapshot_taxonomy"), names),
            _document(version.snapshot_claims, version.snapshot_taxonomy, names),
        )
        found[version.pk] = (version, changes)
    return found


def _headings(version_ids):
    """{version id: {section anchor: heading}}, for the sections the versions' claims are in."""
    rows = (
        VersionClaim.objects.filter(version_id__in=version_ids)
        .values_list("version_id", "section_anchor", "section_heading")
        .distinct()
    )
    headings = {}
    for version_id, anchor, heading in rows:
        headings.setdefault(version_id, {})[anchor] = heading
    return headings


def _document(claims, taxonomy, headings):
    """A snapshot reduced to its claims, for diffing.compare: both sides get the same sections,
    without text, so that only the claims can differ."""
    sections = [
        {"anchor": anchor, "heading": heading, "body": ""} for anchor, heading in headings.items()
    ]
    return {"sections": sections, "claims": claims or [], "taxonomy": taxonomy or []}


def _withdrawn(ids):
    if not ids:
        return {}
    papers = (
        Paper.objects.published()
        .filter(pk__in=ids, withdrawn_at__isnull=False)
        .select_related("live_version")
        .prefetch_related("live_version__tags")
        .only(*PAPER_FIELDS, "live_version__title", "live_version__number")
    )
    return {paper.pk: paper for paper in papers}
