"""A published paper's version history, and what changed between two of its versions.

Only published papers have a history here; anything else is a 404, as on the paper pages.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from papers import diffing, pagecache
from papers.models import Paper, Version

VERSIONS_PER_PAGE = 50
# A version's publication facts: what the history lists (never the snapshot or the body).
LISTED_FIELDS = ["number", "title", "note", "is_correction", "published_at", "published_by_name"]
WITHDRAWAL_FIELDS = ["paper__withdrawn_at", "paper__withdrawal_reason"]


@require_safe
@pagecache.for_readers
def version_list(request, slug):
    paper = get_object_or_404(
        Paper.objects.published()
        .select_related("live_version")
        .only(
            "slug",
            "withdrawn_at",
            "withdrawal_reason",
            "live_version__number",
            "live_version__title",
        ),
        slug=slug,
    )
    versions = paper.versions.only("paper_id", *LISTED_FIELDS).order_by("-number")
    page = Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "papers/version_list.html", {"paper": paper, "page": page})


@require_safe
@pagecache.for_readers
def diff(request, slug, a, b):
    """Changes always read from the older version to the newer one: /diff/5/3/ redirects to
    /diff/3/5/, and a version compared with itself shows that nothing changed."""
    if a > b:
        return redirect("papers:diff", slug, b, a, permanent=True)
    published = Paper.objects.published().filter(slug=slug)
    versions = (
        Version.objects.filter(paper__in=published, number__in={a, b})
        .select_related("paper")
        .only("snapshot", *LISTED_FIELDS, "paper__slug", *WITHDRAWAL_FIELDS)
    )
    versions = {version.number: version for version in versions}
    if a not in versions or b not in versions:
        raise Http404("No such version of this paper.")
    old, new = versions[a], versions[b]
    context = {
        "paper": new.paper,
        "old": old,
        "new": new,
        "changes": diffing.compare(old.snapshot, new.snapshot),
    }
    return render(request, "papers/diff.html", context)
