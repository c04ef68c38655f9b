"""The workflow in the paper admin: buttons on a paper's page, its reviewers and event history,
the workflow columns of the paper list, and the bulk publish action.

The actions themselves are defined once, in papers/actions.py, for this page and the review
workspace alike. Each button posts to one admin URL per action (`<paper id>/workflow/<action>/`),
behind the admin's login, editor check and CSRF protection. A GET only shows the action's form
(a confirmation when there is nothing to fill in); a valid POST calls the one function in
papers.workflow, which makes the real checks. Its refusal comes back as an error message on the
paper's page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from papers import actions, permissions, workflow
from papers.models import Claim, Comment, Paper, Review
from papers.models.subqueries import count

ORPHANED = Q(orphaned=True) | Q(section=None)


class PublishSelectedForm(forms.Form):
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


class WorkflowAdminMixin:
    """For PaperAdmin: the workflow columns of the paper list, the workflow URLs, the context of
    the paper page's workflow panel, and the bulk publish action."""

    def get_queryset(self, request):
        claims = Claim.objects.filter(paper=OuterRef("pk"))
        this_round = Review.objects.filter(paper=OuterRef("pk"), round=OuterRef("round"))
        return (
            super()
            .get_queryset(request)
            .select_related("live_version")
            .annotate(
                claim_count=count(claims),
                orphan_count=count(claims.filter(ORPHANED)),
                open_thread_count=count(
                    Comment.objects.filter(
                        claim__paper=OuterRef("pk"), parent=None, resolved_at=None
                    )
                ),
                submitted_count=count(this_round.filter(status=Review.Status.SUBMITTED)),
                open_review_count=count(this_round.filter(status=Review.Status.OPEN)),
            )
        )

    @admin.display(description="Live version", ordering="live_version__number")
    def live_version_number(self, paper):
        return f"v{paper.live_version.number}" if paper.live_version else "—"

    @admin.display(description="Reviews this round")
    def review_progress(self, paper):
        if not paper.round:
            return "—"
        return f"{paper.submitted_count} submitted, {paper.open_review_count} open"

    @admin.display(description="Open threads", ordering="open_thread_count")
    def open_thread_total(self, paper):
        return paper.open_thread_count

    @admin.display(description="Orphaned claims", ordering="orphan_count")
    def orphan_total(self, paper):
        return paper.orphan_count

    @admin.display(description="Claims", ordering="claim_count")
    def claim_total(self, paper):
        return paper.claim_count

    def get_urls(self):
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.workflow_view))
        opts = self.model._meta
        workflow_url = path(
            "<path:object_id>/workflow/<slug:action>/",
            view,
            name=f"{opts.app_label}_{opts.model_name}_workflow",
        )
        # Before the default URLs: their "<object_id>/" catch-all would take it otherwise.
        return [workflow_url, *super().get_urls()]

    def workflow_view(self, request, object_id, action):
        action_form = actions.ACTIONS.get(action)
        paper = self.get_object(request, unquote(object_id))
        if action_form is None or paper is None:
            raise Http404("No such paper or action.")
        if not (self.has_change_permission(request, paper) and action_form.allowed(request.user)):
            raise PermissionDenied
        back = reverse("admin:papers_paper_change", args=[paper.pk])
        data = request.POST if request.method == "POST" else None
        form = action_form(data, paper=paper, user=request.user)
        if form.is_valid():
            try:
                message = form.run()
            except workflow.WorkflowError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, message, messages.SUCCESS)
                for warning in form.warnings:
                    self.message_user(request, warning, messages.WARNING)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{form.label}: {paper}",
            "opts": self.model._meta,
            "paper": paper,
            "form": form,
            "change_url": back,
        }
        return TemplateResponse(request, "admin/papers/paper/workflow_action.html", context)

    def workflow_context(self, request, paper):
        """What the paper page's workflow panel shows: the actions that fit the paper's stage,
        its reviewers with their review of the current round, and its event history."""

        def url(action):
            return reverse("admin:papers_paper_workflow", args=[paper.pk, action])

        reviews = {r.reviewer_id: r for r in paper.reviews.filter(round=paper.round)}
        assignments = list(paper.assignments.select_related("reviewer").order_by("assigned_at"))
        for assignment in assignments:
            assignment.current_review = reviews.get(assignment.reviewer_id)
        buttons = [
            {"label": form.label, "url": url(form.name), "direct": not form.fields}
            for form in actions.offered(paper, request.user)
        ]
        events = list(paper.events.all())
        stages = dict(Paper.Stage.choices)
        for event in events:
            ends = [stages.get(s, s) for s in dict.fromkeys([event.from_stage, event.to_stage])]
            event.stages = " → ".join(ends)
        return {
            "workflow_actions": buttons,
            "assignments": assignments,
            "assign_url": url("assign"),
            "unassign_url": url("unassign"),
            "events": events,
        }

    def has_publish_permission(self, request):
        return permissions.can_publish(request.user, None)

    @admin.action(description="Publish selected papers…", permissions=["publish"])
    def publish(self, request, queryset):
        form = PublishSelectedForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            publish = (
                workflow.publish_correction
                if form.cleaned_data["correction"]
                else workflow.publish_paper
            )
            for paper in queryset:
                try:
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
