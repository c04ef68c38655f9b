"""The admin site, open only to editors, with our own Markdown preview and image upload.

Kept apart from papers/admin/: the default admin site is built lazily from this class, and
building it must not import the modules that register models on it.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from papers import outline, permissions, rendering, uploads


class EditorsAdminSite(admin.AdminSite):
    site_header = "Standpoint editors"
    site_title = "Standpoint"
    index_title = "Editors’ desk"

    def has_permission(self, request):
        return permissions.is_editor(request.user)

    def index(self, request, extra_context=None):
        # The home page is the editors' desk (templates/admin/index.html), the app list beside it.
        # Imported here: the desk reads the workflow admin, which building the site must not load.
        from papers import dashboard

        return super().index(request, {**dashboard.desk(), **(extra_context or {})})

    def get_urls(self):
        # markdownx's own views answer anonymous requests (and its upload stores what the client
        # names .html, SVG scripts included); ours live here instead, behind the admin's login,
        # editor check and CSRF protection, at the paths settings.MARKDOWNX_* give its widget.
        return [
            path("markdown-preview/", self.admin_view(markdown_preview), name="markdown_preview"),
            path("markdown-upload/", self.admin_view(markdown_upload), name="markdown_upload"),
            *super().get_urls(),
        ]


@require_POST
def markdown_preview(request):
    content = request.POST.get("content", "")
    try:
        outline.check_length(content)  # no longer than a section may be saved
    except ValidationError as error:
        # markdownx writes the answer into the preview, whatever its status.
        message = format_html('<p class="errornote">{}</p>', " ".join(error.messages))
        return HttpResponseBadRequest(message)
    return HttpResponse(rendering.render_markdown(content))


@require_POST
def markdown_upload(request):
    # The answers markdownx's widget expects: the Markdown to insert, or a 400 with the
    # messages keyed by field, as its own view sends a form's errors.
    try:
        url = uploads.store_image(request.FILES.get("image"), by=request.user)
    except ValidationError as error:
        return JsonResponse({"image": error.messages}, status=400)
    return JsonResponse({"image_code": f"![]({url})"})
