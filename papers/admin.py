"""The editors' admin: papers with their sections and claims on one page, and publishing."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget

from papers import permissions, rendering, workflow
from papers.models import Claim, Event, Paper, Section, Source, Tag, Version

MARKDOWN_WIDGETS = {MarkdownxField: {"widget": AdminMarkdownxWidget}}


class ClaimForm(forms.ModelForm):
    """Validates a claim against its section's text as submitted on the same page, so an editor
    can change a section and re-mark its claims in one save."""

    def __init__(self, *args, section_drafts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_drafts = section_drafts or {}

    def clean(self):
        cleaned = super().clean()
        section = cleaned.get("section")
        if section is not None and str(section.pk) in self.section_drafts:
            draft = self.section_drafts[str(section.pk)]
            section.body_text = rendering.html_to_text(rendering.render_markdown(draft))
        return cleaned


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "anchor", "body"]
    # Set once from the heading, then kept so that links to the section never break.
    readonly_fields = ["anchor"]
    formfield_overrides = MARKDOWN_WIDGETS


class ClaimInline(admin.StackedInline):
    model = Claim
    form = ClaimForm
    extra = 0
    fields = [("section", "kind"), "quote", ("prefix", "suffix"), ("tags", "sources"), "note"]
    autocomplete_fields = ["tags", "sources"]
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            paper_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Section.objects.filter(paper_id=paper_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PublishForm(forms.Form):
    note = forms.CharField(
        label="Change note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to readers in the version history. Required for a correction.",
    )
    correction = forms.BooleanField(
        label="This version is a correction",
        required=False,
        help_text="Readers see a correction notice with your note.",
    )


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "live_version_number", "claim_total", "updated_at"]
    list_filter = ["stage", "tags"]
    search_fields = ["title", "slug", "byline", "standfirst"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "authors"]
    readonly_fields = ["stage", "live_version"]
    fields = ["title", "slug", "standfirst", "byline", "authors", "tags", "stage", "live_version"]
    inlines = [SectionInline, ClaimInline]
    formfield_overrides = MARKDOWN_WIDGETS
    actions = ["publish"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("live_version")
            .annotate(claim_count=Count("claims"))
        )

    @admin.display(description="Live version", ordering="live_version__number")
    def live_version_number(self, paper):
        return f"v{paper.live_version.number}" if paper.live_version else "—"

    @admin.display(description="Claims", ordering="claim_count")
    def claim_total(self, paper):
        return paper.claim_count

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ClaimInline) and request.method == "POST":
            kwargs["form_kwargs"] = {"section_drafts": _section_drafts(request.POST)}
        return kwargs

    def has_publish_permission(self, request):
        return permissions.can_publish(request.user, None)

    @admin.action(description="Publish selected papers…", permissions=["publish"])
    def publish(self, request, queryset):
        form = PublishForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for paper in queryset:
                try:
                    publish = (
                        workflow.publish_correction
                        if form.cleaned_data["correction"]
                        else workflow.publish_paper
                    )
                    version = publish(paper, by=request.user, note=form.cleaned_data["note"])
                except workflow.WorkflowError as error:
                    self.message_user(
                        request, f"“{paper}” was not published: {error}", messages.ERROR
                    )
                else:
                    self.message_user(request, f"Published “{paper}” as version {version.number}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Publish papers",
            "opts": self.model._meta,
            "papers": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/papers/paper/publish.html", context)


def _section_drafts(data):
    """Section bodies as submitted in the paper form's section inline, by section id."""
    drafts = {}
    for key, value in data.items():
        if key.startswith("sections-") and key.endswith("-id") and value:
            body = data.get(key[: -len("id")] + "body")
            if body is not None:
                drafts[value] = body
    return drafts


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["__str__", "public_id", "paper", "section", "kind"]
    list_filter = ["kind", "tags", "paper"]
    search_fields = ["quote", "public_id", "note"]
    list_select_related = ["paper", "section"]
    autocomplete_fields = ["tags", "sources"]
    readonly_fields = ["public_id", "section_text"]
    fields = [
        "public_id",
        "paper",
        "section",
        "section_text",
        "quote",
        ("prefix", "suffix"),
        "kind",
        "tags",
        "sources",
        "note",
    ]

    class Media:
        js = ["papers/claim-picker.js"]

    @admin.display(description="Section text (select words to quote them)")
    def section_text(self, claim):
        return claim.section.body_text if claim.section else "Save the claim with a section first."

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            kwargs["queryset"] = Section.objects.select_related("paper")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher", "date", "url"]
    search_fields = ["title", "publisher", "url", "quote"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Published versions and events are records: viewable, never editable here."""

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
