"""The admin site, open only to editors, with our own Markdown preview endpoint.

Kept apart from papers/admin.py: the default admin site is built lazily from this class, and
building it must not import the module that registers models on it.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from papers import permissions, rendering


class EditorsAdminSite(admin.AdminSite):
    site_header = "Standpoint editors"
    site_title = "Standpoint"
    index_title = "Papers, claims and sources"

    def has_permission(self, request):
        return permissions.is_editor(request.user)

    def get_urls(self):
        # markdownx's own views answer anonymous requests; the preview lives here instead,
        # behind the admin's login, editor check and CSRF protection.
        preview = path(
            "markdown-preview/", self.admin_view(markdown_preview), name="markdown_preview"
        )
        return [preview, *super().get_urls()]


@require_POST
def markdown_preview(request):
    return HttpResponse(rendering.render_markdown(request.POST.get("content", "")))
