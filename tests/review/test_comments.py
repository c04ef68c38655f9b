"""Comments and replies on a claim, and resolving a thread, through the workspace's forms."""

import datetime

import pytest

from papers import workflow
from papers.models import Comment
from tests.review.conftest import (
    PAGE,
    another_paper,
    claim_url,
    factual,
    messages_of,
    predictive,
    review_of,
    reword,
)

pytestmark = pytest.mark.django_db


# --- Comments, threads and assessments through the pages ---------------------------------------


class TestComments:
    @pytest.mark.parametrize(
        ("zone", "shown", "machine"),
        [
            ("UTC", "6 Dec 2026, 14:05", "2026-12-06T14:05:09+0000"),
            ("Asia/Kolkata", "6 Dec 2026, 19:35", "2026-12-06T19:35:09+0530"),
        ],
    )
    def test_a_comment_shows_when_it_was_written_in_the_sites_time_zone(
        self, settings, in_review, reviewer, as_reviewer, zone, shown, machine
    ):
        settings.TIME_ZONE = zone
        comment = workflow.add_comment(factual(in_review), by=reviewer, body="Which units?")
        written = datetime.datetime(2026, 12, 6, 14, 5, 9, 123456, tzinfo=datetime.UTC)
        Comment.objects.filter(pk=comment.pk).update(created_at=written)
        page = as_reviewer.get(PAGE).content.decode()
        assert f'<time datetime="{machine}">{shown}</time>' in page

    def test_a_comment_is_written_by_the_viewer_with_the_claims_words(
        self, in_review, reviewer, as_reviewer
    ):
        claim = factual(in_review)
        response = as_reviewer.post(claim_url(claim, "comment"), {"body": "Which units?"})
        assert response.status_code == 302
        assert response["Location"] == f"{PAGE}#claim-note-{claim.public_id}"
        assert messages_of(response) == ["Your comment was added."]
        comment = Comment.objects.get()
        assert (comment.author, comment.claim, comment.body, comment.parent) == (
            reviewer,
            claim,
            "Which units?",
            None,
        )
        assert comment.claim_text == claim.quote

    def test_a_reply_joins_the_thread_and_shows_under_it(self, in_review, editor, as_reviewer):
        claim = factual(in_review)
        root = workflow.add_comment(claim, by=editor, body="Please check the figures.")
        as_reviewer.post(claim_url(claim, "comment"), {"body": "Checked.", "parent": root.pk})
        reply = Comment.objects.get(body="Checked.")
        assert reply.parent == root
        html = as_reviewer.get(PAGE).content.decode()
        assert html.index("Please check the figures.") < html.index("Checked.")

    @pytest.mark.parametrize("body", ["", "   ", "x" * (workflow.MAX_TEXT + 1)])
    def test_an_empty_or_overlong_comment_is_refused_with_a_message(
        self, in_review, as_reviewer, body
    ):
        response = as_reviewer.post(claim_url(factual(in_review), "comment"), {"body": body})
        assert response.status_code == 302
        assert messages_of(response)[0].startswith("Comment:")
        assert not Comment.objects.exists()

    def test_a_reply_to_a_thread_of_another_claim_is_refused_with_a_message(
        self, in_review, editor, as_reviewer
    ):
        root = workflow.add_comment(predictive(in_review), by=editor, body="Elsewhere.")
        url = claim_url(factual(in_review), "comment")
        response = as_reviewer.post(url, {"body": "Hi", "parent": root.pk}, follow=True)
        assert "A reply must answer the first comment of a thread on this claim." in (
            response.content.decode()
        )
        assert Comment.objects.count() == 1

    def test_fields_outside_the_form_are_ignored(
        self, in_review, editor, reviewer, other_reviewer, as_reviewer
    ):
        """R4."""
        paper, other_claim, _ = another_paper(editor, other_reviewer)
        claim = factual(in_review)
        as_reviewer.post(
            claim_url(claim, "comment"),
            {
                "body": "Mine.",
                "author": other_reviewer.pk,
                "author_name": "Someone else",
                "claim": other_claim.pk,
                "paper": paper.pk,
                "round": 7,
                "resolved_at": "2020-01-01T00:00",
            },
        )
        comment = Comment.objects.get(body="Mine.")
        assert (comment.author, comment.author_name, comment.claim) == (reviewer, "reviewer", claim)
        assert (comment.round, comment.resolved_at) == (1, None)

    def test_a_comment_written_about_earlier_words_shows_them(self, in_review, editor, as_reviewer):
        claim = factual(in_review)
        workflow.add_comment(claim, by=editor, body="About the old words.")
        reword(claim, "NATO troops are present in Estonia.")
        html = as_reviewer.get(PAGE).content.decode()
        assert (
            "Written about the earlier wording:</span> “NATO forces are present in Estonia.”"
            in (html)
        )


class TestResolving:
    def test_the_starter_of_a_thread_resolves_it(self, in_review, reviewer, as_reviewer):
        root = workflow.add_comment(factual(in_review), by=reviewer, body="Is this right?")
        response = as_reviewer.post(f"{PAGE}comments/{root.pk}/resolve/")
        assert response["Location"] == f"{PAGE}#claim-note-{factual(in_review).public_id}"
        assert messages_of(response) == ["Thread resolved."]
        root.refresh_from_db()
        assert root.is_resolved and root.resolved_by_name == "reviewer"
        assert "<strong>Resolved</strong> by reviewer" in as_reviewer.get(PAGE).content.decode()

    def test_an_editor_resolves_any_thread(self, in_review, reviewer, as_editor):
        root = workflow.add_comment(factual(in_review), by=reviewer, body="Is this right?")
        as_editor.post(f"{PAGE}comments/{root.pk}/resolve/")
        root.refresh_from_db()
        assert root.is_resolved

    def test_another_reviewer_may_not_resolve_it_and_is_told_why(
        self, in_review, reviewer, other_reviewer, as_other
    ):
        """R4: nobody acts on another reviewer's comment."""
        workflow.submit_review(
            review_of(other_reviewer, in_review), by=other_reviewer, recommendation="approve"
        )
        root = workflow.add_comment(factual(in_review), by=reviewer, body="Is this right?")
        html = as_other.get(PAGE).content.decode()
        assert f"/comments/{root.pk}/resolve/" not in html
        response = as_other.post(f"{PAGE}comments/{root.pk}/resolve/")
        assert messages_of(response) == [
            "Only an editor or the person who started a thread may resolve it."
        ]
        root.refresh_from_db()
        assert not root.is_resolved
