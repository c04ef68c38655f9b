"""A version's PDF: typeset once (papers.typesetting), then streamed from the storage."""

import logging

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from papers import typesetting
from papers.models import Version

log = logging.getLogger(__name__)

# A version never changes, but withdrawing its paper stamps a notice on its PDF: shared caches
# keep a copy for a day, then revalidate it by its ETag.
PDF_MAX_AGE = 24 * 60 * 60
# After a failed typesetting, requests are answered at once for a while instead of typesetting
# the same version again on every one.
RETRY_AFTER = 300


@require_safe
def version_pdf(request, slug, number):
    version = get_object_or_404(
        Version.objects.select_related("paper"),
        paper__slug=slug,
        paper__live_version__isnull=False,
        number=number,
    )
    name = typesetting.stored_name(version)
    etag = f'"{name.rsplit("-", 1)[-1].removesuffix(".pdf")}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = _stream(version, name)
        if response.status_code != 200:
            return response
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=PDF_MAX_AGE)
    return response


def _stream(version, name):
    failed = f"pdf-failed:{name}"
    if cache.get(failed):
        return _unavailable("This PDF could not be made just now; please try again later.")
    try:
        typesetting.build_pdf(version)
        file = default_storage.open(name)
    except typesetting.Unavailable as error:
        log.warning("pdf.unavailable: %s", error)
        return _unavailable(
            "PDFs cannot be made on this server: the typesetting libraries are not installed."
        )
    except Exception:
        log.exception("pdf.failed", extra={"version": version.pk})
        cache.set(failed, True, RETRY_AFTER)
        return _unavailable("This PDF could not be made just now; please try again later.")
    return FileResponse(
        file, content_type="application/pdf", filename=typesetting.filename(version)
    )


def _unavailable(message):
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    patch_cache_control(response, no_store=True)
    return response
