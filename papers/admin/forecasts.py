"""Forecasts' resolutions in the admin, read-only: they are recorded on each forecast's resolve
page (papers.views.forecasts) through the workflow, and never changed or deleted."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from papers.admin.records import ReadOnlyAdmin
from papers.models import Resolution


@admin.register(Resolution)
class ResolutionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "outcome", "paper", "resolved_by_name", "resolved_at"]
    list_filter = ["outcome"]
    list_select_related = ["paper"]
    search_fields = ["public_id", "note", "paper__title"]
    exclude = ["resolved_by"]
    readonly_fields = ["record_another"]

    @admin.display(description="A new resolution")
    def record_another(self, resolution):
        url = reverse("papers:forecast-resolve", args=[resolution.public_id])
        return format_html('<a href="{}">Record a new one, superseding this</a>', url)
