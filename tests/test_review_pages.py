"""The review workspace at /review/: who may see it (R3, R5), what its forms change, independent
assessment, CSRF (R8), POST-only actions (R9) and query counts that do not grow with a paper."""

import datetime
import re

import html5lib
import pytest
from django.contrib.messages import get_messages
from django.test import Client

from papers import workflow
from papers.models import Assessment, Assignment, Claim, Comment, Event, Paper, Review, Version
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    UserFactory,
    approved,
)

pytestmark = pytest.mark.django_db

PAGE = "/review/draft-on-deterrence/"


@pytest.fixture
def other_reviewer(db):
    return ReviewerFactory(username="other_reviewer", first_name="Otto", last_name="Berg")


@pytest.fixture
def outsider(db):
    """A reviewer, but not one of this paper's."""
    return ReviewerFactory(username="outsider")


@pytest.fixture
def in_review(draft, editor, reviewer, other_reviewer):
    """The draft in round 1 of review, with reviewer and other_reviewer assigned."""
    workflow.assign_reviewer(draft, reviewer, by=editor)
    workflow.assign_reviewer(draft, other_reviewer, by=editor)
    workflow.submit_paper(draft, by=editor)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def reviewed(in_review, reviewer):
    """In review with reviewer's review submitted with a verdict on every claim (so it may be
    approved), other_reviewer's open."""
    review = review_of(reviewer, in_review)
    for claim in in_review.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation="approve")
    return in_review


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_reviewer(reviewer):
    return client_for(reviewer)


@pytest.fixture
def as_other(other_reviewer):
    return client_for(other_reviewer)


@pytest.fixture
def as_editor(editor):
    return client_for(editor)


def factual(paper):
    return paper.claims.get(kind="factual")


def predictive(paper):
    return paper.claims.get(kind="predictive")


def claim_url(claim, verb):
    return f"/review/{claim.paper.slug}/claims/{claim.public_id}/{verb}/"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def review_of(user, paper):
    """The user's review of the paper's latest round."""
    return Review.objects.filter(paper=paper, reviewer=user).order_by("-round").first()


def another_paper(editor, reviewer):
    """A second paper in review, with a claim and a comment, that `reviewer` reviews."""
    paper = PaperFactory(slug="another-paper", title="Another paper")
    claim = ClaimFactory(section=SectionFactory(paper=paper))
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    comment = workflow.add_comment(claim, by=reviewer, body="Elsewhere.")
    return paper, claim, comment


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


def database_state():
    return (
        Comment.objects.count(),
        Assessment.objects.count(),
        Event.objects.exclude(paper=None).count(),
        list(Review.objects.values_list("status", flat=True)),
        list(Paper.objects.values_list("stage", flat=True)),
        list(Comment.objects.values_list("resolved_at", flat=True)),
    )


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


def reword(claim, quote):
    """An editor rewords a claim and its section's text together."""
    section = claim.section
    section.body = section.body.replace(claim.quote, quote)
    section.save()
    claim.quote = quote
    claim.save()


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


class TestAssessing:
    def test_a_verdict_is_saved_in_the_viewers_review_and_preselected(
        self, in_review, reviewer, as_reviewer
    ):
        claim = factual(in_review)
        response = as_reviewer.post(
            claim_url(claim, "assess"), {"verdict": "needs-source", "note": "Cite the order."}
        )
        assert response["Location"] == f"{PAGE}#claim-note-{claim.public_id}"
        assert messages_of(response) == ["Your assessment was saved."]
        assessment = Assessment.objects.get()
        assert assessment.review == review_of(reviewer, in_review)
        assert (assessment.verdict, assessment.note) == ("needs-source", "Cite the order.")
        html = as_reviewer.get(PAGE).content.decode()
        assert f'value="needs-source" id="verdict-{claim.public_id}-needs-source" checked' in html
        assert f'value="supported" id="verdict-{claim.public_id}-supported" checked' not in html
        assert ">Cite the order.</textarea>" in html
        assert "1 of 2 claims assessed" in html

    def test_a_second_verdict_replaces_the_first(self, in_review, as_reviewer):
        url = claim_url(factual(in_review), "assess")
        as_reviewer.post(url, {"verdict": "disputed"})
        as_reviewer.post(url, {"verdict": "supported"})
        assert list(Assessment.objects.values_list("verdict", flat=True)) == ["supported"]

    @pytest.mark.parametrize(
        "data", [{}, {"verdict": "probably"}, {"verdict": "supported", "note": "x" * 10_001}]
    )
    def test_a_bad_form_is_refused_with_a_message(self, in_review, as_reviewer, data):
        response = as_reviewer.post(claim_url(factual(in_review), "assess"), data)
        assert response.status_code == 302
        assert messages_of(response)
        assert not Assessment.objects.exists()

    def test_fields_outside_the_form_are_ignored(
        self, in_review, reviewer, other_reviewer, as_reviewer
    ):
        """R4: the review is the viewer's own, whatever the POST says."""
        theirs = review_of(other_reviewer, in_review)
        as_reviewer.post(
            claim_url(factual(in_review), "assess"),
            {
                "verdict": "disputed",
                "review": theirs.pk,
                "reviewer": other_reviewer.pk,
                "claim_hash": "forged",
                "other_verdict": "supported",
            },
        )
        assessment = Assessment.objects.get()
        assert assessment.review == review_of(reviewer, in_review)
        assert assessment.claim_hash == factual(in_review).text_hash
        assert not theirs.assessments.exists()

    def test_assessing_after_the_round_closed_is_a_message_not_an_error(
        self, in_review, editor, as_reviewer
    ):
        workflow.request_changes(in_review, by=editor, reason="Rework the outlook.")
        url = claim_url(factual(in_review), "assess")
        response = as_reviewer.post(url, {"verdict": "supported"}, follow=True)
        assert response.status_code == 200
        assert "This review is closed: it was submitted or its round has ended." in (
            response.content.decode()
        )
        assert not Assessment.objects.exists()
        assert 'class="review-form review-form--assess"' not in response.content.decode()

    def test_an_editor_without_a_review_is_told_so(self, in_review, as_editor):
        response = as_editor.post(claim_url(factual(in_review), "assess"), {"verdict": "supported"})
        assert messages_of(response) == [
            "You have no review of this round in which to assess claims."
        ]
        assert not Assessment.objects.exists()


class TestSubmittingAReview:
    def test_the_page_recaps_the_verdicts_and_asks_for_a_recommendation(
        self, in_review, reviewer, as_reviewer
    ):
        workflow.assess_claim(
            review_of(reviewer, in_review),
            factual(in_review),
            by=reviewer,
            verdict="disputed",
            note="Not in 2014.",
        )
        html = as_reviewer.get(f"{PAGE}submit/").content.decode()
        assert "You have assessed 1 of 2 claims in this round." in html
        assert "<strong>Your verdict:</strong> Disputed" in html
        assert "<strong>Your verdict:</strong> not assessed" in html
        assert "<legend>Recommendation to the editors</legend>" in html

    def test_posting_submits_the_review(self, in_review, reviewer, as_reviewer):
        response = as_reviewer.post(
            f"{PAGE}submit/",
            {"recommendation": "revise", "summary": "Fix the outlook.", "unassessed": "on"},
        )
        assert response["Location"] == PAGE
        review = review_of(reviewer, in_review)
        assert (review.status, review.recommendation, review.summary) == (
            "submitted",
            "revise",
            "Fix the outlook.",
        )
        assert review.submitted_at is not None

    def test_a_missing_recommendation_re_renders_the_form(self, in_review, reviewer, as_reviewer):
        response = as_reviewer.post(f"{PAGE}submit/", {"summary": "Kept."})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert "Kept.</textarea>" in response.content.decode()
        assert review_of(reviewer, in_review).status == "open"

    def test_submitting_twice_is_a_message(self, in_review, reviewer, as_reviewer):
        as_reviewer.post(f"{PAGE}submit/", {"recommendation": "approve", "unassessed": "on"})
        response = as_reviewer.post(
            f"{PAGE}submit/", {"recommendation": "reject", "unassessed": "on"}
        )
        assert messages_of(response)[-1] == (
            "This review is closed: it was submitted or its round has ended."
        )
        assert review_of(reviewer, in_review).recommendation == "approve"

    def test_fields_outside_the_form_are_ignored(
        self, in_review, reviewer, as_reviewer, other_reviewer
    ):
        """R4."""
        as_reviewer.post(
            f"{PAGE}submit/",
            {
                "recommendation": "approve",
                "unassessed": "on",
                "status": "closed",
                "round": 9,
                "reviewer": other_reviewer.pk,
            },
        )
        review = review_of(reviewer, in_review)
        assert (review.status, review.round) == ("submitted", 1)
        assert review_of(other_reviewer, in_review).status == "open"

    def test_an_editor_has_nothing_to_submit(self, in_review, as_editor):
        html = as_editor.get(f"{PAGE}submit/").content.decode()
        assert "there is nothing to submit" in html
        response = as_editor.post(f"{PAGE}submit/", {"recommendation": "approve"})
        assert messages_of(response) == ["You have no review of this round to submit."]


# --- Independent assessment -------------------------------------------------------------------


class TestIndependence:
    @pytest.fixture
    def assessed_by_reviewer(self, in_review, reviewer):
        workflow.assess_claim(
            review_of(reviewer, in_review),
            factual(in_review),
            by=reviewer,
            verdict="disputed",
            note="A-CANARY: no brigade there.",
        )
        return in_review

    def test_a_reviewer_does_not_see_anothers_verdict_before_submitting(
        self, assessed_by_reviewer, as_other
    ):
        html = as_other.get(PAGE).content.decode()
        assert "A-CANARY" not in html  # neither the verdict nor the thread it opened
        assert "Reviewers’ verdicts" not in html
        assert "1 thread opened by other reviewers in this round is hidden" in html

    def test_after_submitting_they_see_it(self, assessed_by_reviewer, other_reviewer, as_other):
        as_other.post(claim_url(factual(assessed_by_reviewer), "assess"), {"verdict": "supported"})
        as_other.post(f"{PAGE}submit/", {"recommendation": "approve", "unassessed": "on"})
        html = as_other.get(PAGE).content.decode()
        assert "A-CANARY: no brigade there." in html
        assert '<span class="verdict verdict--disputed">Disputed</span>' in html
        assert "review not submitted yet" in html
        assert "<strong>Reviewers disagree</strong>" in html

    def test_editors_see_every_verdict_and_the_disagreement(
        self, assessed_by_reviewer, other_reviewer, as_editor
    ):
        workflow.assess_claim(
            review_of(other_reviewer, assessed_by_reviewer),
            factual(assessed_by_reviewer),
            by=other_reviewer,
            verdict="supported",
            note="B-CANARY",
        )
        html = as_editor.get(PAGE).content.decode()
        assert "A-CANARY" in html and "B-CANARY" in html
        assert "<strong>Reviewers disagree</strong>" in html
        assert "Otto Berg" in html

    def test_no_disagreement_flag_when_reviewers_agree(
        self, in_review, reviewer, other_reviewer, as_editor
    ):
        for person in (reviewer, other_reviewer):
            workflow.assess_claim(
                review_of(person, in_review), factual(in_review), by=person, verdict="supported"
            )
        assert "Reviewers disagree" not in as_editor.get(PAGE).content.decode()

    def test_a_reworded_claim_needs_a_re_check(self, assessed_by_reviewer, as_editor, as_reviewer):
        reword(factual(assessed_by_reviewer), "NATO troops are present in Estonia.")
        editor_html = as_editor.get(PAGE).content.decode()
        assert "Re-check needed:</strong> this verdict was given on the earlier wording" in (
            editor_html
        )
        assert "“NATO forces are present in Estonia.”" in editor_html
        reviewer_html = as_reviewer.get(PAGE).content.decode()
        assert "Re-check needed:</strong> you assessed the earlier wording" in reviewer_html

    def test_editors_comments_are_visible_to_every_reviewer(self, in_review, editor, as_other):
        workflow.add_comment(factual(in_review), by=editor, body="EDITOR-CANARY")
        assert "EDITOR-CANARY" in as_other.get(PAGE).content.decode()


class TestOrphans:
    def test_orphaned_claims_are_listed_with_their_old_words(self, in_review, as_reviewer):
        orphan, placed = factual(in_review), predictive(in_review)
        section = orphan.section
        section.body = "The paragraph was rewritten entirely."
        section.save()
        html = as_reviewer.get(PAGE).content.decode()
        assert "Orphaned claims" in html
        assert "Old wording:</span> “NATO forces are present in Estonia.”" in html
        assert f'<mark id="claim-{orphan.public_id}"' not in html
        assert f'<mark id="claim-{placed.public_id}"' in html
        assert "Claim 1" in html and "Claim 2" not in html


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


# --- Markup: accessible forms, no inline script or style -------------------------------------


def parsed(response):
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=False)


@pytest.mark.parametrize("persona", ["reviewer", "editor", "superuser"])
def test_every_field_has_a_label_and_radio_groups_have_a_legend(
    in_review, persona, request, reviewer
):
    workflow.add_comment(factual(in_review), by=reviewer, body="A thread.")
    client = client_for(request.getfixturevalue(persona))
    for url in (PAGE, f"{PAGE}submit/"):
        document = parsed(client.get(url))
        labelled = {label.get("for") for label in document.iter("label")}
        fields = [
            field
            for tag in ("input", "textarea", "select")
            for field in document.iter(tag)
            if field.get("type") not in {"hidden", "submit"}
        ]
        for field in fields:
            assert field.get("id") in labelled, (url, field.attrib)
        for fieldset in document.iter("fieldset"):
            assert fieldset.find("legend") is not None
        radios = [f for f in fields if f.get("type") == "radio"]
        in_fieldsets = [r for fs in document.iter("fieldset") for r in fs.iter("input")]
        assert all(radio in in_fieldsets for radio in radios)
        ids = [element.get("id") for element in document.iter() if element.get("id")]
        assert len(ids) == len(set(ids)), url


def test_headings_do_not_skip_levels(in_review, reviewer, as_editor):
    workflow.add_comment(factual(in_review), by=reviewer, body="A thread.")
    document = parsed(as_editor.get(PAGE))
    main = document.find(".//main")
    levels = [int(el.tag[1]) for el in main.iter() if el.tag in {"h1", "h2", "h3", "h4"}]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


def test_the_page_loads_its_own_script_and_style_and_nothing_inline(in_review, as_reviewer):
    html = as_reviewer.get(PAGE).content.decode()
    assert '<script src="/static/js/review.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/css/review.css">' in html
    assert html.count("<script") == 1
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html


# --- Query counts -----------------------------------------------------------------------------


def paper_with(editor, reviewers, *, claims, comments, slug):
    """A paper in review with `claims` claims (three a section) and `comments` comments: threads
    opened by each reviewer and the editor, with replies, and verdicts from the first reviewer."""
    paper = PaperFactory(slug=slug)
    for s in range(claims // 3):
        body = " ".join(f"Point {s}-{i} is made." for i in range(3))
        section = SectionFactory(paper=paper, position=s, heading=f"Part {s}", body=body)
        for i in range(3):
            ClaimFactory(section=section, quote=f"Point {s}-{i} is made.")
    for person in reviewers:
        workflow.assign_reviewer(paper, person, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    all_claims = list(paper.claims.all())
    first = reviewers[0]
    for n, claim in enumerate(all_claims):
        verdict = ["supported", "disputed", "needs-source"][n % 3]
        workflow.assess_claim(review_of(first, paper), claim, by=first, verdict=verdict)
    people = [editor, *reviewers]
    roots = {}
    for n in range(comments):
        claim = all_claims[n % len(all_claims)]
        author = people[n % len(people)]
        parent = roots.get(claim.pk) if n % 2 else None
        comment = workflow.add_comment(claim, by=author, body=f"Comment {n}", parent=parent)
        roots.setdefault(claim.pk, comment)
    return paper


@pytest.mark.parametrize("persona", ["reviewer", "other_reviewer", "editor"])
def test_paper_page_queries_are_the_same_for_3_and_90_claims_on_every_part(
    persona, request, editor, reviewer, other_reviewer, django_assert_num_queries
):
    reviewers = [reviewer, other_reviewer]
    paper_with(editor, reviewers, claims=3, comments=5, slug="small")
    paper_with(editor, reviewers, claims=90, comments=450, slug="large")
    client = client_for(request.getfixturevalue(persona))
    # An editor's page also asks which workflow actions are theirs (papers/actions.py): their
    # role and the publish permission. Similar published claims cost the public revision and,
    # the first time a part is shown, one query for all its claims; then none (the cache).
    queries = {"reviewer": 18, "other_reviewer": 18, "editor": 23}[persona]
    with django_assert_num_queries(queries):
        assert client.get("/review/small/").status_code == 200
    for part, first, last in [(1, 1, 30), (2, 31, 60), (3, 61, 90)]:
        with django_assert_num_queries(queries):
            response = client.get(f"/review/large/?part={part}")
        headings = re.findall(r"Claim (\d+)\s*<span class=\"claim-kind", response.text)
        assert [int(n) for n in headings] == list(range(first, last + 1))
        with django_assert_num_queries(queries - 1):
            again = client.get(f"/review/large/?part={part}")
        assert re.findall(r"Claim (\d+)\s*<span class=\"claim-kind", again.text) == headings


# --- A long paper in parts --------------------------------------------------------------------


class TestParts:
    """A long paper's workspace comes in parts of whole sections (about 30 claims each)."""

    @pytest.fixture
    def long_paper(self, editor, reviewer, other_reviewer):
        return paper_with(editor, [reviewer, other_reviewer], claims=66, comments=0, slug="long")

    def test_a_short_paper_is_one_page_without_parts(self, as_reviewer, in_review):
        page = as_reviewer.get(f"/review/{in_review.slug}/").content.decode()
        assert "review-parts" not in page

    def test_every_part_lists_the_parts_with_their_sections_and_claims(
        self, as_reviewer, long_paper
    ):
        page = as_reviewer.get("/review/long/?part=2").content.decode()
        assert "This paper in 3 parts" in page
        assert '<a href="?part=1">Part 1: Part 0 to Part 9</a>' in page
        assert '<strong aria-current="page">Part 2: Part 10 to Part 19</strong>' in page
        assert "(claims 31–60)" in page
        assert '<a href="?part=3">Part 3: Part 20 to Part 21</a>' in page
        assert 'rel="prev"' in page and 'rel="next"' in page
        assert "Point 10-0 is made." in page and "Point 9-2 is made." not in page

    @pytest.mark.parametrize(("asked", "shown"), [("0", 1), ("abc", 1), ("99", 3), ("3", 3)])
    def test_a_part_out_of_range_shows_the_nearest(self, as_reviewer, long_paper, asked, shown):
        page = as_reviewer.get(f"/review/long/?part={asked}").content.decode()
        assert f'<strong aria-current="page">Part {shown}:' in page

    def test_an_action_returns_to_the_part_that_shows_the_claim(self, as_reviewer, long_paper):
        claim = long_paper.claims.get(quote="Point 12-1 is made.")
        response = as_reviewer.post(
            f"/review/long/claims/{claim.public_id}/comment/", {"body": "Which year?"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/review/long/?part=2#claim-note-{claim.public_id}"
        assert as_reviewer.get("/review/long/").content.decode().count("Which year?") == 0
        assert "Which year?" in as_reviewer.get("/review/long/?part=2").content.decode()

    def test_orphaned_claims_are_on_the_last_part_and_announced_on_the_others(
        self, as_reviewer, long_paper
    ):
        section = long_paper.sections.get(heading="Part 0")
        section.body = "Everything was rewritten."
        section.save()
        Claim.objects.filter(section=section).update(orphaned=True)
        first = as_reviewer.get("/review/long/").content.decode()
        assert '3 orphaned claims are listed at the end of <a href="?part=3' in first
        last = as_reviewer.get("/review/long/?part=3").content.decode()
        assert 'id="review-orphans-title"' in last
        assert last.count("review-claim--orphan") == 3
        assert as_reviewer.get("/review/long/?part=3").status_code == 200

    def test_the_submission_page_links_each_claim_to_its_part_in_constant_queries(
        self, editor, reviewer, other_reviewer, django_assert_num_queries
    ):
        reviewers = [reviewer, other_reviewer]
        paper_with(editor, reviewers, claims=3, comments=0, slug="short")
        long_paper = paper_with(editor, reviewers, claims=66, comments=0, slug="long")
        client = client_for(reviewer)
        with django_assert_num_queries(9):
            client.get("/review/short/submit/")
        with django_assert_num_queries(9):
            page = client.get("/review/long/submit/").content.decode()
        claim = long_paper.claims.get(quote="Point 12-1 is made.")
        assert f'href="/review/long/?part=2#claim-note-{claim.public_id}"' in page
        first = long_paper.claims.get(quote="Point 0-0 is made.")
        assert f'href="/review/long/#claim-note-{first.public_id}"' in page
