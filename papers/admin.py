"""The editors' admin: papers with their sections and claims on one page, the workflow buttons
(papers/admin_workflow.py), and read-only records of reviews, versions and events."""

import difflib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.html import format_html
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget

from papers import (
    admin_people,  # noqa: F401  (registers the people admin)
    anchoring,
    audit,
    pagecache,
    rendering,
)
from papers.admin_drafts import DraftsAdminMixin
from papers.admin_workflow import ORPHANED, WorkflowAdminMixin
from papers.models import (
    Assessment,
    Claim,
    Comment,
    Event,
    Paper,
    Review,
    Section,
    Source,
    Tag,
    Version,
)


class MarkdownWidget(AdminMarkdownxWidget):
    """markdownx's editor, with the reason for a refused image shown instead of its own
    "Invalid response" written into the text."""

    class Media:
        js = ["papers/upload-errors.js"]


MARKDOWN_WIDGETS = {MarkdownxField: {"widget": MarkdownWidget}}


def _touch_papers(paper_ids):
    """A claim saved on its own page makes any open form of its paper stale (R28)."""
    Paper.objects.filter(pk__in=paper_ids).update(lock_version=F("lock_version") + 1)


class ClaimForm(forms.ModelForm):
    """Validates a claim the editor marked or changed against its section's text as submitted
    on the same page, so an editor can change a section and re-mark its claims in one save.
    Untouched claims are re-anchored after the save (PaperAdmin.save_related)."""

    def __init__(self, *args, section_drafts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_drafts = section_drafts or {}

    ANCHOR_FIELDS = {"section", "quote", "prefix", "suffix"}

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.ANCHOR_FIELDS & set(self.changed_data):
            self.instance.check_quote = False
        section = cleaned.get("section")
        if section is not None and str(section.pk) in self.section_drafts:
            draft = self.section_drafts[str(section.pk)]
            section.body_text = rendering.html_to_text(rendering.render_markdown(draft))
        return cleaned


class PaperForm(forms.ModelForm):
    """Carries the paper's `lock_version` as it was when the page was opened, and refuses the
    save if another editor's save moved it since (R28).

    Only editors' saves of this form (and of a claim on its own page) move `lock_version`;
    workflow functions leave it alone, so a submit or a publish between opening and saving the
    page never refuses the save. Their fields are not in this form and are not written by it.
    """

    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opened_version"].initial = self.instance.lock_version
        self.locked_version = None
        self.conflict = []

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        # The admin's change view runs in one transaction: the row stays locked until the
        # paper, its sections and claims are saved and `lock_version` moves on.
        saved = Paper.objects.select_for_update().get(pk=self.instance.pk)
        opened = cleaned.get("opened_version")
        if opened == saved.lock_version:
            self.locked_version = saved.lock_version
            return cleaned
        self.conflict = differences(self.data, saved)
        # Keep the editor's input, now against the saved version: saving again, after reading
        # the differences, replaces the other save knowingly.
        self.data = self.data.copy()
        self.data[self.add_prefix("opened_version")] = saved.lock_version
        if opened is None:
            raise forms.ValidationError(
                "This form did not say which version of the paper it was opened at, so it was "
                "not saved: check what differs from the saved paper below and save again."
            )
        raise forms.ValidationError(
            "Someone else saved this paper since you opened it%(who)s, so your changes were "
            "not saved. They are kept below with what differs from the saved paper: merge "
            "what you need and save again, or reload the page to start from the saved paper.",
            params={"who": _last_saved_by(saved)},
            code="conflict",
        )


def _last_saved_by(paper):
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Paper),
        object_id=str(paper.pk),
        action_flag=CHANGE,
    ).first()
    if entry is None:
        return ""
    when = timezone.localtime(entry.action_time)
    return f" ({entry.user.get_full_name() or entry.user}, {when:%Y-%m-%d %H:%M %Z})"


def differences(data, paper):
    """What differs between a submitted paper form and the paper as saved, as (what, lines):
    a short diff of each field, section and claim, the saved text marked "-", the form's "+"."""
    fields = [Paper._meta.get_field(name) for name in ["title", "slug", "byline", "standfirst"]]
    pairs = [
        (f.verbose_name.capitalize(), getattr(paper, f.name), data.get(f.name)) for f in fields
    ]
    tag_ids = [value for value in data.getlist("tags") if value.isdigit()]
    pairs.append(("Tags", paper.tags.all(), Tag.objects.filter(pk__in=tag_ids)))
    inlines = [
        ("sections", "Section", paper.sections.all(), "{heading}\n\n{body}"),
        ("claims", "Claim", paper.claims.all(), "{kind}: {quote}"),
    ]
    for prefix, noun, queryset, text in inlines:
        saved = {str(obj.pk): obj for obj in queryset}
        for row in _inline_rows(data, prefix):
            obj = saved.pop(row["id"], None)
            theirs = text.format(**vars(obj)) if obj else ""
            yours = "" if row["DELETE"] else text.format(**row)
            pairs.append((f"{noun} “{obj or row['heading'] or row['quote']}”", theirs, yours))
        pairs += [(f"{noun} “{obj}”", text.format(**vars(obj)), "") for obj in saved.values()]
    return [(what, lines) for what, theirs, yours in pairs if (lines := _diff(theirs, yours))]


def _diff(saved, yours, limit=12):
    def lines(value):
        if not isinstance(value, str):  # a queryset of tags
            return sorted(str(obj) for obj in value or [])
        return value.replace("\r\n", "\n").strip().splitlines()

    diff = difflib.unified_diff(lines(saved), lines(yours), lineterm="", n=0)
    diff = [line for line in diff if not line.startswith(("---", "+++", "@@"))]
    return [*diff[:limit], "…"] if len(diff) > limit else diff


def _inline_rows(data, prefix):
    """The rows of an inline formset as submitted, with the fields the differences compare."""
    total = data.get(f"{prefix}-TOTAL_FORMS", "")
    keys = ["id", "heading", "body", "kind", "quote", "DELETE"]
    rows = [
        {key: data.get(f"{prefix}-{n}-{key}", "") for key in keys}
        for n in range(min(int(total) if total.isdigit() else 0, 1000))
    ]
    return [row for row in rows if any(row.values())]


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "anchor", "body"]
    # Set once from the heading, then kept so that links to the section never break.
    readonly_fields = ["anchor"]
    formfield_overrides = MARKDOWN_WIDGETS


class AnchoringMixin:
    """Shows a claim whose words are gone from its section as orphaned, with its old text."""

    @admin.display(description="Anchoring")
    def anchoring(self, claim):
        if claim.pk is None or not claim.is_orphaned:
            return "In its section"
        return format_html(
            "<strong>Orphaned</strong>: its words are no longer in its section. Old text: “{}”. "
            "Re-anchor it or remove it: publishing is blocked until then.",
            claim.quote,
        )


class ClaimInline(AnchoringMixin, admin.StackedInline):
    model = Claim
    form = ClaimForm
    extra = 0
    fields = [
        "anchoring",
        ("section", "kind"),
        "quote",
        ("prefix", "suffix"),
        ("tags", "sources"),
        "note",
    ]
    readonly_fields = ["anchoring"]
    autocomplete_fields = ["tags", "sources"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            paper_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Section.objects.filter(paper_id=paper_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Paper)
class PaperAdmin(WorkflowAdminMixin, DraftsAdminMixin, admin.ModelAdmin):
    form = PaperForm
    list_display = [
        "title",
        "stage",
        "round",
        "live_version_number",
        "review_progress",
        "open_thread_total",
        "orphan_total",
        "claim_total",
        "updated_at",
    ]
    list_filter = ["stage", "tags"]
    search_fields = ["title", "slug", "byline", "standfirst"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "authors"]
    readonly_fields = ["stage", "round", "live_version"]
    fields = [
        "title",
        "slug",
        "standfirst",
        "byline",
        "authors",
        "tags",
        ("stage", "round", "live_version"),
        "opened_version",
    ]
    inlines = [SectionInline, ClaimInline]
    formfield_overrides = MARKDOWN_WIDGETS
    actions = ["publish"]

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ClaimInline) and request.method == "POST":
            kwargs["form_kwargs"] = {"section_drafts": _section_drafts(request.POST)}
        return kwargs

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            audit.record(audit.Action.CREATE, by=request.user, paper=obj)
            return
        # The row is locked since the form's clean. Only the fields this form edits are
        # written: a workflow change made after the page loaded its paper is never undone.
        obj.lock_version = form.locked_version + 1
        edited = [f.name for f in Paper._meta.concrete_fields if f.name in form.fields]
        obj.save(update_fields=[*edited, "standfirst_html", "lock_version", "updated_at"])
        if obj.live_version_id and "slug" in form.changed_data:
            pagecache.public_changed()  # readers' pages link to its new address
        audit.record(
            audit.Action.EDIT, by=request.user, paper=obj, note=", ".join(form.changed_data)
        )

    def delete_model(self, request, obj):
        pk, title = obj.pk, obj.title
        super().delete_model(request, obj)
        audit.record(audit.Action.DELETE, by=request.user, paper_id=pk, title=title)

    def delete_queryset(self, request, queryset):
        for paper in queryset:
            self.delete_model(request, paper)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        summary = anchoring.reanchor_paper(form.instance)
        for claim in summary.orphans:
            self.message_user(
                request,
                f"Claim “{claim}” no longer matches its section's text and is marked orphaned; "
                "re-mark it or remove it before publishing.",
                messages.WARNING,
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self.workflow_context(request, obj))
            context["drafts"] = self.drafts_context(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


def _section_drafts(data):
    """Section bodies as submitted in the paper form's section inline, by section id."""
    drafts = {}
    for key, value in data.items():
        if key.startswith("sections-") and key.endswith("-id") and value:
            body = data.get(key[: -len("id")] + "body")
            if body is not None:
                drafts[value] = body
    return drafts


class OrphanedFilter(admin.SimpleListFilter):
    title = "anchoring"
    parameter_name = "orphaned"

    def lookups(self, request, model_admin):
        return [("yes", "Orphaned"), ("no", "In its section")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ORPHANED)
        if self.value() == "no":
            return queryset.exclude(ORPHANED)
        return queryset


@admin.register(Claim)
class ClaimAdmin(AnchoringMixin, admin.ModelAdmin):
    list_display = ["__str__", "public_id", "paper", "section", "kind", "is_orphaned"]
    list_filter = [OrphanedFilter, "kind", "tags", "paper"]
    search_fields = ["quote", "public_id", "note"]
    list_select_related = ["paper", "section"]
    autocomplete_fields = ["tags", "sources"]
    readonly_fields = ["public_id", "anchoring", "section_text"]
    fields = [
        "public_id",
        "anchoring",
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

    @admin.display(description="Orphaned", boolean=True)
    def is_orphaned(self, claim):
        return claim.is_orphaned

    @admin.display(description="Section text (select words to quote them)")
    def section_text(self, claim):
        return claim.section.body_text if claim.section else "Save the claim with a section first."

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            kwargs["queryset"] = Section.objects.select_related("paper")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _touch_papers({obj.paper_id, form.initial.get("paper")} - {None})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _touch_papers([obj.paper_id])

    def delete_queryset(self, request, queryset):
        paper_ids = set(queryset.values_list("paper_id", flat=True))
        super().delete_queryset(request, queryset)
        _touch_papers(paper_ids)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    # Readers see tags' names and addresses on every page that lists papers or claims.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        pagecache.public_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        pagecache.public_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        pagecache.public_changed()


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    # An address typed without its scheme is taken as HTTPS (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "publisher", "date", "url"]
    search_fields = ["title", "publisher", "url", "quote"]
    date_hierarchy = "date"


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
