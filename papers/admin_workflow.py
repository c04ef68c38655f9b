"""The workflow in the paper admin: buttons on a paper's page, its reviewers and event history,
the workflow columns of the paper list, and the bulk publish action.

Each button posts to one admin URL per action (`<paper id>/workflow/<action>/`), behind the
admin's login, editor check and CSRF protection. A GET only shows the action's form (a
confirmation when there is nothing to fill in); a valid POST calls the one function in
papers.workflow, which makes the real checks. Its refusal comes back as an error message on the
paper's page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Func, IntegerField, OuterRef, Q, Subquery
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from papers import permissions, workflow
from papers.models import Claim, Comment, Paper, Review

User = get_user_model()
ORPHANED = Q(orphaned=True) | Q(section=None)


def _count(queryset):
    """How many rows a correlated queryset has, as a subquery: the changelist stays one query."""
    count = Func("pk", function="COUNT", output_field=IntegerField())
    return Subquery(queryset.order_by().values(n=count), output_field=IntegerField())


def _text(label, *, required=True, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=workflow.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=help_text,
    )


OVERRIDE_HELP = (
    "Needed only to publish over a reviewer's concern whose thread is unresolved, or (superusers) "
    "to publish a paper you wrote without a second editor. The reason is logged."
)


class ActionForm(forms.Form):
    """A workflow action on one paper: what the button says, when the page offers it, and the
    workflow function it calls. This one needs nothing but a click."""

    label = help = ""
    offered_from = None  # an action of workflow.TRANSITIONS; None: at every stage

    def __init__(self, *args, paper, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.paper, self.user = paper, user

    @classmethod
    def offered(cls, paper, user):
        return cls.offered_from is None or paper.stage in workflow.TRANSITIONS[cls.offered_from][0]


class SubmitForm(ActionForm):
    label, offered_from = "Submit for review", "submit"
    help = "A new review round opens for every assigned reviewer."

    def run(self):
        paper = workflow.submit_paper(self.paper, by=self.user)
        return f"Submitted “{paper}” for review: round {paper.round} is open."


class RequestChangesForm(ActionForm):
    label, offered_from = "Request changes", "request_changes"
    help = "The paper goes back to its authors; unsubmitted reviews of this round are closed."
    reason = _text("What needs to change", help_text="Sent to every reviewer of this round.")

    def run(self):
        workflow.request_changes(self.paper, by=self.user, reason=self.cleaned_data["reason"])
        return f"Sent “{self.paper}” back for changes."


class ApproveForm(ActionForm):
    label, offered_from = "Approve", "approve"
    help = "Approve the paper for publication, by hand or at a set time."
    publish_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional: the scheduler publishes the paper then. Empty: publish by hand.",
    )
    override_reason = _text(
        "Override reason",
        required=False,
        help_text="Superusers only: why you approve a paper you wrote yourself. Logged.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.user.is_superuser:
            del self.fields["override_reason"]

    def clean_publish_at(self):
        publish_at = self.cleaned_data["publish_at"]
        if publish_at is not None and publish_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return publish_at

    def run(self):
        paper = workflow.approve_paper(
            self.paper,
            by=self.user,
            publish_at=self.cleaned_data["publish_at"],
            override_reason=self.cleaned_data.get("override_reason", ""),
        )
        when = f" for {paper.publish_at:%Y-%m-%d %H:%M %Z}" if paper.publish_at else ""
        return f"Approved “{paper}”{when}."


class PublishForm(ActionForm):
    label, offered_from = "Publish", "publish"
    help = "Readers see the new version at once. Published versions cannot be changed afterwards."
    correction = False
    note = _text("Change note", required=False, help_text="Shown to readers in the history.")
    override_reason = _text("Override reason", required=False, help_text=OVERRIDE_HELP)

    @classmethod
    def offered(cls, paper, user):
        return (
            super().offered(paper, user)
            and paper.withdrawn_at is None
            and permissions.can_publish(user)
        )

    def run(self):
        publish = workflow.publish_correction if self.correction else workflow.publish_paper
        version = publish(self.paper, by=self.user, **self.cleaned_data)
        what = "a correction of " if self.correction else ""
        return f"Published {what}“{self.paper}” as version {version.number}."


class CorrectForm(PublishForm):
    label, offered_from = "Publish a correction", None
    help = "The working copy is published as a new version flagged as a correction, with your note."
    correction = True
    note = _text("What was corrected", help_text="Shown to readers with the correction notice.")

    @classmethod
    def offered(cls, paper, user):
        return super().offered(paper, user) and paper.live_version_id is not None


class WithdrawForm(ActionForm):
    label = "Withdraw"
    help = "The paper's address keeps a withdrawal notice with your reason instead of the paper."
    reason = _text("Reason", help_text="Shown to readers at the paper's address instead of it.")

    offered = CorrectForm.offered

    def run(self):
        workflow.withdraw_paper(self.paper, by=self.user, reason=self.cleaned_data["reason"])
        return f"Withdrew “{self.paper}”."


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.get_username()})" if name else user.get_username()


class AssignForm(ActionForm):
    label, help = "Assign a reviewer", "Reviewers are told by email."
    reviewer = ReviewerChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = (
            User.objects.filter(is_active=True, groups__name=permissions.REVIEWERS)
            .exclude(assignments__paper=self.paper)
            .order_by("username")
            .distinct()
        )

    def run(self):
        reviewer, due_date = self.cleaned_data["reviewer"], self.cleaned_data["due_date"]
        workflow.assign_reviewer(self.paper, reviewer, by=self.user, due_date=due_date)
        return f"Assigned {reviewer.get_username()} to review “{self.paper}”."


class UnassignForm(ActionForm):
    label = "Unassign a reviewer"
    help = "The reviewer loses access at once; an unsubmitted review of theirs is closed."
    reviewer = ReviewerChoiceField(queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = User.objects.filter(assignments__paper=self.paper).order_by("username")
        self.fields["reviewer"].queryset = reviewers

    def run(self):
        reviewer = self.cleaned_data["reviewer"]
        workflow.unassign_reviewer(self.paper, reviewer, by=self.user)
        return f"{reviewer.get_username()} no longer reviews “{self.paper}”."


# The buttons of the workflow panel, in this order; assigning and unassigning sit with the
# paper's reviewers instead.
BUTTONS = {
    "submit": SubmitForm,
    "request-changes": RequestChangesForm,
    "approve": ApproveForm,
    "publish": PublishForm,
    "correct": CorrectForm,
    "withdraw": WithdrawForm,
}
ACTIONS = {**BUTTONS, "assign": AssignForm, "unassign": UnassignForm}


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
                claim_count=_count(claims),
                orphan_count=_count(claims.filter(ORPHANED)),
                open_thread_count=_count(
                    Comment.objects.filter(
                        claim__paper=OuterRef("pk"), parent=None, resolved_at=None
                    )
                ),
                submitted_count=_count(this_round.filter(status=Review.Status.SUBMITTED)),
                open_review_count=_count(this_round.filter(status=Review.Status.OPEN)),
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
        action_form = ACTIONS.get(action)
        paper = self.get_object(request, unquote(object_id))
        if action_form is None or paper is None:
            raise Http404("No such paper or action.")
        if not self.has_change_permission(request, paper):
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
        actions = [
            {"label": form.label, "url": url(name), "direct": not form.base_fields}
            for name, form in BUTTONS.items()
            if form.offered(paper, request.user)
        ]
        events = list(paper.events.all())
        stages = dict(Paper.Stage.choices)
        for event in events:
            ends = [stages.get(s, s) for s in dict.fromkeys([event.from_stage, event.to_stage])]
            event.stages = " → ".join(ends)
        return {
            "workflow_actions": actions,
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
