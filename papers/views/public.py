"""Readers' pages. Only published versions are ever shown; anything else is a 404."""

import hashlib
import sys

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from papers import cards, documents, forecasts, link_status, outages, pagecache, search
from papers.models import Paper, Tag, Version
from papers.views import tags

PAPERS_PER_PAGE = 20


@require_safe
@pagecache.for_readers
def home(request):
    papers = Paper.objects.listed().for_listing()[:6]
    tags = Tag.objects.published()
    return render(request, "papers/home.html", {"papers": papers, "tags": tags})


@require_safe
@pagecache.for_readers
def paper_list(request):
    tag = None
    if slug := request.GET.get("tag"):
        # A tag only drafts carry answers as an unknown one does.
        tag = get_object_or_404(tags.public_tags(), slug=slug)
    query, notice = search.clean_query(request.GET.get("q", ""))
    asked = request.GET.get("page")
    revision = pagecache.revision_of(request)
    if query:
        results = search.Results(query, tag=tag, per_page=PAPERS_PER_PAGE, asked=asked)
        page = Paginator(results, PAPERS_PER_PAGE).get_page(asked)
        page.object_list = cards.of_results(page.object_list, revision)
    else:
        papers = Paper.objects.listed().for_listing()
        if tag is not None:
            papers = papers.filter(live_version__tags=tag)
        page = Paginator(papers, PAPERS_PER_PAGE).get_page(asked)
        page.object_list = [cards.card(paper, revision) for paper in page.object_list]
    context = {"page": page, "tag": tag, "search_query": query, "search_notice": notice}
    return render(request, "papers/paper_list.html", context)


@require_safe
@pagecache.for_readers
def paper_detail(request, slug):
    paper = get_object_or_404(Paper.objects.published().select_related("live_version"), slug=slug)
    return _render_version(request, paper.live_version, paper, latest=True)


@require_safe
@pagecache.for_readers
def version_detail(request, slug, number):
    version = get_object_or_404(
        Version.objects.select_related("paper__live_version"),
        paper__slug=slug,
        paper__live_version__isnull=False,
        number=number,
    )
    latest = version.paper.live_version
    return _render_version(request, version, version.paper, latest=version.pk == latest.pk)


# Anonymous readers' copies stay fresh for a minute, then are revalidated: not longer, because a
# new version replaces what /papers/<slug>/ shows.
PAGE_MAX_AGE = 60


def _render_version(request, version, paper, *, latest):
    tags = list(version.tags.all())
    checks = link_status.checks_for(link_status.cited_urls(version.snapshot))
    body = link_status.with_checks(version.body_html, checks)
    # How its forecasts turned out is not part of the version: shown beside its stored text.
    outcomes = forecasts.outcomes_in(version)
    body = forecasts.with_outcomes(body, outcomes)
    context = {"paper": paper, "version": version, "latest": latest, "tags": tags, "body": body}
    context["forecast_outcomes"] = outcomes
    if request.user.is_authenticated:
        # The header holds a sign-out form with this visitor's CSRF token: no shared copy, no 304.
        response = render(request, "papers/paper_detail.html", context)
        patch_cache_control(response, private=True)
        return response
    etag, last_modified = _page_validators(version, paper, tags, checks, outcomes)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = render(request, "papers/paper_detail.html", context)
    elif response.status_code != 304:
        return response  # a failed If-Match or If-Unmodified-Since
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
    return response


def _page_validators(version, paper, tags, checks, outcomes):
    """ETag and Last-Modified of a version's page for anonymous readers. The version is
    immutable; what else shows on the page is the live version (the "not the latest" notice),
    the withdrawal, the tags' names, what the link check says of its sources, how its forecasts
    turned out, and what renders pages in this release."""
    shown = [
        version.pk,
        version.fingerprint,
        paper.live_version_id,
        paper.withdrawn_at,
        [(tag.slug, tag.name) for tag in tags],
        sorted(checks.items()),
        sorted(resolution.pk for resolution in outcomes.values()),
        pagecache.release(),
    ]
    etag = f'W/"{hashlib.sha256(repr(shown).encode()).hexdigest()[:32]}"'
    changes = [version.published_at, paper.live_version.published_at, paper.withdrawn_at]
    changes += [check.changed_at for check in checks.values()]
    changes += [resolution.resolved_at for resolution in outcomes.values()]
    return etag, int(max(when for when in changes if when).timestamp())


@require_safe
@pagecache.for_readers
def export(request, slug, fmt):
    if fmt not in {"md", "json"}:
        raise Http404("Exports are .md or .json.")
    paper = get_object_or_404(Paper.objects.published().select_related("live_version"), slug=slug)
    version = paper.live_version
    if fmt == "json":
        response = HttpResponse(
            documents.to_json(version.export_document()), content_type="application/json"
        )
        response["ETag"] = f'"sha256-{version.fingerprint}"'
        return response
    # The JSON export stays the bytes its SHA-256 names; the Markdown one also carries how the
    # version's forecasts turned out since (front matter `resolutions`, which imports ignore).
    document = version.export_document(with_fingerprint=True)
    document["resolutions"] = forecasts.for_export(forecasts.outcomes_in(version))
    return HttpResponse(
        documents.to_markdown(document),
        content_type="text/markdown; charset=utf-8",
    )


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /review/",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # Django calls this inside its except block, so the exception is at hand.
    if outages.is_outage(sys.exc_info()[1]):
        outages.mark(request)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(outages.RETRY_AFTER)
        return response
    return render(request, "500.html", status=500)
