"""Who may reach the review workspace and its actions: assigned reviewers and editors only
(R3), access ending with the assignment or the role (R5), ids of another paper refused, a
token needed on every form (R8) and a POST on every action (R9), with nothing written when
refused."""

import pytest
from django.test import Client

from papers import workflow
from papers.models import Comment
from tests.factories import client_for
from tests.review.conftest import (
    PAGE,
    another_paper,
    claim_url,
    database_state,
    factual,
)

pytestmark = pytest.mark.django_db


# --- Who may see a paper's workspace ----------------------------------------------------------


def review_urls(paper):
    claim = paper.claims.first()
    comment = Comment.objects.filter(claim__paper=paper).first()
    return [
        ("get", f"/review/{paper.slug}/", {}),
        ("get", f"/review/{paper.slug}/submit/", {}),
        ("post", f"/review/{paper.slug}/submit/", {"recommendation": "approve"}),
        ("post", claim_url(claim, "comment"), {"body": "Let me in."}),
        ("post", claim_url(claim, "assess"), {"verdict": "disputed"}),
        ("post", f"/review/{paper.slug}/comments/{comment.pk}/resolve/", {}),
        ("post", f"/review/{paper.slug}/workflow/request-changes/", {"reason": "Because."}),
    ]


class TestAccess:
    def test_assigned_reviewers_and_editors_see_the_working_draft(
        self, in_review, as_reviewer, as_editor
    ):
        for client in (as_reviewer, as_editor):
            response = client.get(PAGE)
            assert response.status_code == 200
            html = response.content.decode()
            assert "<h1>Draft on deterrence</h1>" in html
            assert 'class="claim claim--factual"' in html
            assert "Claim 1" in html and "Claim 2" in html

    def test_the_page_shows_the_working_draft_not_the_published_version(
        self, published, editor, reviewer, as_reviewer
    ):
        workflow.assign_reviewer(published, reviewer, by=editor)
        section = published.sections.first()
        section.body += " A DRAFT-ONLY sentence."
        section.save()
        assert "DRAFT-ONLY" in as_reviewer.get(PAGE).content.decode()

    @pytest.mark.parametrize("paper_fixture", ["in_review", "published"])
    def test_an_unassigned_reviewer_gets_404_everywhere_and_writes_nothing(
        self, paper_fixture, request, editor, outsider
    ):
        """R3: even for a published paper, the review workspace is not theirs."""
        paper = request.getfixturevalue(paper_fixture)
        workflow.add_comment(paper.claims.first(), by=editor, body="A thread.")
        before = database_state()
        client = client_for(outsider)
        for method, url, data in review_urls(paper):
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, url
            assert b"Draft on deterrence" not in response.content
        assert database_state() == before

    def test_anonymous_visitors_are_sent_to_sign_in_and_write_nothing(self, in_review, editor):
        workflow.add_comment(in_review.claims.first(), by=editor, body="A thread.")
        before = database_state()
        for method, url, data in review_urls(in_review):
            response = getattr(Client(), method)(url, data)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next=")
        assert database_state() == before

    def test_an_unknown_paper_is_404(self, as_editor):
        assert as_editor.get("/review/no-such-paper/").status_code == 404

    def test_unassigning_removes_access_on_the_next_request(
        self, in_review, editor, reviewer, as_reviewer
    ):
        """R5."""
        assert as_reviewer.get(PAGE).status_code == 200
        workflow.unassign_reviewer(in_review, reviewer, by=editor)
        assert as_reviewer.get(PAGE).status_code == 404
        response = as_reviewer.post(claim_url(factual(in_review), "comment"), {"body": "Hi"})
        assert response.status_code == 404
        assert not Comment.objects.exists()

    def test_leaving_the_reviewers_group_removes_access(self, in_review, reviewer, as_reviewer):
        """R5."""
        reviewer.groups.clear()
        assert as_reviewer.get(PAGE).status_code == 404

    def test_deactivation_makes_the_session_anonymous(self, in_review, reviewer, as_reviewer):
        """R5."""
        reviewer.is_active = False
        reviewer.save()
        response = as_reviewer.get(PAGE)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_a_failed_attempt_is_logged(self, in_review, outsider, caplog):
        """R27."""
        with caplog.at_level("WARNING", logger="security"):
            client_for(outsider).get(PAGE)
        assert "authz.denied user=outsider" in caplog.text


class TestIdsOfAnotherPaper:
    """R3: claims and comments are looked up within the paper of the URL."""

    @pytest.fixture
    def elsewhere(self, in_review, editor, reviewer, other_reviewer):
        return another_paper(editor, other_reviewer)

    def test_commenting_on_another_papers_claim_through_this_url_is_404(
        self, in_review, elsewhere, as_reviewer
    ):
        _, claim, _ = elsewhere
        before = database_state()
        url = f"{PAGE}claims/{claim.public_id}/comment/"
        assert as_reviewer.post(url, {"body": "Sneaky."}).status_code == 404
        assert as_reviewer.post(claim_url(claim, "comment"), {"body": "Sneaky."}).status_code == 404
        assert database_state() == before

    def test_assessing_another_papers_claim_is_404(self, in_review, elsewhere, as_reviewer):
        _, claim, _ = elsewhere
        before = database_state()
        url = f"{PAGE}claims/{claim.public_id}/assess/"
        assert as_reviewer.post(url, {"verdict": "disputed"}).status_code == 404
        assert database_state() == before

    def test_replying_to_a_comment_of_another_paper_is_404(self, in_review, elsewhere, as_reviewer):
        _, _, comment = elsewhere
        before = database_state()
        url = claim_url(factual(in_review), "comment")
        response = as_reviewer.post(url, {"body": "Sneaky.", "parent": comment.pk})
        assert response.status_code == 404
        assert database_state() == before

    def test_resolving_a_comment_of_another_paper_is_404(
        self, in_review, elsewhere, as_editor, as_reviewer
    ):
        _, _, comment = elsewhere
        before = database_state()
        for client in (as_reviewer, as_editor):
            response = client.post(f"{PAGE}comments/{comment.pk}/resolve/")
            assert response.status_code == 404
        assert database_state() == before


# --- CSRF (R8) and POST-only actions (R9) ------------------------------------------------------


def action_urls(paper):
    claim = factual(paper)
    comment = Comment.objects.filter(claim=claim).first()
    return [
        (claim_url(claim, "comment"), {"body": "Hello."}),
        (claim_url(claim, "assess"), {"verdict": "supported"}),
        (f"{PAGE}comments/{comment.pk}/resolve/", {}),
        (f"{PAGE}submit/", {"recommendation": "approve"}),
        *(
            (f"{PAGE}workflow/{action}/", {"reason": "R", "note": "N"})
            for action in (
                "submit",
                "request-changes",
                "approve",
                "publish",
                "correct",
                "withdraw",
                "assign",
                "unassign",
            )
        ),
    ]


def test_every_form_needs_a_csrf_token(in_review, reviewer, editor):
    """R8: the enforcing client, signed in, without a token."""
    workflow.add_comment(factual(in_review), by=reviewer, body="Mine.")
    before = database_state()
    for user in (reviewer, editor):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        for url, data in action_urls(in_review):
            assert client.post(url, data).status_code == 403, url
    assert database_state() == before


def test_a_get_on_an_action_url_is_405_and_changes_nothing(in_review, reviewer, as_editor):
    """R9 (the submission URL answers GET with its form instead)."""
    workflow.add_comment(factual(in_review), by=reviewer, body="Mine.")
    before = database_state()
    for url, data in action_urls(in_review):
        expected = 200 if url == f"{PAGE}submit/" else 405
        assert as_editor.get(url, data).status_code == expected, url
    assert database_state() == before
