"""The editors' desk, the admin's home page: what waits for an editor, each block linking to
where to act on it.

Every block is one query whatever the number of papers and reviews, and a list shows at most
LIMIT rows, with a link to the admin list that holds the rest.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from papers import forecasts
from papers.admin.workflow import ORPHANED
from papers.models import (
    Claim,
    ClaimSource,
    Paper,
    Review,
    Source,
    Version,
    VersionClaim,
    subqueries,
)

LIMIT = 25
RECENT = 5
RECENT_FIELDS = ["paper", "number", "title", "published_at", "published_by_name", "is_correction"]
Stage = Paper.Stage

# Each paper counts once, at the step it is at. Publishing sends the working copy back to
# draft, so a published paper counts as published until a revision of it goes to review.
# The lookups are also the paper list's query string, so each count links to its papers.
DESK_STAGES = [
    ("draft", "Draft", {"stage__exact": Stage.DRAFT, "live_version__isnull": True}),
    ("in_review", "In review", {"stage__exact": Stage.IN_REVIEW, "withdrawn_at__isnull": True}),
    (
        "changes_requested",
        "Changes requested",
        {"stage__exact": Stage.CHANGES_REQUESTED, "withdrawn_at__isnull": True},
    ),
    ("approved", "Approved", {"stage__exact": Stage.APPROVED, "withdrawn_at__isnull": True}),
    (
        "published",
        "Published",
        {"stage__exact": Stage.DRAFT, "live_version__isnull": False, "withdrawn_at__isnull": True},
    ),
    ("withdrawn", "Withdrawn", {"withdrawn_at__isnull": False}),
]


@dataclass
class StageCount:
    key: str
    label: str
    count: int
    url: str


@dataclass
class Rows:
    """At most LIMIT rows of a block, and where to find them all when there are more."""

    items: list
    more: bool
    more_url: str


def desk(now=None):
    """The desk's blocks, as the context of templates/admin/index.html."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return {
        "now": now,
        "stages": stage_counts(),
        "awaiting": _rows(Review.objects.awaiting_decision(), reverse("review:dashboard")),
        "overdue": _rows(
            Review.objects.overdue(today),
            _changelist("review", status__exact=Review.Status.OPEN, due_date__lt=today),
        ),
        "orphans": _rows(papers_with_orphans(), _changelist("claim", orphaned="yes")),
        "scheduled": _rows(
            Paper.objects.scheduled(),
            _changelist("paper", stage__exact=Stage.APPROVED, publish_at__isnull=False),
        ),
        "recent": _rows(recent_versions(), _changelist("version"), limit=RECENT),
        "bad_links": _rows(
            claims_with_bad_links(), _changelist("source", link_status__in="broken,changed")
        ),
        "forecasts_due": _rows(
            forecasts.due_unresolved(on=today), reverse("papers:forecasts") + "?outcome=due"
        ),
    }


def stage_counts():
    """How many papers are at each step of the desk, in one query."""
    counts = Paper.objects.aggregate(
        **{key: Count("pk", filter=Q(**lookups)) for key, _, lookups in DESK_STAGES}
    )
    return [
        StageCount(key, label, counts[key], _changelist("paper", **lookups))
        for key, label, lookups in DESK_STAGES
    ]


def papers_with_orphans():
    """Papers with orphaned claims (by their stored flag, or without their section), most
    first, each with `orphan_count`."""
    orphans = Claim.objects.filter(ORPHANED, paper=OuterRef("pk"))
    return (
        Paper.objects.annotate(orphan_count=subqueries.count(orphans))
        .filter(orphan_count__gt=0)
        .order_by("-orphan_count", "title", "pk")
    )


def claims_with_bad_links():
    """Each published claim's source that the link check found broken or changed (see
    papers/link_status.py), longest broken first, then changed ones."""
    Link = Source.LinkStatus
    return (
        ClaimSource.objects.filter(
            source__link_status__in=[Link.BROKEN, Link.CHANGED],
            claim__public_id__in=VersionClaim.objects.listed().values("public_id"),
        )
        .select_related("claim__paper", "source")
        .order_by(F("source__link_broken_since").asc(nulls_last=True), "claim__paper__title", "pk")
    )


def recent_versions():
    """Published versions, newest first, without their snapshot and rendered text."""
    return (
        Version.objects.select_related("paper")
        .only(*RECENT_FIELDS, "paper__slug")
        .order_by("-published_at", "-pk")
    )


def _rows(queryset, more_url, *, limit=None):
    limit = limit or LIMIT
    items = list(queryset[: limit + 1])  # one more than shown tells whether there are more
    return Rows(items[:limit], len(items) > limit, more_url)


def _changelist(model, **lookups):
    url = reverse(f"admin:papers_{model}_changelist")
    return f"{url}?{urlencode(lookups)}" if lookups else url
