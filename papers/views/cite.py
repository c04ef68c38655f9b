"""How to cite a published version or a claim: a page with the reference in common styles, and
the reference as BibTeX, RIS and CSL-JSON for reference managers.

Only published rows are read: a draft, an unknown version or claim is a 404. A withdrawn paper
stays citable (retraction practice keeps the record); its references note the withdrawal.
"""

import functools
import hashlib

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from papers import citing, pagecache
from papers.models import Paper, Version, VersionClaim

# Anonymous readers' copies are revalidated after a minute, as the paper pages are: the latest
# version's reference changes when a new version is published.
MAX_AGE = 60
# What a reference reads of a version: never its snapshot or stored body.
HEAVY_FIELDS = ("snapshot", "body_html", "standfirst_html", "toc")


def _latest(slug):
    paper = get_object_or_404(
        Paper.objects.published()
        .select_related("live_version")
        .defer(*(f"live_version__{name}" for name in HEAVY_FIELDS)),
        slug=slug,
    )
    return paper, paper.live_version


def _numbered(slug, number):
    version = get_object_or_404(
        Version.objects.select_related("paper__live_version").defer(
            *HEAVY_FIELDS, *(f"paper__live_version__{name}" for name in HEAVY_FIELDS)
        ),
        paper__slug=slug,
        paper__live_version__isnull=False,
        number=number,
    )
    return version.paper, version


def _claim(public_id):
    """The claim as it was last published: the version its citation is pinned to."""
    claim = (
        VersionClaim.objects.filter(public_id=public_id)
        .select_related("version", "paper")
        .defer(*(f"version__{name}" for name in HEAVY_FIELDS))
        .order_by("-version__number")
        .first()
    )
    if claim is None:
        raise Http404("No published claim has this id.")
    return claim


def _download(name):
    """Name the download after its address (`name` formatted with the URL's values). The page
    cache keeps only a few headers of what it stores, so the name is set outside it, on every
    response, cached or not."""

    def decorate(view):
        @functools.wraps(view)
        def named(request, fmt, **kwargs):
            response = view(request, fmt=fmt, **kwargs)
            if response.status_code == 200:
                filename = f"{name.format(**kwargs)}.{fmt}"
                response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response

        return named

    return decorate


# --- Pages ------------------------------------------------------------------------------------


@require_safe
@pagecache.for_readers
def paper_cite(request, slug):
    paper, version = _latest(slug)
    return _page(request, citing.of_version(version, paper), paper=paper, version=version)


@require_safe
@pagecache.for_readers
def version_cite(request, slug, number):
    paper, version = _numbered(slug, number)
    return _page(
        request, citing.of_version(version, paper), paper=paper, version=version, pinned=True
    )


@require_safe
@pagecache.for_readers
def claim_cite(request, public_id):
    claim = _claim(public_id)
    reference = citing.of_claim(claim, claim.paper)
    return _page(request, reference, paper=claim.paper, version=claim.version, claim=claim)


def _page(request, reference, *, paper, version, claim=None, pinned=False):
    context = {
        "reference": reference,
        "styles": citing.formatted(reference),
        "paper": paper,
        "version": version,
        "claim": claim,
        "pinned": pinned,
        "latest": claim is None and version.pk == paper.live_version_id,
    }
    return _conditional(request, render(request, "papers/cite.html", context))


# --- Files ------------------------------------------------------------------------------------


@require_safe
@_download("{slug}")
@pagecache.for_readers
def paper_cite_file(request, slug, fmt):
    _known(fmt)
    paper, version = _latest(slug)
    return _file(request, citing.of_version(version, paper), fmt)


@require_safe
@_download("{slug}-v{number}")
@pagecache.for_readers
def version_cite_file(request, slug, number, fmt):
    _known(fmt)
    paper, version = _numbered(slug, number)
    return _file(request, citing.of_version(version, paper), fmt)


@require_safe
@_download("claim-{public_id}")
@pagecache.for_readers
def claim_cite_file(request, public_id, fmt):
    _known(fmt)
    claim = _claim(public_id)
    return _file(request, citing.of_claim(claim, claim.paper), fmt)


def _known(fmt):
    if fmt not in citing.FORMATS:
        raise Http404("References are .bib, .ris or .json.")


def _file(request, reference, fmt):
    text = citing.WRITERS[fmt](reference)
    return _conditional(request, HttpResponse(text, content_type=citing.FORMATS[fmt]))


def _conditional(request, response):
    """The response with a strong ETag of its bytes, or a 304 when the reader has them.
    Signed-in users' pages hold their own sign-out form: private, and never a 304."""
    if request.user.is_authenticated:
        patch_cache_control(response, private=True)
        return response
    etag = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        response = not_modified
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response
