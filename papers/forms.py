"""Forms of the review pages: they check the shape and length of what was posted; whether the
action is allowed is for `workflow` to say."""

from django import forms
from django.contrib.auth import get_user_model

from papers import permissions
from papers.models import Assessment, Review
from papers.workflow import MAX_TEXT

User = get_user_model()


def _text(label, *, required=True, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


class CommentForm(forms.Form):
    body = _text("Comment")
    parent = forms.IntegerField(
        label="Thread", required=False, min_value=1, widget=forms.HiddenInput
    )


class AssessmentForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Verdict", choices=Assessment.Verdict.choices, widget=forms.RadioSelect
    )
    note = _text("Note", required=False)


class ReviewSubmissionForm(forms.Form):
    recommendation = forms.ChoiceField(
        label="Recommendation", choices=Review.Recommendation.choices, widget=forms.RadioSelect
    )
    summary = _text("Summary for the editors", required=False)


class PaperActionForm(forms.Form):
    """The input of an editor's workflow action on one paper (none, for submitting it)."""

    def __init__(self, *args, paper, **kwargs):
        super().__init__(*args, **kwargs)
        self.paper = paper


class ReasonForm(PaperActionForm):
    reason = _text("Reason")


class ApproveForm(PaperActionForm):
    publish_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty to publish by hand.",
    )
    override_reason = _text("Override reason", required=False)


class PublishForm(PaperActionForm):
    note = _text("Change note", required=False)
    override_reason = _text("Override reason", required=False)


class CorrectionForm(PaperActionForm):
    note = _text("Correction note")
    override_reason = _text("Override reason", required=False)


class AssignForm(PaperActionForm):
    reviewer = forms.ModelChoiceField(label="Reviewer", queryset=User.objects.none())
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = assignable_reviewers(self.paper)


class UnassignForm(PaperActionForm):
    reviewer = forms.ModelChoiceField(label="Reviewer", queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(assignments__paper=self.paper)


def assignable_reviewers(paper):
    """Active members of the Reviewers group not yet assigned to the paper."""
    return (
        User.objects.filter(is_active=True, groups__name=permissions.REVIEWERS)
        .exclude(assignments__paper=paper)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def error_message(form):
    """The form's errors in one sentence for a flash message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)
