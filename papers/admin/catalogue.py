"""The admin of what papers share: tags and sources. Each is part of what reviewers vouch
for in every paper that uses it, so changing one is an edit of those papers."""

from django.contrib import admin
from django.db import models

from papers import link_status, pagecache, purging, workflow
from papers.models import Paper, Source, Tag


def shared_edit(request, paper_ids, what):
    """Tell the workflow that these papers' reviewable content changed outside the paper's own
    page (a claim, a source or a tag): it may undo an approval."""
    workflow.record_shared_edit(Paper.objects.filter(pk__in=paper_ids), by=request.user, what=what)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    # Readers see tags' names and addresses on every page that lists papers or claims. A
    # tag's name and slug are part of what reviewers vouch for in each paper that uses it.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        pagecache.public_changed()
        purging.tag_changed(obj, old_slug=form.initial.get("slug"))
        if change and {"name", "slug"} & set(form.changed_data):
            shared_edit(request, _papers_tagged([obj.pk]), f"tag “{obj}”")

    def delete_model(self, request, obj):
        paper_ids = _papers_tagged([obj.pk])
        purging.tag_changed(obj)
        super().delete_model(request, obj)
        pagecache.public_changed()
        shared_edit(request, paper_ids, f"tag “{obj}” removed")

    def delete_queryset(self, request, queryset):
        paper_ids = _papers_tagged(list(queryset.values_list("pk", flat=True)))
        for tag in queryset if purging.enabled() else ():
            purging.tag_changed(tag)
        super().delete_queryset(request, queryset)
        pagecache.public_changed()
        shared_edit(request, paper_ids, "tags removed")


def _papers_tagged(tag_ids):
    """The ids of the papers that carry one of these tags, themselves or on a claim."""
    tagged = models.Q(tags__in=tag_ids) | models.Q(claims__tags__in=tag_ids)
    return set(Paper.objects.filter(tagged).values_list("pk", flat=True))


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    # An address typed without its scheme is taken as HTTPS (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "publisher", "date", "url", "link_status"]
    list_filter = ["link_status"]
    search_fields = ["title", "publisher", "url", "quote"]
    date_hierarchy = "date"
    # What the link check found (papers/link_status.py): only a check writes it.
    readonly_fields = link_status.RECORDED_FIELDS
    actions = ["accept_pages"]

    # A source is part of what reviewers vouch for in each paper that cites it.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.has_changed():
            shared_edit(request, _papers_citing([obj.pk]), f"source “{obj}”")

    def delete_model(self, request, obj):
        paper_ids = _papers_citing([obj.pk])
        super().delete_model(request, obj)
        shared_edit(request, paper_ids, f"source “{obj}” removed")

    def delete_queryset(self, request, queryset):
        paper_ids = _papers_citing(list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)
        shared_edit(request, paper_ids, "sources removed")

    @admin.action(
        description="Accept the selected pages as they are now (from the next link check)",
        permissions=["change"],
    )
    def accept_pages(self, request, queryset):
        # The next check takes the page it fetches as the new baseline.
        count = queryset.exclude(link_hash="").update(link_hash="")
        noun = "source" if count == 1 else "sources"
        self.message_user(request, f"{count} {noun} will take the page as the next check finds it.")


def _papers_citing(source_ids):
    papers = Paper.objects.filter(claims__sources__in=source_ids)
    return set(papers.values_list("pk", flat=True))
