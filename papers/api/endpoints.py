"""The API's operations: each reads published rows through papers/api/reading.py and answers
one of the models of papers/api/schemas.py. Read-only: the only methods are GET and HEAD
(papers/api/edge.py answers HEAD and refuses the others)."""

from math import ceil

from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from ninja.renderers import JSONRenderer

from papers.api import reading, schemas
from papers.api.rate import ClientRate

ERRORS = {400: schemas.Error, 404: schemas.Error, 429: schemas.Error}


class InertJSON(JSONRenderer):
    """JSON whose <, > and & are escaped (\\u003c…), as Django's json_script does: the same data
    to any JSON reader, and no markup even to a client that sniffs it as HTML."""

    def render(self, request, data, *, response_status):
        text = super().render(request, data, response_status=response_status)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


api = NinjaAPI(
    title="Standpoint claims API",
    version="1",
    description="Published position papers, their versions and claims, with each claim's "
    "kind, tags, sources and how it uses them, and its review status; and the corrections "
    "log. Read-only, without authentication; each client may make STANDPOINT_API_RATE "
    "requests (120 a minute unless configured), then gets 429 with Retry-After.",
    urls_namespace="api",
    openapi_url="/schema/",
    docs_url=None,  # the documentation is a page of ours (papers/api/docs.py)
    throttle=[ClientRate()],
    renderer=InertJSON(),
)


@api.exception_handler(ValidationError)
def bad_parameters(request, exc):
    """A 400 naming each bad parameter, instead of django-ninja's 422 (nothing was processed,
    so the request itself was bad). Only where and why: never the value sent back."""
    errors = [
        {"parameter": ".".join(str(part) for part in error.get("loc", ())[1:]) or "request",
         "problem": error.get("msg", "Invalid value.")}
        for error in exc.errors
    ]  # fmt: skip
    detail = "; ".join(f"{error['parameter']}: {error['problem']}" for error in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=400)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def paginated(request, queryset, filters, to_items):
    """One page of `queryset` as `to_items` shows it: {count, page, pages, limit, next,
    previous, results}. A page past the last is a 404 that says how many there are."""
    limit = min(filters.limit, schemas.MAX_LIMIT)
    count = queryset.count()
    pages = max(1, ceil(count / limit))
    if filters.page > pages:
        raise Http404(f"There is no page {filters.page}: the last is {pages}.")
    start = (filters.page - 1) * limit
    rows = queryset[start : start + limit] if count else []

    def link(page):
        if not 1 <= page <= pages:
            return None
        # The filters as understood (never what else the address held), then the page.
        chosen = filters.model_dump(mode="json", exclude_none=True, exclude={"page", "limit"})
        query = {**chosen, "page": page, "limit": limit}
        return reading.absolute(f"{request.path}?{urlencode(query)}")

    return {
        "count": count,
        "page": filters.page,
        "pages": pages,
        "limit": limit,
        "next": link(filters.page + 1),
        "previous": link(filters.page - 1),
        "results": to_items(rows),
    }


@api.get("/", response=schemas.Index, url_name="index", summary="Where everything is")
def index(request):
    return {
        "papers": reading.api_url("papers"),
        "claims": reading.api_url("claims"),
        "corrections": reading.api_url("corrections"),
        "openapi": reading.api_url("openapi-json"),
        "docs": reading.absolute(reverse("api:docs")),
    }


@api.get(
    "/papers/",
    response={200: schemas.PaperPage, **ERRORS},
    url_name="papers",
    summary="Published papers",
    description="Papers with a published version that are not withdrawn, newest publication "
    "first; `tag` and `updated_since` narrow them as on /papers/.",
)
def paper_list(request, filters: Query[schemas.PaperFilters]):
    return paginated(request, reading.papers(filters), filters, reading.paper_items)


@api.get(
    "/papers/{slug}/",
    response={200: schemas.PaperDetail, **ERRORS},
    url_name="paper",
    summary="One paper and its versions",
    description="A withdrawn paper answers too, with its withdrawal.",
)
def paper_detail(request, slug: Path[str]):
    return reading.paper_detail(slug)


@api.get(
    "/papers/{slug}/versions/{number}/",
    response={200: schemas.VersionOut, **ERRORS},
    url_name="version",
    summary="One version as published",
    description="Its sections (Markdown) and claims, exactly as they were published.",
)
def version_detail(request, slug: Path[str], number: Path[int]):
    if not 1 <= number <= schemas.MAX_PAGE:
        raise Http404("No published version has this number.")
    return reading.version_detail(slug, number)


@api.get(
    "/claims/",
    response={200: schemas.ClaimPage, **ERRORS},
    url_name="claims",
    summary="Published claims",
    description="Every claim of the latest version of each listed paper, newest paper first, "
    "in reading order; `tag`, `kind`, `status`, `paper` and `updated_since` combine.",
)
def claim_list(request, filters: Query[schemas.ClaimFilters]):
    return paginated(request, reading.claims(filters), filters, reading.claim_items)


@api.get(
    "/claims/{public_id}/",
    response={200: schemas.ClaimDetail, **ERRORS},
    url_name="claim",
    summary="One claim and its history",
    description="The claim as the latest version holding it has it, and the versions in which "
    "it changed (a removed claim says which version removed it).",
)
def claim_detail(request, public_id: Path[str]):
    return reading.claim_detail(public_id)


@api.get(
    "/corrections/",
    response={200: schemas.CorrectionPage, **ERRORS},
    url_name="corrections",
    summary="The corrections log",
    description="Every correction and withdrawal, newest first, with the claims each "
    "correction changed; `paper` and `tag` narrow it (an unknown one is a 404).",
)
def correction_list(request, filters: Query[schemas.CorrectionFilters]):
    return paginated(request, reading.correction_log(filters), filters, reading.correction_items)
