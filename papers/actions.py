"""The editors' workflow actions on one paper, defined once for the two places that offer them:
the paper's admin page (papers/admin/workflow.py) and the review workspace (papers/views/review.py).

Each action is a form: what its button says, when a page offers it, who may take it, and the
papers.workflow function it calls. The form checks only the shape of the input; whether the action
is allowed now is for the workflow function to say, and its refusal becomes the page's message.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from papers import permissions, workflow

User = get_user_model()

OVERRIDE_HELP = (
    "Only to go over a rule, and logged with your name: an open concern whose thread is "
    "unresolved, reviews that did not assess every claim, or (superusers) a paper you wrote."
)


def _text(label, *, required=True, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=workflow.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.get_username()})" if name else user.get_username()


def assignable_reviewers(paper):
    """Active members of the Reviewers group not yet assigned to the paper."""
    return (
        User.objects.filter(is_active=True, groups__name=permissions.REVIEWERS)
        .exclude(assignments__paper=paper)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class ActionForm(forms.Form):
    """An action that needs nothing but a click. Each subclass adds its fields and `run()`,
    which calls its workflow function and returns the success message (or lets the function's
    WorkflowError through)."""

    name = label = help = ""
    offered_from = None  # an action of workflow.TRANSITIONS; None: offered at every stage
    publishing = False  # needs the publish permission, beyond being an editor
    danger = False

    def __init__(self, *args, paper, user, **kwargs):
        kwargs.setdefault("auto_id", f"{self.name}-%s")
        super().__init__(*args, **kwargs)
        self.paper, self.user = paper, user
        self.warnings = []  # said to the editor beside the success message

    @classmethod
    def allowed(cls, user):
        """Who may take the action at all; the workflow function checks the rest."""
        return permissions.can_publish(user) if cls.publishing else permissions.is_editor(user)

    @classmethod
    def fits(cls, paper):
        """Whether the action applies to the paper as it is now."""
        return cls.offered_from is None or paper.stage in workflow.TRANSITIONS[cls.offered_from][0]


class SubmitForm(ActionForm):
    name, label, offered_from = "submit", "Submit for review", "submit"
    help = "A new review round opens for every assigned reviewer."

    def run(self):
        paper = workflow.submit_paper(self.paper, by=self.user)
        return f"Submitted “{paper}” for review: round {paper.round} is open."


class RequestChangesForm(ActionForm):
    name, label, offered_from = "request-changes", "Request changes", "request_changes"
    help = "The paper goes back to its authors; unsubmitted reviews of this round are closed."
    reason = _text("What needs to change", help_text="Sent to every reviewer of this round.")

    def run(self):
        workflow.request_changes(self.paper, by=self.user, reason=self.cleaned_data["reason"])
        return f"Sent “{self.paper}” back for changes; the reviewers are told why."


class ApproveForm(ActionForm):
    name, label, offered_from = "approve", "Approve", "approve"
    help = "Approve the paper for publication, by hand or at a set time."
    publish_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional: the scheduler publishes the paper then. Empty: publish by hand.",
    )
    override_reason = _text("Override reason", required=False, help_text=OVERRIDE_HELP)

    def clean_publish_at(self):
        publish_at = self.cleaned_data["publish_at"]
        if publish_at is not None and publish_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return publish_at

    def run(self):
        paper = workflow.approve_paper(self.paper, by=self.user, **self.cleaned_data)
        when = f" for {paper.publish_at:%Y-%m-%d %H:%M %Z}" if paper.publish_at else ""
        return f"Approved “{paper}”{when}."


class PublishForm(ActionForm):
    name, label, offered_from = "publish", "Publish", "publish"
    help = "Readers see the new version at once. Published versions cannot be changed afterwards."
    correction = False
    note = _text("Change note", required=False, help_text="Shown to readers in the history.")
    override_reason = _text("Override reason", required=False, help_text=OVERRIDE_HELP)

    publishing = True

    @classmethod
    def fits(cls, paper):
        return super().fits(paper) and paper.withdrawn_at is None

    def run(self):
        publish = workflow.publish_correction if self.correction else workflow.publish_paper
        version = publish(self.paper, by=self.user, **self.cleaned_data)
        what = "a correction of " if self.correction else ""
        return f"Published {what}“{self.paper}” as version {version.number}."


class CorrectForm(PublishForm):
    name, label, offered_from = "correct", "Publish a correction", None
    help = "The working copy is published as a new version flagged as a correction, with your note."
    correction = True
    note = _text("What was corrected", help_text="Shown to readers with the correction notice.")

    @classmethod
    def fits(cls, paper):
        return super().fits(paper) and paper.live_version_id is not None


class WithdrawForm(ActionForm):
    name, label, publishing, danger = "withdraw", "Withdraw", True, True
    help = "The paper's address keeps a withdrawal notice with your reason instead of the paper."
    reason = _text("Reason", help_text="Shown to readers at the paper's address instead of it.")

    fits = CorrectForm.fits

    def run(self):
        workflow.withdraw_paper(self.paper, by=self.user, reason=self.cleaned_data["reason"])
        return f"Withdrew “{self.paper}”: its address now shows the withdrawal notice."


class AssignForm(ActionForm):
    name, label, help = "assign", "Assign a reviewer", "Reviewers are told by email."
    reviewer = ReviewerChoiceField(label="Reviewer", queryset=User.objects.none())
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = assignable_reviewers(self.paper)

    def run(self):
        reviewer, due_date = self.cleaned_data["reviewer"], self.cleaned_data["due_date"]
        workflow.assign_reviewer(self.paper, reviewer, by=self.user, due_date=due_date)
        if not reviewer.email:
            self.warnings.append(
                f"{reviewer.get_username()} has no email address, so no email tells them of "
                "this assignment or of the round: tell them yourself, or add their address."
            )
        return f"Assigned {reviewer.get_username()} to review “{self.paper}”."


class UnassignForm(ActionForm):
    name, label = "unassign", "Unassign a reviewer"
    help = "The reviewer loses access at once; an unsubmitted review of theirs is closed."
    reviewer = ReviewerChoiceField(label="Reviewer", queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = User.objects.filter(assignments__paper=self.paper).order_by("username")
        self.fields["reviewer"].queryset = reviewers

    def run(self):
        reviewer = self.cleaned_data["reviewer"]
        workflow.unassign_reviewer(self.paper, reviewer, by=self.user)
        return f"{reviewer.get_username()} no longer reviews “{self.paper}”."


# The workflow buttons, in the order pages show them; assigning and unassigning sit with the
# paper's reviewers instead.
BUTTONS = [SubmitForm, RequestChangesForm, ApproveForm, PublishForm, CorrectForm, WithdrawForm]
ACTIONS = {form.name: form for form in [*BUTTONS, AssignForm, UnassignForm]}


def offered(paper, user):
    """The buttons a page shows the user for the paper, as unbound forms."""
    if not permissions.is_editor(user):
        return []
    publisher = permissions.can_publish(user)
    return [
        form(paper=paper, user=user)
        for form in BUTTONS
        if form.fits(paper) and (publisher or not form.publishing)
    ]
