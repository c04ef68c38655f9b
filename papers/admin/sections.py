"""A section's own admin page: its heading, its place in the paper, and its Markdown with the
live preview; links back to the paper and on to the sections before and after it.

A save renders the section once (Section.save), then re-anchors its claims against that text
(papers.anchoring): a small edit of a claim's words moves the claim with them; a claim whose
words are gone is orphaned, and the page offers the best re-attachment found in the new text.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from markdownx.models import MarkdownxField

from papers import anchoring, audit, outline
from papers.admin.desk import offers, record_content_edit
from papers.admin.forms import MarkdownWidget, SectionForm
from papers.admin.marking import ClaimMarkingMixin
from papers.models import Paper, Section


def paper_url(paper_id):
    return reverse("admin:papers_paper_change", args=[paper_id]) + "#outline"


@admin.register(Section)
class SectionAdmin(ClaimMarkingMixin, admin.ModelAdmin):
    form = SectionForm
    fields = ["paper", "heading", "place", "body", "opened_version"]
    autocomplete_fields = ["paper"]
    formfield_overrides = {MarkdownxField: {"widget": MarkdownWidget}}
    list_display = ["heading", "paper", "position"]
    list_select_related = ["paper"]
    search_fields = ["heading", "paper__title"]
    save_as = False

    class Media:
        js = ["papers/desk.js"]
        css = {"all": ["papers/desk.css"]}

    def get_model_perms(self, request):
        # Not listed on the admin's home page: sections are reached from their paper's page.
        return {}

    def get_readonly_fields(self, request, obj=None):
        # A section stays in its paper: its claims quote it.
        return ["paper"] if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper")

    def save_model(self, request, obj, form, change):
        was_orphaned = set()
        if change:
            was_orphaned = set(obj.claims.filter(orphaned=True).values_list("pk", flat=True))
            # Only what this form edits: a reorder made meanwhile stays.
            obj.save(update_fields=["heading", "body", "body_html", "body_text", "anchor"])
        else:
            obj.position = outline.next_position(obj.paper)
            obj.save()
        place = form.cleaned_data.get("place")
        if place and (not change or "place" in form.changed_data):
            outline.move(obj, place)
        results = anchoring.reanchor_section(obj)  # against the text save() rendered, once
        Paper.objects.filter(pk=obj.paper_id).update(updated_at=timezone.now())
        what = f"section “{obj.heading}”" + ("" if change else " added")
        changed = ", ".join(form.changed_data) if change else ""
        audit.record(
            audit.Action.EDIT,
            by=request.user,
            paper=obj.paper,
            note=f"{what}: {changed}" if changed else what,
        )
        record_content_edit(request, obj.paper, what=what)
        self._report(request, results, was_orphaned)

    def _report(self, request, results, was_orphaned):
        for claim, outcome in results:
            if outcome == anchoring.Outcome.FUZZY:
                self.message_user(
                    request,
                    f"A claim's words were edited: it now quotes them as they read, “{claim}”.",
                    messages.INFO,
                )
            elif outcome == anchoring.Outcome.ORPHANED and claim.pk not in was_orphaned:
                self.message_user(
                    request,
                    f"The words of claim “{claim}” are no longer in the section, so it is marked "
                    "orphaned: accept the re-attachment offered at the top of the section's "
                    "page or the paper's, or re-mark it, before publishing.",
                    messages.WARNING,
                )

    def delete_model(self, request, obj):
        paper, heading = obj.paper, obj.heading
        super().delete_model(request, obj)  # its claims stay, orphaned, until re-anchored
        audit.record(
            audit.Action.EDIT, by=request.user, paper=paper, note=f"section “{heading}” deleted"
        )
        record_content_edit(request, paper, what=f"section “{heading}” deleted")

    def delete_view(self, request, object_id, extra_context=None):
        section = self.get_object(request, unquote(object_id))
        response = super().delete_view(request, object_id, extra_context)
        if section is not None and request.method == "POST" and response.status_code == 302:
            return HttpResponseRedirect(paper_url(section.paper_id))
        return response

    # "Save" returns to the paper's outline, "Save and add another" adds one to the same paper.
    def response_post_save_add(self, request, obj):
        return HttpResponseRedirect(paper_url(obj.paper_id))

    def response_post_save_change(self, request, obj):
        return HttpResponseRedirect(paper_url(obj.paper_id))

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST:
            return HttpResponseRedirect(f"{request.path}?paper={obj.paper_id}")
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_addanother" in request.POST:
            add = reverse("admin:papers_section_add")
            return HttpResponseRedirect(f"{add}?paper={obj.paper_id}")
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self._neighbours(obj))
        else:
            paper_id = str(context["adminform"].form.initial.get("paper") or "")
            if paper_id.isdigit():
                context["paper"] = Paper.objects.filter(pk=paper_id).first()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _neighbours(self, section):
        """The paper, the sections before and after this one, and its orphaned claims with
        their offers (numbered as on the paper's page)."""
        plan = outline.outline(section.paper)
        rows = [row.section for row in plan.sections]
        at = next(n for n, row in enumerate(rows) if row.pk == section.pk)
        return {
            "paper": section.paper,
            "previous_section": rows[at - 1] if at > 0 else None,
            "next_section": rows[at + 1] if at + 1 < len(rows) else None,
            "orphan_offers": offers(
                [claim for claim in plan.orphans if claim.section_id == section.pk]
            ),
            "section_claims": sum(1 for claim in plan.claims if claim.section_id == section.pk),
        }
