"""The editors' workflow buttons on the workspace: each calls its workflow step, a refusal
is a message, and reviewers and outsiders are turned away."""

import pytest

from papers import workflow
from papers.models import Assignment, Event, Paper, Version
from tests.factories import (
    ReviewerFactory,
    UserFactory,
    approved,
    client_for,
)
from tests.review.conftest import (
    PAGE,
    database_state,
    factual,
    messages_of,
    review_of,
)

pytestmark = pytest.mark.django_db


# --- Editors' workflow buttons ----------------------------------------------------------------


def act(client, action, data=None, slug="draft-on-deterrence"):
    return client.post(f"/review/{slug}/workflow/{action}/", data or {})


def stage_of(paper):
    paper.refresh_from_db()
    return paper.stage


class TestWorkflowButtons:
    def test_an_editor_submits_a_draft_with_a_reviewer(self, draft, editor, reviewer, as_editor):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        response = act(as_editor, "submit")
        assert response["Location"] == f"{PAGE}#review-editor-actions"
        assert messages_of(response) == [
            "Submitted “Draft on deterrence” for review: round 1 is open."
        ]
        assert stage_of(draft) == Paper.Stage.IN_REVIEW
        assert review_of(reviewer, draft).status == "open"

    def test_a_workflow_error_is_a_message_and_changes_nothing(self, draft, as_editor):
        response = as_editor.post(f"{PAGE}workflow/submit/", follow=True)
        assert response.status_code == 200
        assert "Assign at least one active reviewer before submitting the paper." in (
            response.content.decode()
        )
        assert stage_of(draft) == Paper.Stage.DRAFT
        assert not Event.objects.exclude(paper=None).exists()

    def test_requesting_changes_needs_a_reason(self, in_review, as_editor):
        response = act(as_editor, "request-changes", {"reason": " "})
        assert messages_of(response) == ["What needs to change: This field is required."]
        assert stage_of(in_review) == Paper.Stage.IN_REVIEW
        response = act(as_editor, "request-changes", {"reason": "The outlook overreaches."})
        assert stage_of(in_review) == Paper.Stage.CHANGES_REQUESTED
        assert Event.objects.exclude(paper=None).filter(action="request_changes").get().note == (
            "The outlook overreaches."
        )

    def test_an_editor_approves_with_a_publication_time(self, reviewed, as_editor):
        response = act(as_editor, "approve", {"publish_at": "2031-01-02T09:30"})
        assert messages_of(response) == ["Approved “Draft on deterrence” for 2031-01-02 09:30 UTC."]
        reviewed.refresh_from_db()
        assert reviewed.stage == Paper.Stage.APPROVED
        assert reviewed.publish_at.isoformat() == "2031-01-02T09:30:00+00:00"

    def test_a_bad_publication_time_is_refused(self, reviewed, as_editor):
        response = act(as_editor, "approve", {"publish_at": "next tuesday"})
        assert messages_of(response)[0].startswith("Publish at:")
        assert stage_of(reviewed) == Paper.Stage.IN_REVIEW

    def test_an_editor_publishes_an_approved_paper(self, in_review, as_editor):
        approved(in_review)
        response = act(as_editor, "publish", {"note": "First edition."})
        assert messages_of(response) == ["Published “Draft on deterrence” as version 1."]
        assert Version.objects.get().note == "First edition."

    def test_the_publish_gate_is_a_message_unless_overridden(self, in_review, reviewer, as_editor):
        workflow.assess_claim(
            review_of(reviewer, in_review), factual(in_review), by=reviewer, verdict="disputed"
        )
        approved(in_review)
        response = act(as_editor, "publish", {"note": "Now."})
        assert "unresolved thread" in messages_of(response)[0]
        assert not Version.objects.exists()
        act(as_editor, "publish", {"note": "Now.", "override_reason": "Checked by phone."})
        assert Version.objects.count() == 1
        assert Event.objects.exclude(paper=None).filter(action="override").exists()

    def test_corrections_and_withdrawals(self, published, as_editor):
        assert messages_of(act(as_editor, "correct", {"note": ""}))[0].startswith(
            "What was corrected:"
        )
        act(as_editor, "correct", {"note": "Fixed a date."})
        assert Version.objects.filter(is_correction=True).count() == 1
        act(as_editor, "withdraw", {"reason": "Superseded."})
        published.refresh_from_db()
        assert published.withdrawal_reason == "Superseded."

    def test_an_editor_assigns_and_unassigns_a_reviewer(self, draft, reviewer, as_editor):
        response = act(as_editor, "assign", {"reviewer": reviewer.pk, "due_date": "2031-03-01"})
        assert messages_of(response) == ["Assigned reviewer to review “Draft on deterrence”."]
        assert Assignment.objects.get().due_date.isoformat() == "2031-03-01"
        act(as_editor, "unassign", {"reviewer": reviewer.pk})
        assert not Assignment.objects.exists()

    def test_only_active_reviewers_not_yet_assigned_can_be_chosen(
        self, in_review, reviewer, as_editor
    ):
        people = [reviewer, UserFactory(username="plain"), ReviewerFactory(is_active=False)]
        for person in people:
            response = act(as_editor, "assign", {"reviewer": person.pk})
            assert messages_of(response)[0].startswith("Reviewer: Select a valid choice.")
        assert Assignment.objects.count() == 2

    def test_a_reviewer_gets_403_and_nothing_changes(self, in_review, reviewer, as_reviewer):
        before = database_state()
        for action, data in [
            ("approve", {}),
            ("request-changes", {"reason": "Mine."}),
            ("unassign", {"reviewer": reviewer.pk}),
            ("assign", {"reviewer": reviewer.pk}),
        ]:
            assert act(as_reviewer, action, data).status_code == 403
        assert database_state() == before
        assert Assignment.objects.count() == 2

    def test_an_outsider_gets_404(self, in_review, outsider):
        assert act(client_for(outsider), "approve").status_code == 404
        assert stage_of(in_review) == Paper.Stage.IN_REVIEW

    def test_an_unknown_action_is_404(self, in_review, as_editor):
        assert act(as_editor, "delete").status_code == 404

    def test_the_page_offers_the_actions_of_the_stage(self, draft, in_review, as_editor):
        html = as_editor.get(PAGE).content.decode()
        assert "/workflow/approve/" in html and "/workflow/request-changes/" in html
        assert "/workflow/submit/" not in html and "/workflow/publish/" not in html
        assert "/workflow/withdraw/" not in html

    def test_reviewers_see_no_workflow_buttons(self, in_review, as_reviewer):
        assert "/workflow/" not in as_reviewer.get(PAGE).content.decode()

    def test_the_approve_form_has_the_override_field(self, in_review, as_editor):
        """Editors may approve over incomplete reviews with a written reason, superusers over
        four eyes: one field, on both pages."""
        assert 'id="approve-override_reason"' in as_editor.get(PAGE).content.decode()

    def test_assigning_a_reviewer_without_an_email_address_warns_the_editor(self, draft, as_editor):
        silent = ReviewerFactory(username="silent", email="")
        response = act(as_editor, "assign", {"reviewer": silent.pk})
        assert len(messages_of(response)) == 2 and "no email address" in messages_of(response)[1]
        assert Assignment.objects.get().reviewer == silent
