"""Claims as first-class reading: the claims index (filtered, and searched by their words)
and one claim's page.

Everything here reads published rows only (VersionClaim, Version): a claim that never left a
draft has no row, so it cannot appear or be found.
"""

import re
from collections import Counter
from html.parser import HTMLParser

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from papers import forecasts, link_status, pagecache, search, verdicts
from papers.models import Claim, Tag, Version, VersionClaim
from papers.rendering import squash

CLAIMS_PER_PAGE = 50
KINDS = dict(Claim.Kind.choices)
FILTERS = ("tag", "kind", "status")


@require_safe
@pagecache.for_readers
def claim_list(request):
    chosen = {key: request.GET.get(key, "").strip() for key in FILTERS}
    query, notice = search.clean_query(request.GET.get("q", ""))
    listed = VersionClaim.objects.listed()
    # The claims whose words match: every filter and every count below starts from them.
    found = search.matching_claims(listed, query) if query else listed
    tags = _tag_options(listed, found if query else None, chosen)
    problems = _unknown_filters(chosen, tags)
    claims = listed.none() if problems else _filtered(found, chosen)
    page = Paginator(with_index_fields(claims), CLAIMS_PER_PAGE).get_page(request.GET.get("page"))
    label_kinds(page)
    kinds, statuses = _kind_and_status_options(found, chosen)
    context = {
        "page": page,
        "chosen": chosen,
        "search_query": query,
        "search_notice": notice,
        "problems": problems,
        "tags": tags,
        "tag": next((t for t in tags if t.slug == chosen["tag"]), None),
        "kinds": kinds,
        "statuses": statuses,
        "filtered": any(chosen.values()) or bool(query),
    }
    return render(request, "papers/claim_list.html", context)


@require_safe
@pagecache.for_readers
def claim_detail(request, public_id):
    appearances = list(
        VersionClaim.objects.filter(public_id=public_id)
        .select_related("version", "paper")
        .defer(*(f"version__{field}" for field in ("snapshot", "body_html", "standfirst_html")))
        .order_by("version__number")
    )
    if not appearances:
        raise Http404("No published claim has this id.")
    last = appearances[-1]
    paper = last.paper
    versions = list(
        paper.versions.only("paper", "number", "published_at", "is_correction", "note").order_by(
            "number"
        )
    )
    snapshot, body_html = Version.objects.values_list("snapshot", "body_html").get(
        pk=last.version_id
    )
    entry = next((c for c in snapshot.get("claims", []) if c.get("id") == public_id), {})
    checks = link_status.checks_for(s.get("url", "") for s in entry.get("sources", []))
    for source in entry.get("sources", []):
        source["link_check"] = checks.get(source.get("url", ""))
    names = {tag["slug"]: tag.get("name", tag["slug"]) for tag in snapshot.get("taxonomy", [])}
    removed_in = next((v for v in versions if v.number > last.version.number), None)
    context = {
        "claim": last,
        "paper": paper,
        "entry": entry,
        "kind": _kind(last.kind),
        "tags": [(slug, names.get(slug, slug)) for slug in entry.get("tags", [])],
        "review": entry.get("review") or {},
        "paragraph": paragraph_runs(body_html, public_id),
        "history": claim_history(appearances, versions),
        "removed_in": removed_in,
        "is_current": removed_in is None,
        "resolutions": forecasts.history(public_id) if last.kind == Claim.Kind.PREDICTIVE else [],
    }
    return render(request, "papers/claim_detail.html", context)


# --- The claims index -------------------------------------------------------------------------


def with_index_fields(claims, *, tags=True):
    """What a line of the index shows, newest paper first; never a version's stored body."""
    claims = (
        claims.select_related("version", "paper")
        .only(
            *("public_id", "number", "quote", "kind", "status", "status_label"),
            *("section_anchor", "section_heading", "version__title", "version__number"),
            *("version__published_at", "paper__slug"),
        )
        .order_by("-version__published_at", "version_id", "number")
    )
    return claims.prefetch_related("tags") if tags else claims


def _filtered(claims, chosen):
    if chosen["tag"]:
        claims = claims.filter(tags__slug=chosen["tag"])
    if chosen["kind"]:
        claims = claims.filter(kind=chosen["kind"])
    if chosen["status"]:
        claims = claims.filter(status=chosen["status"])
    return claims


def _unknown_filters(chosen, tags):
    problems = []
    if chosen["tag"] and chosen["tag"] not in {tag.slug for tag in tags}:
        problems.append(f"No published claim carries the tag “{chosen['tag']}”.")
    if chosen["kind"] and chosen["kind"] not in KINDS:
        problems.append(f"“{chosen['kind']}” is not a kind of claim.")
    if chosen["status"] and chosen["status"] not in verdicts.STATUSES:
        problems.append(f"“{chosen['status']}” is not a review status.")
    return problems


def _tag_options(listed, found, chosen):
    """Tags of published claims, each counting the claims that also match the other filters
    and, when there is one, the search (`found`)."""
    others = Q(version_claims__in=found) if found is not None else Q()
    if chosen["kind"]:
        others &= Q(version_claims__kind=chosen["kind"])
    if chosen["status"]:
        others &= Q(version_claims__status=chosen["status"])
    return list(
        Tag.objects.filter(version_claims__in=listed)
        .annotate(claim_count=Count("version_claims", filter=others))
        .order_by("name")
    )


def _kind_and_status_options(found, chosen):
    """(value, label, count) for each kind and status; a count obeys the search and the other
    filters. One query: claims counted by (kind, status) pair."""
    claims = found.filter(tags__slug=chosen["tag"]) if chosen["tag"] else found
    kinds, statuses = Counter(), Counter()
    for kind, status, n in claims.values_list("kind", "status").annotate(n=Count("pk")).order_by():
        if chosen["status"] in ("", status):
            kinds[kind] += n
        if chosen["kind"] in ("", kind):
            statuses[status] += n
    return (
        [(value, label, kinds[value]) for value, label in KINDS.items()],
        [(value, entry["label"], statuses[value]) for value, entry in verdicts.STATUSES.items()],
    )


def label_kinds(claims):
    for claim in claims:
        claim.kind_label = KINDS.get(claim.kind, claim.kind)


def _kind(value):
    try:
        kind = Claim.Kind(value)
    except ValueError:
        return {"value": value, "label": value, "meaning": ""}
    return {"value": kind.value, "label": kind.label, "meaning": kind.meaning}


# --- One claim: its paragraph and its history ----------------------------------------------------


def claim_history(appearances, versions):
    """What happened to a claim in each version of its paper, oldest first; versions that
    left it unchanged are skipped."""
    rows = {row.version.number: row for row in appearances}
    history, previous, seen = [], None, False
    for version in versions:
        row = rows.get(version.number)
        if row is None:
            if previous is not None:
                history.append({"version": version, "removed": True})
            previous = None
            continue
        if previous is None:
            changes, reworded, reassessed = ["Restored" if seen else "First published"], False, True
        else:
            reworded = squash(row.quote) != squash(previous.quote)
            reassessed = verdicts.finding(row.status, row.status_label) != verdicts.finding(
                previous.status, previous.status_label
            )
            changes = ["Reworded"] if reworded else []
            if row.kind != previous.kind:
                old, new = _kind(previous.kind)["label"], _kind(row.kind)["label"]
                changes.append(f"Kind changed from {old.lower()} to {new.lower()}")
            if row.section_anchor != previous.section_anchor:
                changes.append("Moved to another section")
            if reassessed:
                changes.append("Assessed" if previous.status == "unchecked" else "Re-assessed")
        if changes:
            history.append(
                {
                    "version": version,
                    "row": row,
                    "changes": changes,
                    "status_changed": reassessed,
                    "old_quote": previous.quote if reworded else "",
                }
            )
        previous, seen = row, True
    return history


# The numbers after claims and footnote references: links, not words of the text. A claim's
# number is an <a class="claim-ref">; in versions published before, and for footnotes, a <sup>
# with one of these classes around the link.
REFERENCE_CLASSES = {"claim-ref", "footnote-ref"}
BLOCK_TAGS = {"p", "li", "blockquote", "pre", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}


class _ParagraphFinder(HTMLParser):
    """Reads a version's stored body for the innermost block that holds a claim's mark. A claim's
    first mark has the id `claim-<id>`, the others of a claim split by inline markup say
    data-claim (as every mark of versions published before does)."""

    def __init__(self, public_id):
        super().__init__(convert_charrefs=True)
        self.public_id, self.mark_id = public_id, f"claim-{public_id}"
        self.blocks = []  # open blocks, innermost last: [runs, holds the claim]
        self.marks = []  # open <mark>s: True for this claim's own
        self.references = []  # open <sup>s and <a>s: True for reference numbers
        self.found = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in BLOCK_TAGS:
            self.blocks.append([[], False])
        elif tag == "mark":
            own = self.public_id == attrs.get("data-claim") or attrs.get("id") == self.mark_id
            self.marks.append(own)
            for block in self.blocks if own else ():
                block[1] = True
        elif tag in ("sup", "a"):
            classes = set((attrs.get("class") or "").split())
            self.references.append(bool(REFERENCE_CLASSES & classes))

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS and self.blocks:
            runs, holds_claim = self.blocks.pop()
            if holds_claim and self.found is None:
                self.found = runs
        elif tag == "mark" and self.marks:
            self.marks.pop()
        elif tag in ("sup", "a") and self.references:
            self.references.pop()

    def handle_data(self, data):
        if any(self.references):
            return
        for runs, _ in self.blocks:
            runs.append((data, any(self.marks)))


def paragraph_runs(body_html, public_id):
    """The paragraph around a claim as [(text, is the claim)], whitespace collapsed, for the
    template to escape piece by piece; [] when the claim has no mark in the body."""
    finder = _ParagraphFinder(public_id)
    finder.feed(body_html or "")
    finder.close()
    merged = []
    for text, is_claim in finder.found or ():
        if merged and merged[-1][1] == is_claim:
            merged[-1][0] += text
        else:
            merged.append([text, is_claim])
    runs, after_space = [], True
    for text, is_claim in merged:
        text = re.sub(r"\s+", " ", text)
        text = text.lstrip() if after_space else text
        if text:
            runs.append((text, is_claim))
            after_space = text.endswith(" ")
    if runs and runs[-1][0].endswith(" "):
        runs[-1] = (runs[-1][0].rstrip(), runs[-1][1])
    return runs
