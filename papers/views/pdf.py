"""A version's PDF: streamed from the storage once typeset (papers.typesetting), which happens
in a background task; until then a short page says it is being typeset (503, Retry-After)."""

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from papers import typesetting
from papers.models import Version

# A version never changes, but withdrawing its paper stamps a notice on its PDF: shared caches
# keep a copy for a day, then revalidate it by its ETag.
PDF_MAX_AGE = 24 * 60 * 60
# A short paper is typeset in seconds, a very long one in a minute or two.
RETRY_AFTER = 30


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
        if not default_storage.exists(name):
            typesetting.queue_build(version)
            # A queue that runs tasks at once (development) has made it by now.
            if not default_storage.exists(name):
                return _being_typeset(request, version)
        response = FileResponse(
            default_storage.open(name),
            content_type="application/pdf",
            filename=typesetting.filename(version),
        )
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=PDF_MAX_AGE)
    return response


def _being_typeset(request, version):
    context = {"version": version, "paper": version.paper, "retry_after": RETRY_AFTER}
    response = render(request, "papers/pdf_pending.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    patch_cache_control(response, no_store=True)
    return response
