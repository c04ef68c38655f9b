"""What every workflow step shares: emails sent only after commit, events that outlive their
actor and their paper (R26), refusals logged for security (R27), and rules that hold across steps.

Each step's own tests are in tests/test_workflow_<module>.py, after papers/workflow/."""

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.http import Http404

from papers import permissions, workflow
from papers.models import Assignment, Event, Paper, Review
from papers.workflow import WorkflowError
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved
from tests.workflow_steps import in_review, review_of, writes

pytestmark = pytest.mark.django_db

Stage = Paper.Stage


# --- Email after commit -----------------------------------------------------------------------


class ExplodingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


class TestEmailAfterCommit:
    def test_mail_goes_out_only_after_commit(
        self, draft, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.assign_reviewer(draft, reviewer, by=editor)
            assert mailoutbox == []
        assert [m.to for m in mailoutbox] == [["reviewer@example.org"]]

    def test_a_rolled_back_step_sends_nothing(
        self, draft, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            workflow.assign_reviewer(draft, reviewer, by=editor)
            raise RuntimeError("something later failed")
        assert callbacks == [] and mailoutbox == []
        assert not Assignment.objects.exists() and not Event.objects.exists()

    def test_a_failing_mail_server_does_not_undo_the_step(
        self, draft, editor, reviewer, settings, caplog, django_capture_on_commit_callbacks
    ):
        settings.EMAIL_BACKEND = f"{__name__}.ExplodingBackend"
        with django_capture_on_commit_callbacks(execute=True), writes("assign", "submit"):
            paper = in_review(draft, editor, reviewer)
        assert Paper.objects.get(pk=paper.pk).stage == Stage.IN_REVIEW
        assert Review.objects.filter(paper=paper, reviewer=reviewer).exists()
        # Each email is a task (papers.notifications.send_email); its failure is the task's.
        failures = [r for r in caplog.records if r.name == "django_tasks"]
        failures = [r for r in failures if r.levelno == logging.ERROR]
        assert len(failures) == 2 and all("send_email" in r.getMessage() for r in failures)


# --- The audit log (R26) and denied access (R27) ----------------------------------------------


class TestAuditLog:
    def test_events_keep_the_actor_after_the_user_is_deleted(self, draft, other_editor, reviewer):
        """R26: no database constraint ties an event to its actor."""
        in_review(draft, other_editor, reviewer)
        actor_id = other_editor.pk
        other_editor.delete()
        events = Event.objects.order_by("pk")
        assert [e.action for e in events] == ["assign", "submit"]
        assert {(e.actor_id, e.actor_name) for e in events} == {(actor_id, "other_editor")}
        assert all(e.created_at is not None and e.paper_title == draft.title for e in events)

    def test_events_survive_the_deletion_of_a_draft(self, editor):
        paper = PaperFactory(title="Short-lived")
        ClaimFactory(section=SectionFactory(paper=paper))
        workflow.add_comment(paper.claims.get(), by=editor, body="Delete this?")
        paper_id = paper.pk
        paper.delete()
        event = Event.objects.get()
        assert (event.paper_id, event.paper_title, event.action) == (
            paper_id,
            "Short-lived",
            "comment",
        )


class TestDeniedAccessIsLogged:
    """R27: the permission fetchers log a refusal on the "security" logger."""

    def test_a_review_page_refused_to_an_outsider_is_logged(self, draft, outsider, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(Http404):
            permissions.paper_for_review(outsider, draft.slug)
        (record,) = [r for r in caplog.records if r.name == "security"]
        assert record.getMessage() == (
            "authz.denied user=outsider action=review page target=draft-on-deterrence"
        )

    def test_an_editors_action_refused_to_a_reviewer_is_logged(self, reviewer, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(PermissionDenied):
            permissions.require_editor(reviewer, "publish papers")
        (record,) = [r for r in caplog.records if r.name == "security"]
        assert "user=reviewer action=publish papers" in record.getMessage()

    def test_a_page_that_does_not_exist_is_not_logged_as_denied(self, outsider, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(Http404):
            permissions.paper_for_review(outsider, "no-such-paper")
        assert not [r for r in caplog.records if r.name == "security"]


class TestTightenedRules:
    def test_re_assessing_a_concern_does_not_open_a_second_thread(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review, claim = review_of(paper, reviewer), paper.claims.first()
        workflow.assess_claim(review, claim, by=reviewer, verdict="disputed", note="No.")
        workflow.assess_claim(review, claim, by=reviewer, verdict="needs-source", note="Cite.")
        assert claim.comments.filter(parent=None).count() == 1

    def test_someone_removed_from_the_reviewers_group_loses_access(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        reviewer.groups.clear()
        with pytest.raises(WorkflowError, match="not a reviewer or editor"):
            workflow.add_comment(paper.claims.first(), by=reviewer, body="Still here?")

    def test_an_old_approval_does_not_let_an_author_publish_a_correction(
        self, draft, editor, other_editor
    ):
        draft.authors.add(editor)
        workflow.publish_paper(approved(draft), by=other_editor)
        with pytest.raises(WorkflowError, match="a second editor must publish"):
            workflow.publish_correction(draft, by=editor, note="Quietly changed.")

    def test_a_denied_action_is_logged_for_security(self, draft, outsider, caplog):
        with caplog.at_level("WARNING", logger="security"), pytest.raises(WorkflowError):
            workflow.submit_paper(draft, by=outsider)
        assert "authz.denied user=outsider" in caplog.text
