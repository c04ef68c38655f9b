"""Tags as readers see them: every tag in use, and one tag's papers and claims.

A tag becomes public when a published version or a published claim carries it; one that only
drafts carry stays private (404 here, and on /papers/?tag= the answer an unknown tag gets), so
its name and description cannot announce a paper before it is out.
"""

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from papers import pagecache
from papers.models import Paper, Tag, Version, VersionClaim
from papers.models.subqueries import count
from papers.views.claims import label_kinds, with_index_fields

TAG_CLAIMS_SHOWN = 50


def public_tags():
    """Tags some published version or claim carries, those of withdrawn papers included:
    their versions stay readable, tag links and all."""
    return Tag.objects.filter(
        Exists(Version.objects.filter(tags=OuterRef("pk")))
        | Exists(VersionClaim.objects.filter(tags=OuterRef("pk")))
    )


def tags_in_use():
    """Tags that the listed papers or their claims carry now, by name, each with
    `paper_count` and `claim_count`: what /tags/ and the sitemap list."""
    papers = Version.objects.listed().filter(tags=OuterRef("pk"))
    claims = VersionClaim.objects.listed().filter(tags=OuterRef("pk"))
    return (
        Tag.objects.annotate(paper_count=count(papers), claim_count=count(claims))
        .filter(Q(paper_count__gt=0) | Q(claim_count__gt=0))
        .order_by("name")
    )


@require_safe
@pagecache.for_readers
def tag_list(request):
    return render(request, "papers/tag_list.html", {"tags": tags_in_use()})


@require_safe
@pagecache.for_readers
def tag_detail(request, slug):
    tag = get_object_or_404(public_tags(), slug=slug)
    papers = Paper.objects.listed().for_listing().filter(live_version__tags=tag)
    claims = list(
        with_index_fields(VersionClaim.objects.listed().filter(tags=tag), tags=False)[
            : TAG_CLAIMS_SHOWN + 1
        ]
    )
    label_kinds(claims)
    context = {
        "tag": tag,
        "papers": papers,
        "claims": claims[:TAG_CLAIMS_SHOWN],
        "more_claims": len(claims) > TAG_CLAIMS_SHOWN,
    }
    return render(request, "papers/tag_detail.html", context)
