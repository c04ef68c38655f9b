"""Forms of the reviewers' actions on the review pages: they check the shape and length of what
was posted; whether the action is allowed is for `workflow` to say. The editors' workflow actions
have their forms in papers/actions.py."""

from django import forms
from django.contrib.auth import get_user_model

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
    unassessed = forms.BooleanField(
        error_messages={
            "required": "Tick the box to submit with claims unassessed, or assess them first."
        },
    )

    def __init__(self, *args, missing=0, **kwargs):
        """`missing`: claims without a verdict that counts; the reviewer then confirms that
        they submit all the same."""
        super().__init__(*args, **kwargs)
        if missing:
            plural = "claim" if missing == 1 else "claims"
            self.fields[
                "unassessed"
            ].label = f"I submit my review with {missing} {plural} not assessed in this round."
        else:
            del self.fields["unassessed"]


def error_message(form):
    """The form's errors in one sentence for a flash message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)
