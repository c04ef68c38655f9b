"""The working draft as readers would see it once published: for the paper's editors and
reviewers at /papers/<slug>/preview/, and for whoever holds a share link at /preview/<token>/.

Both render the public paper page from the draft, never through papers.pagecache, with headers
that keep it out of shared caches and search engines. A draft is never revealed: anyone who may
not see it, and any unknown, expired or revoked link, gets the same 404 as a missing page.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from papers import permissions, snapshots
from papers.models import Paper, ShareLink


@require_safe
def preview(request, slug):
    paper = permissions.paper_for_review(request.user, slug)
    editor = permissions.is_editor(request.user)
    links = {"review": reverse("review:paper", args=[paper.slug])}
    if editor:
        links["admin"] = reverse("admin:papers_paper_change", args=[paper.pk])
    # Reviewers do not see each other's verdicts before submitting their own review (see
    # papers.workspace): the review statuses publishing would freeze are for editors only.
    return _render_draft(request, paper, {"review_shown": editor, "links": links})


@require_safe
def shared(request, token):
    link = (
        ShareLink.objects.active()
        .select_related("paper")
        .filter(token_hash=ShareLink.hash(token))
        .first()
    )
    if link is None:
        raise Http404("No such page.")
    draft = {"review_shown": False, "shared": True, "expires_at": link.expires_at}
    response = _render_draft(request, link.paper, draft)
    # The address is the key to the draft: links followed from the page must not carry it.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _render_draft(request, paper, draft):
    paper = (
        Paper.objects.select_related("live_version")
        .defer("live_version__snapshot", "live_version__body_html")
        .prefetch_related("tags")
        .get(pk=paper.pk)
    )
    context = {
        "paper": paper,
        "version": snapshots.unsaved_version(
            paper, number=_next_number(paper), with_review=draft["review_shown"]
        ),
        "latest": True,
        "tags": list(paper.tags.all()),
        "draft": draft,
    }
    response = render(request, "papers/paper_detail.html", context)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return response


def _next_number(paper):
    live = paper.live_version
    return live.number + 1 if live else 1
