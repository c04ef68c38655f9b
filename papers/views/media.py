"""Uploaded files, served so that no browser runs them (SECURITY R23).

Each file goes out with `nosniff` and a policy that allows nothing, so a file that is not what
its name says can neither be taken for a page nor run a script; only our image types are shown
inline, anything else is a download. In production the proxy serves /media/ itself with the same
headers (docs/deploy.md); this view answers wherever such a request reaches Django.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

# The types papers.uploads stores, by extension; a file's content is never looked at.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


@require_safe
def serve(request, path):
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        # resolve() follows "..", absolute paths and symbolic links to where they really lead.
        file = (root / path).resolve()
        found = file.is_relative_to(root) and file.is_file()
    except (OSError, ValueError):  # a NUL byte, a loop of links, a name too long
        raise Http404 from None
    if not found:
        raise Http404
    content_type = IMAGE_TYPES.get(file.suffix.lower())
    response = FileResponse(
        file.open("rb"),
        content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Set here, the site's own policy (django-csp) leaves it as it is.
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
