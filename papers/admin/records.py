"""Records in the admin, read-only: published versions and events (R29), and reviewers' work
(reviews, assessments, comments). Editors read them here; they change only through the workflow."""

from django.contrib import admin

from papers.models import Assessment, Comment, Event, Review, Version


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records (published versions, events) and reviewers' work: editors read them here; they
    change only through the workflow (R29)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Version)
class VersionAdmin(ReadOnlyAdmin):
    list_display = ["title", "number", "is_correction", "published_at", "published_by_name"]
    list_filter = ["is_correction"]
    search_fields = ["title", "note"]
    exclude = ["snapshot", "body_html", "standfirst_html", "toc", "published_by"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "paper_title", "actor_name", "version_number"]
    list_filter = ["action"]
    search_fields = ["paper_title", "actor_name", "note"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["paper", "round", "reviewer", "status", "recommendation", "submitted_at"]
    list_filter = ["status", "recommendation"]
    list_select_related = ["paper", "reviewer"]
    search_fields = ["paper__title", "reviewer__username", "summary"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["claim", "verdict", "review", "updated_at"]
    list_filter = ["verdict"]
    list_select_related = ["claim", "review__paper", "review__reviewer"]
    search_fields = ["claim__quote", "note"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "claim", "round", "created_at", "is_resolved"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["claim"]
    search_fields = ["body", "author_name", "claim__quote"]

    @admin.display(description="Resolved", boolean=True)
    def is_resolved(self, comment):
        return comment.is_resolved
