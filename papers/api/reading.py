"""What the API shows, read from published rows only: the querysets of `published()` and
`listed()`, and the snapshots frozen into versions. A draft has no row here, so it cannot appear.

A page of claims costs three queries whatever its length: the count, the claims (with their
version and paper), and the `claims` and `taxonomy` keys of those versions' snapshots (unless
this process read them lately: `PublishedClaims`), from which
each claim's note, sources and review come as they were published; and, when the page holds a
forecast, the standing resolutions of its forecasts.
"""

import threading
from collections import OrderedDict

from django.conf import settings
from django.db.models.fields.json import KeyTransform
from django.http import Http404
from django.urls import reverse

from papers import corrections, evidence, forecasts, verdicts
from papers.models import Claim, Paper, Tag, Version, VersionClaim
from papers.views.claims import claim_history

# What a claim's line needs of its version and paper: never the stored body or snapshot.
CLAIM_FIELDS = [
    *("public_id", "number", "quote", "kind", "status", "status_label", "version_id"),
    *("section_anchor", "section_heading", "paper__slug", "version__title"),
    *("version__number", "version__published_at", "version__fingerprint", "due"),
]
VERSION_FIELDS = ["paper", "number", "published_at", "is_correction", "note", "fingerprint"]


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def api_url(name, *args):
    return absolute(reverse(f"api:{name}", args=args))


def claim_urls():
    """A function giving a claim's page and API address from its id: reversed once, for a
    placeholder, as reversing for each of a page's 50 claims cost more than anything else."""
    page, api = absolute(reverse("papers:claim", args=["-"])), api_url("claim", "-")
    page, api = page.replace("/-/", "/{}/"), api.replace("/-/", "/{}/")
    return lambda public_id: (page.format(public_id), api.format(public_id))


# --- Claims ------------------------------------------------------------------------------------


def claims(filters):
    """Claims of the versions readers see now, newest paper first, in reading order: a stable
    order to paginate (a version numbers its claims once)."""
    found = VersionClaim.objects.listed()
    if filters.tag:
        found = found.filter(tags__slug=filters.tag)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.paper:
        found = found.filter(paper__slug=filters.paper)
    if filters.updated_since:
        found = found.filter(version__published_at__gte=filters.updated_since)
    return (
        found.select_related("version", "paper")
        .only(*CLAIM_FIELDS)
        .order_by("-version__published_at", "version_id", "number")
    )


def claim_items(rows):
    """The API's view of published claim rows: one query for their versions' snapshot claims."""
    rows = list(rows)
    published = published_claims.get({row.version_id: row.version.fingerprint for row in rows})
    outcomes = _resolutions(rows)
    urls = claim_urls()
    return [_claim(row, *published[row.version_id], outcomes, urls) for row in rows]


def _resolutions(rows):
    """{public id: standing Resolution} of the forecasts among `rows` (one query, if any)."""
    ids = {row.public_id for row in rows if row.kind == Claim.Kind.PREDICTIVE}
    return forecasts.current_resolutions(ids) if ids else {}


class PublishedClaims:
    """The claims and tag names of versions' snapshots, decoded, for the versions read last in
    this process. A version never changes, and its fingerprint (the SHA-256 of its export)
    names its content: an entry can never be stale, even in a database restored from a backup
    whose ids are given again. Bounded: the least recently used go first (gthread workers share
    it). The long paper's 600 claims are most of what its first page of the list cost."""

    def __init__(self, size):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, fingerprints):
        """{version id: ({claim id: entry}, {tag slug: name})} for {version id: fingerprint}:
        one query for those not kept."""
        found, missing = {}, []
        with self.lock:
            for pk, fingerprint in fingerprints.items():
                entry = self.entries.get((pk, fingerprint))
                if entry is None:
                    missing.append(pk)
                else:
                    self.entries.move_to_end((pk, fingerprint))
                    found[pk] = entry
        if missing:
            read = _snapshot_claims(missing)
            with self.lock:
                for pk, entry in read.items():
                    found[pk] = entry
                    if fingerprints[pk]:  # a version without one is not kept
                        self.entries[(pk, fingerprints[pk])] = entry
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        return found

    def clear(self):
        with self.lock:
            self.entries.clear()


published_claims = PublishedClaims(size=64)


def _snapshot_claims(version_ids):
    """{version id: ({claim id: entry}, {tag slug: name})} from the versions' snapshots."""
    if not version_ids:
        return {}
    found = (
        Version.objects.filter(pk__in=version_ids)
        .annotate(
            snapshot_claims=KeyTransform("claims", "snapshot"),
            snapshot_taxonomy=KeyTransform("taxonomy", "snapshot"),
        )
        .values_list("pk", "snapshot_claims", "snapshot_taxonomy")
    )
    return {
        pk: (
            {entry["id"]: entry for entry in claims or []},
            {tag["slug"]: tag.get("name", tag["slug"]) for tag in taxonomy or []},
        )
        for pk, claims, taxonomy in found
    }


def _claim(row, entries, tag_names, outcomes, urls):
    entry = entries.get(row.public_id, {})
    url, api = urls(row.public_id)
    sources = entry.get("sources", [])
    review = entry.get("review") or {}
    return {
        "id": row.public_id,
        "url": url,
        "api_url": api,
        "paper": row.paper.slug,
        "paper_title": row.version.title,
        "version": row.version.number,
        "number": row.number,
        "section": row.section_anchor,
        "section_heading": row.section_heading,
        "text": row.quote,
        "kind": row.kind,
        "tags": [{"slug": s, "name": tag_names.get(s, s)} for s in entry.get("tags", [])],
        "note": entry.get("note", ""),
        "sources": [_source(source) for source in sources],
        "evidence": evidence.summary(sources),
        "review": {
            "status": row.status,
            # The words frozen into the version (papers.verdicts.label), as its pages show them.
            "label": row.status_label,
            "reviewers": review.get("reviewers", 0),
            "rating": verdicts.STATUSES.get(row.status, {}).get("rating"),
            "notes": review.get("notes", []),
        },
        "forecast": _forecast(row, entry, outcomes.get(row.public_id)),
        "published_at": row.version.published_at,
    }


def _forecast(row, entry, resolution):
    if row.kind != Claim.Kind.PREDICTIVE:
        return None
    state = forecasts.state_of(resolution and resolution.outcome, row.due)
    return {
        "due": row.due,
        "resolves_when": entry.get("resolves_when", ""),
        "state": state,
        "state_label": forecasts.STATE_LABELS[state],
        "resolution": resolution
        and {
            "outcome": resolution.outcome,
            "label": resolution.get_outcome_display(),
            "note": resolution.note,
            "sources": [
                {"title": s.get("title", ""), "url": s.get("url", "")} for s in resolution.sources
            ],
            "resolved_at": resolution.resolved_at,
            "resolved_by": resolution.resolved_by_name,
        },
    }


def _source(source):
    use = evidence.use_of(source)
    return {
        **{key: source.get(key, "") for key in ("title", "url", "publisher", "date", "quote")},
        "use": use.value,
        "cito": evidence.CITO + use.cito,
    }


def claim_detail(public_id):
    """The claim as its paper's latest version holding it shows it, with its history; 404 for
    an id no published version holds."""
    appearances = list(
        VersionClaim.objects.filter(public_id=public_id, paper__in=Paper.objects.published())
        .select_related("version", "paper")
        .only(*CLAIM_FIELDS)
        .order_by("version__number")
    )
    if not appearances:
        raise Http404("No published claim has this id.")
    last = appearances[-1]
    versions = list(
        Version.objects.filter(paper_id=last.paper_id).only(*VERSION_FIELDS).order_by("number")
    )
    item = claim_items([last])[0]
    removed_in = next((v.number for v in versions if v.number > last.version.number), None)
    history = []
    for change in claim_history(appearances, versions):
        version = change["version"]
        history.append(
            {
                "version": version.number,
                "published_at": version.published_at,
                "is_correction": version.is_correction,
                "note": version.note,
                "changes": ["Removed"] if change.get("removed") else change["changes"],
            }
        )
    return {**item, "history": history, "removed_in": removed_in}


# --- Papers and versions -----------------------------------------------------------------------


def papers(filters):
    """Listed papers (published, not withdrawn), newest publication first."""
    found = Paper.objects.listed()
    if filters.tag:
        found = found.filter(live_version__tags__slug=filters.tag)
    if filters.updated_since:
        found = found.filter(live_version__published_at__gte=filters.updated_since)
    return _with_standfirst(found.for_listing())


def _with_standfirst(papers):
    # The lede as published (the paper's own field is the working copy's).
    return papers.annotate(
        published_standfirst=KeyTransform("standfirst", "live_version__snapshot")
    )


def paper_items(papers):
    return [_paper(paper) for paper in papers]


def _paper(paper):
    version = paper.live_version
    return {
        "slug": paper.slug,
        "url": absolute(paper.get_absolute_url()),
        "api_url": api_url("paper", paper.slug),
        "title": version.title,
        "byline": version.byline,
        "standfirst": paper.published_standfirst or "",
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in version.tags.all()],
        "version": version.number,
        "published_at": version.published_at,
        "claim_count": version.claim_count,
        "withdrawn_at": paper.withdrawn_at,
        "withdrawal_reason": paper.withdrawal_reason,
    }


def paper_detail(slug):
    """A published paper (a withdrawn one too, with its notice) and its versions."""
    found = _with_standfirst(Paper.objects.published().for_listing()).filter(slug=slug)
    paper = next(iter(found), None)
    if paper is None:
        raise Http404("No published paper has this slug.")
    versions = Version.objects.filter(paper=paper).only(*VERSION_FIELDS).order_by("number")
    return {**_paper(paper), "versions": [_version_ref(paper, v) for v in versions]}


def _version_ref(paper, version):
    return {
        "number": version.number,
        "url": absolute(reverse("papers:version", args=[paper.slug, version.number])),
        "api_url": api_url("version", paper.slug, version.number),
        "published_at": version.published_at,
        "is_correction": version.is_correction,
        "note": version.note,
        "sha256": version.fingerprint,
    }


def version_detail(slug, number):
    """Version `number` of a published paper, with its sections and claims as published."""
    version = (
        Version.objects.filter(paper__in=Paper.objects.published(), paper__slug=slug)
        .select_related("paper")
        .prefetch_related("tags")
        .filter(number=number)
        .first()
    )
    if version is None:
        raise Http404("No published version has this number.")
    paper, snapshot = version.paper, version.snapshot
    rows = (
        VersionClaim.objects.filter(version=version)
        .select_related("version", "paper")
        .only(*CLAIM_FIELDS)
        .order_by("number")
    )
    rows, urls = list(rows), claim_urls()
    outcomes = _resolutions(rows)
    entries = {entry["id"]: entry for entry in snapshot.get("claims", [])}
    names = {tag["slug"]: tag.get("name", tag["slug"]) for tag in snapshot.get("taxonomy", [])}
    return {
        **_version_ref(paper, version),
        "paper": paper.slug,
        "title": version.title,
        "byline": version.byline,
        "standfirst": snapshot.get("standfirst", ""),
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in version.tags.all()],
        "latest": paper.live_version_id == version.pk,
        "sections": [
            {"anchor": s["anchor"], "heading": s["heading"], "body": s.get("body", "")}
            for s in snapshot.get("sections", [])
        ],
        "claims": [_claim(row, entries, names, outcomes, urls) for row in rows],
    }


# --- Corrections -------------------------------------------------------------------------------


def correction_log(filters):
    """The corrections log's rows, for one paper or tag if given (an unknown one is a 404, as
    on /corrections/)."""
    paper = tag = None
    if filters.paper:
        paper = Paper.objects.published().filter(slug=filters.paper).first()
        if paper is None:
            raise Http404("No published paper has this slug.")
    if filters.tag:
        tag = Tag.objects.filter(slug=filters.tag).first()
        if tag is None:
            raise Http404("No tag has this slug.")
    return corrections.log(paper=paper, tag=tag)


def correction_items(rows):
    return [_correction(entry) for entry in corrections.entries(rows)]


def _correction(entry):
    return {
        "kind": entry.kind,
        "when": entry.when,
        "paper": entry.paper.slug,
        "title": entry.title,
        "note": entry.note,
        "url": absolute(entry.url),
        "version": entry.version.number if entry.version else None,
        "diff_url": absolute(entry.diff_url) if entry.version else None,
        "summary": entry.summary,
        "claims": [
            {
                "id": item["id"],
                "section_heading": item.get("section", ""),
                "changes": item["changes"],
            }
            for item in entry.claims
        ],
        "more_claims": entry.more_claims,
    }
