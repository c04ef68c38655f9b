"""The admin of what editors write: a paper's page with its outline of sections and its claims
(papers/admin/desk.py) and its workflow panel (papers/admin/workflow.py), and claims on their
own pages. Tags and sources are papers/admin/catalogue.py."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.db import models
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from markdownx.models import MarkdownxField

from papers import audit, pagecache, purging, similarity, workflow
from papers.admin.catalogue import shared_edit
from papers.admin.desk import (
    DeskAdminMixin,
    ReattachAdminMixin,
    record_content_edit,
    touch_papers,
)
from papers.admin.drafts import DraftsAdminMixin
from papers.admin.forms import ConflictMixin, MarkdownWidget, differing
from papers.admin.workflow import ORPHANED, WorkflowAdminMixin
from papers.converters import natural_number
from papers.models import (
    Claim,
    Paper,
    Section,
    Tag,
)

MARKDOWN_WIDGETS = {MarkdownxField: {"widget": MarkdownWidget}}


class PaperForm(ConflictMixin, forms.ModelForm):
    """The paper's own fields. Carries the paper's `lock_version` as it was when the page was
    opened, and refuses the save if another editor's save moved it since (R28).

    Only editors' saves of this form and of the paper's claims move `lock_version`; workflow
    functions leave it alone, so a submit or a publish between opening and saving the page
    never refuses the save. Their fields are not in this form and are not written by it.
    Sections are saved on their own pages, with their own check (admin_forms.SectionForm).
    """

    noun = "paper"
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opened_version"].initial = self.instance.lock_version
        self.locked = None
        self.conflict = []

    @staticmethod
    def saved_token(paper):
        return paper.lock_version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        # The admin's change view runs in one transaction: the row stays locked until the
        # paper is saved and `lock_version` moves on.
        saved = Paper.objects.select_for_update().get(pk=self.instance.pk)
        if "authors" in self.changed_data and workflow.authors_fixed(saved):
            self.add_error(
                "authors",
                "The authors cannot change while the paper is in review or approved: they "
                "may not approve or publish it. Request changes first.",
            )
        self.check_conflict(cleaned, saved)
        return cleaned

    def differences(self, paper):
        """What differs between the submitted form and the paper as saved."""
        names = ["title", "slug", "byline", "standfirst"]
        pairs = [
            (f.verbose_name.capitalize(), getattr(paper, f.name), self.data.get(f.name))
            for f in map(Paper._meta.get_field, names)
        ]
        tag_ids = [value for value in self.data.getlist("tags") if value.isdigit()]
        pairs.append(("Tags", paper.tags.all(), Tag.objects.filter(pk__in=tag_ids)))
        return differing(pairs)


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


@admin.register(Paper)
class PaperAdmin(WorkflowAdminMixin, DraftsAdminMixin, DeskAdminMixin, admin.ModelAdmin):
    """A paper's own fields, its workflow, and its desk: the outline of its sections, each
    edited on its own page, and a compact list of its claims."""

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
    formfield_overrides = MARKDOWN_WIDGETS
    actions = ["publish"]

    class Media:
        js = ["papers/desk.js"]
        css = {"all": ["papers/desk.css"]}

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            audit.record(audit.Action.CREATE, by=request.user, paper=obj)
            return
        # The row is locked since the form's clean. Only the fields this form edits are
        # written: a workflow change made after the page loaded its paper is never undone.
        obj.lock_version = form.locked.lock_version + 1
        edited = [f.name for f in Paper._meta.concrete_fields if f.name in form.fields]
        obj.save(update_fields=[*edited, "standfirst_html", "lock_version", "updated_at"])
        if obj.live_version_id and "slug" in form.changed_data:
            pagecache.public_changed()  # readers' pages link to its new address
            purging.paper_moved(obj, old_slug=form.initial["slug"])
        audit.record(
            audit.Action.EDIT, by=request.user, paper=obj, note=", ".join(form.changed_data)
        )

    def delete_model(self, request, obj):
        pk, title = obj.pk, obj.title
        super().delete_model(request, obj)
        audit.record(audit.Action.DELETE, by=request.user, paper_id=pk, title=title)

    def delete_queryset(self, request, queryset):
        for paper in queryset.exclude(PUBLISHED):
            self.delete_model(request, paper)

    # A paper with published versions is withdrawn, never deleted: readers, citations and the
    # version history keep its address. One never published may still be deleted.
    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.live_version_id is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            # Under Django's name: its confirmation page posts back to that action.
            description = "Delete selected papers never published"
            actions["delete_selected"] = (_delete_unpublished, "delete_selected", description)
        return actions

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        edited = [name for name in form.changed_data if name in CONTENT_FIELDS]
        if change and edited:
            record_content_edit(request, form.instance, what=", ".join(edited))

    def response_post_save_add(self, request, obj):
        # A new paper has no sections yet: its page is where they are added.
        return HttpResponseRedirect(reverse("admin:papers_paper_change", args=[obj.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self.workflow_context(request, obj))
            context["drafts"] = self.drafts_context(request, obj)
            context.update(self.desk_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


PUBLISHED = models.Q(live_version__isnull=False)


def _delete_unpublished(modeladmin, request, queryset):
    """Django's bulk delete, of the selected papers that were never published."""
    published = queryset.filter(PUBLISHED).count()
    if published:
        modeladmin.message_user(
            request,
            f"{published} of the selected papers ha{'s' if published == 1 else 've'} published "
            "versions and cannot be deleted: withdraw them instead.",
            messages.WARNING,
        )
    unpublished = queryset.exclude(PUBLISHED)
    return delete_selected(modeladmin, request, unpublished) if unpublished.exists() else None


# The paper form's fields that reviewers vouch for (see papers.workflow.content).
CONTENT_FIELDS = {"title", "standfirst", "tags"}


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


class ClaimSourceInline(admin.TabularInline):
    """A claim's sources, each with how the claim uses it (supports, disputes, ...)."""

    model = Claim.sources.through
    fields = ["source", "use"]
    autocomplete_fields = ["source"]
    extra = 1
    verbose_name = "source"
    verbose_name_plural = "sources"

    # A claim's sources are part of the claim: whoever may change claims may change them, as
    # Django grants for a plain many-to-many (the rows have no permissions of their own).
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("papers.view_claim")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("papers.change_claim")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("papers.change_claim")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("papers.change_claim")


@admin.register(Claim)
class ClaimAdmin(ReattachAdminMixin, AnchoringMixin, admin.ModelAdmin):
    list_display = ["__str__", "public_id", "paper", "section", "kind", "is_orphaned"]
    list_filter = [OrphanedFilter, "kind", "tags", "paper"]
    search_fields = ["quote", "public_id", "note"]
    list_select_related = ["paper", "section"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["public_id", "anchoring", "section_text", "similar_claims"]
    inlines = [ClaimSourceInline]
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
        "note",
        ("due", "resolves_when"),
        "similar_claims",
    ]

    class Media:
        js = ["papers/claim-picker.js"]

    @admin.display(description="Orphaned", boolean=True)
    def is_orphaned(self, claim):
        return claim.is_orphaned

    @admin.display(description="Section text (select words to quote them)")
    def section_text(self, claim):
        return claim.section.body_text if claim.section else "Save the claim with a section first."

    @admin.display(description="Similar claims in other papers")
    def similar_claims(self, claim):
        found = similarity.similar_to(claim.quote, paper_id=claim.paper_id) if claim.pk else []
        context = {"similar": found, "claim_id": claim.public_id}
        return render_to_string("papers/_similar.html", context) or "None published."

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        section = form.base_fields.get("section")
        paper_id = obj.paper_id if obj is not None else natural_number(request.GET.get("paper"))
        if section is not None and paper_id:
            # A claim quotes a section of its own paper.
            section.queryset = Section.objects.filter(paper_id=paper_id)
        elif section is not None:
            section.queryset = Section.objects.select_related("paper")
            section.label_from_instance = lambda s: f"{s.paper}: {s}"
        return form

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        paper_ids = {obj.paper_id, form.initial.get("paper")} - {None}
        touch_papers(paper_ids)

    def save_related(self, request, form, formsets, change):
        # After the sources' inline is saved, so a change of a source or its use counts too.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if form.has_changed() or any(formset.has_changed() for formset in formsets):
            paper_ids = {obj.paper_id, form.initial.get("paper")} - {None}
            shared_edit(request, paper_ids, f"claim {obj.public_id}")
        flag = similarity.flag(similarity.similar_to(obj.quote, paper_id=obj.paper_id))
        if flag:
            messages.warning(request, f"Claim {obj.public_id}: {flag}.")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        touch_papers([obj.paper_id])
        shared_edit(request, [obj.paper_id], f"claim {obj.public_id} removed")

    def delete_queryset(self, request, queryset):
        paper_ids = set(queryset.values_list("paper_id", flat=True))
        super().delete_queryset(request, queryset)
        touch_papers(paper_ids)
        shared_edit(request, paper_ids, "claims removed")
