"""The forms of a paper's page and a section's page, each refusing a save over another editor's
save made since the page was opened (R28), with what differs, the editor's input kept."""

import difflib
import hashlib

from django import forms
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from markdownx.widgets import AdminMarkdownxWidget

from papers import outline
from papers.models import Section


class MarkdownWidget(AdminMarkdownxWidget):
    """markdownx's editor, with the reason for a refused image shown instead of its own
    "Invalid response" written into the text."""

    class Media:
        js = ["papers/upload-errors.js"]


class ConflictMixin:
    """A form carrying a token of the saved object as it was when the page was opened, refused
    when the token of the object as saved now differs. `saved_token(obj)` gives the token,
    `differences(saved)` what the editor should compare; `locked` is the row the form's clean
    locked (the admin's change view runs in one transaction, so the lock holds until saved)."""

    noun = "object"
    conflicted = False

    def check_conflict(self, cleaned, saved):
        self.locked = saved
        opened, now = cleaned.get("opened_version"), self.saved_token(saved)
        if str(opened) == str(now):
            return
        self.conflicted = True
        self.conflict = self.differences(saved)
        # Keep the editor's input, now against the saved object: saving again, after reading
        # the differences, replaces the other save knowingly.
        self.data = self.data.copy()
        self.data[self.add_prefix("opened_version")] = now
        if opened in (None, ""):
            raise forms.ValidationError(
                f"This form did not say which version of the {self.noun} it was opened at, so it "
                "was not saved: check what differs from the saved one below and save again."
            )
        raise forms.ValidationError(
            f"Someone else saved this {self.noun} since you opened it%(who)s, so your changes "
            "were not saved. They are kept below with what differs from the saved one: merge "
            "what you need and save again, or reload the page to start from the saved one.",
            params={"who": _last_saved_by(saved)},
            code="conflict",
        )


class SectionForm(ConflictMixin, forms.ModelForm):
    """A section: its heading, its Markdown and its place in the paper. The text may be at
    most settings.STANDPOINT_MAX_SECTION_CHARS long."""

    noun = "section"
    place = forms.IntegerField(
        label="Position",
        min_value=1,
        required=False,
        help_text="Its place in the paper: 1 is the first section, and the others move to make "
        "room. Empty: a new section goes at the end.",
        # The place as the page showed it goes with the form: a section that another editor
        # moved meanwhile is moved again only if this editor changed its place.
        show_hidden_initial=True,
    )
    opened_version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Section
        fields = ["paper", "heading", "place", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locked = None
        self.conflict = []
        section = self.instance
        if section.pk is not None:
            self.fields["place"].initial = outline.place_of(section)
            self.fields["opened_version"].initial = self.saved_token(section)
        elif str(self.initial.get("paper") or "").isdigit():
            # A new section of a paper goes at the end (left empty, it goes there too).
            count = Section.objects.filter(paper_id=self.initial["paper"]).count()
            self.fields["place"].initial = count + 1

    @staticmethod
    def saved_token(section):
        text = f"{section.heading}\0{section.body}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def clean_body(self):
        body = self.cleaned_data["body"]
        outline.check_length(body)
        return body

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            saved = Section.objects.select_for_update().get(pk=self.instance.pk)
            self.check_conflict(cleaned, saved)
        return cleaned

    def differences(self, section):
        return differing(
            [
                ("Heading", section.heading, self.data.get(self.add_prefix("heading"))),
                ("Text", section.body, self.data.get(self.add_prefix("body"))),
            ]
        )


def _last_saved_by(obj):
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        action_flag=CHANGE,
    ).first()
    if entry is None:
        return ""
    when = timezone.localtime(entry.action_time)
    return f" ({entry.user.get_full_name() or entry.user}, {when:%Y-%m-%d %H:%M %Z})"


def differing(pairs):
    """[(what, diff lines)] of the (what, saved, submitted) pairs that differ: the saved text
    marked "-", the form's "+"."""
    return [(what, lines) for what, saved, yours in pairs if (lines := _diff(saved, yours))]


def _diff(saved, yours, limit=12):
    def lines(value):
        if not isinstance(value, str):  # a queryset of tags
            return sorted(str(obj) for obj in value or [])
        return value.replace("\r\n", "\n").strip().splitlines()

    diff = difflib.unified_diff(lines(saved), lines(yours), lineterm="", n=0)
    diff = [line for line in diff if not line.startswith(("---", "+++", "@@"))]
    return [*diff[:limit], "…"] if len(diff) > limit else diff
