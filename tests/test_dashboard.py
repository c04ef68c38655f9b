"""The reviewers' dashboard at /review/: what is to do, what is done and what became of each
round, only one's own assignments, the editors' list of papers in review, and query counts
that do not grow with the assignments."""

import re

import pytest
from django.test import Client

from papers import workflow
from papers.models import Assessment, Review
from tests.factories import ClaimFactory, PaperFactory, SectionFactory

pytestmark = pytest.mark.django_db

OVERRIDE = "Checked by the desk."


def paper_with_claims(slug, claims=2, title=None):
    paper = PaperFactory(slug=slug, title=title or f"Paper {slug}")
    section = SectionFactory(paper=paper, body=" ".join(f"Claim {n} holds." for n in range(claims)))
    for n in range(claims):
        ClaimFactory(section=section, quote=f"Claim {n} holds.")
    return paper


def review_of(user, paper):
    return Review.objects.filter(paper=paper, reviewer=user).order_by("-round").first()


def start_round(paper, editor, *reviewers, due_date=None):
    for reviewer in reviewers:
        if not paper.assignments.filter(reviewer=reviewer).exists():
            workflow.assign_reviewer(paper, reviewer, by=editor, due_date=due_date)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    return paper


def finish_review(paper, reviewer, recommendation="approve"):
    review = review_of(reviewer, paper)
    for claim in paper.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation=recommendation)


def sections(html):
    """The dashboard's "To do" and "Done" sections, as text."""
    to_do = html.split('id="to-do-title"', 1)[1].split('id="done-title"', 1)[0]
    done = html.split('id="done-title"', 1)[1]
    return to_do, done


def rows(html, kind):
    return re.findall(rf'<tr class="{kind}">(.*?)</tr>', html, re.S)


class TestToDo:
    def test_anonymous_visitors_are_sent_to_sign_in(self):
        response = Client().get("/review/")
        assert (response.status_code, response["Location"]) == (
            302,
            "/accounts/login/?next=/review/",
        )

    def test_a_review_in_progress_shows_round_due_date_and_progress(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer, due_date="2031-05-04")
        claim = paper.claims.first()
        workflow.assess_claim(review_of(reviewer, paper), claim, by=reviewer, verdict="disputed")
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        [row] = rows(to_do, "assignment")
        assert 'href="/review/p/"' in row
        assert "4 May 2031" in row
        assert "1 of 2 claims assessed" in row
        assert "No finished reviews yet." in done

    def test_an_assignment_to_a_paper_not_yet_submitted_waits_for_its_round(
        self, editor, reviewer, as_reviewer
    ):
        workflow.assign_reviewer(paper_with_claims("p"), reviewer, by=editor)
        to_do, _ = sections(as_reviewer.get("/review/").content.decode())
        [row] = rows(to_do, "assignment")
        assert "not yet" in row
        assert "Waiting for the paper to be submitted for review (draft now)" in row

    def test_verdicts_carried_from_the_last_round_are_counted_to_confirm(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p", claims=3), editor, reviewer)
        review = review_of(reviewer, paper)
        for claim in paper.claims.all()[:2]:
            Assessment.objects.create(
                review=review,
                claim=claim,
                verdict="supported",
                claim_text=claim.quote,
                claim_hash=claim.text_hash,
                carried_from=1,
            )
        to_do, _ = sections(as_reviewer.get("/review/").content.decode())
        assert "0 of 3 claims assessed; 2 verdicts from your last round to confirm" in to_do

    def test_nothing_to_do_says_so(self, reviewer, as_reviewer):
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Nothing to review at the moment." in to_do
        assert "No finished reviews yet." in done


class TestDone:
    def test_a_submitted_review_moves_to_done_awaiting_the_decision(
        self, editor, reviewer, other_reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer, other_reviewer)
        finish_review(paper, reviewer, recommendation="revise")
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        assert rows(to_do, "assignment") == []
        [row] = rows(done, "done-review")
        assert "Submitted" in row and "recommending “revise”" in row
        assert "Awaiting the editors’ decision" in row

    def test_changes_requested_ends_the_round_and_the_next_round_is_to_do(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer, recommendation="revise")
        workflow.request_changes(paper, by=editor, reason="Fix the dates.")
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Changes requested" in rows(done, "done-review")[0]

        start_round(paper, editor)
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        [doing] = rows(to_do, "assignment")
        assert "<td>2</td>" in doing
        [finished] = rows(done, "done-review")
        assert "<td>1</td>" in finished and "Changes requested" in finished

    def test_an_approved_then_published_round_links_its_version(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer)
        workflow.approve_paper(paper, by=editor)
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Approved" in rows(done, "done-review")[0]

        workflow.publish_paper(paper, by=editor)
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        assert rows(to_do, "assignment") == []  # a published paper waits for nothing
        assert '<a href="/papers/p/v1/">Published as version 1</a>' in rows(done, "done-review")[0]

    def test_a_withdrawal_after_publication_is_the_rounds_outcome(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer)
        workflow.approve_paper(paper, by=editor)
        workflow.publish_paper(paper, by=editor)
        workflow.withdraw_paper(paper, by=editor, reason="Superseded.")
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Withdrawn" in rows(done, "done-review")[0]

    def test_a_later_correction_leaves_the_round_published_as_it_was(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer)
        workflow.approve_paper(paper, by=editor)
        workflow.publish_paper(paper, by=editor)
        workflow.publish_correction(paper, by=editor, note="A typo.")
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Published as version 1" in rows(done, "done-review")[0]

    def test_a_round_published_before_any_review_is_no_outcome_of_a_later_one(
        self, editor, reviewer, as_reviewer
    ):
        paper = paper_with_claims("p")
        workflow.publish_paper(paper, by=None, note="Back catalogue.")
        start_round(paper, editor, reviewer)
        finish_review(paper, reviewer)
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Awaiting the editors’ decision" in rows(done, "done-review")[0]

    def test_a_review_the_round_ended_without_is_done_unsubmitted(
        self, editor, reviewer, other_reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer, other_reviewer)
        finish_review(paper, other_reviewer, recommendation="revise")
        workflow.request_changes(paper, by=editor, reason="Fix the dates.")
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        assert rows(to_do, "assignment") == []
        [row] = rows(done, "done-review")
        assert "Not submitted before the round ended" in row and "Changes requested" in row

    def test_an_open_review_of_a_paper_approved_meanwhile_is_done(
        self, editor, reviewer, other_reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer, other_reviewer)
        finish_review(paper, other_reviewer)
        workflow.approve_paper(paper, by=editor)
        to_do, done = sections(as_reviewer.get("/review/").content.decode())
        assert rows(to_do, "assignment") == []
        [row] = rows(done, "done-review")
        assert "Not submitted before the round ended" in row and "Approved" in row

    def test_an_edit_after_approval_puts_the_round_back_to_awaiting(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer)
        workflow.approve_paper(paper, by=editor)
        assert (
            "Approved"
            in rows(sections(as_reviewer.get("/review/").content.decode())[1], "done-review")[0]
        )
        paper.title = "A new title"
        paper.save()
        workflow.record_edit(paper, by=editor, what="title")
        _, done = sections(as_reviewer.get("/review/").content.decode())
        assert "Awaiting the editors’ decision" in rows(done, "done-review")[0]


class TestWhoSeesWhat:
    def test_it_lists_only_ones_own_reviews(self, editor, reviewer, other_reviewer, as_reviewer):
        start_round(paper_with_claims("mine", title="Mine"), editor, reviewer)
        theirs = start_round(paper_with_claims("theirs", title="Theirs"), editor, other_reviewer)
        finish_review(theirs, other_reviewer)
        html = as_reviewer.get("/review/").content.decode()
        assert "Mine" in html and "Theirs" not in html

    def test_an_unassigned_reviewer_no_longer_sees_the_paper_or_their_reviews(
        self, editor, reviewer, as_reviewer
    ):
        paper = start_round(paper_with_claims("p", title="Gone"), editor, reviewer)
        finish_review(paper, reviewer)
        workflow.unassign_reviewer(paper, reviewer, by=editor)
        assert "Gone" not in as_reviewer.get("/review/").content.decode()

    def test_editors_see_every_paper_with_reviewers_and_its_progress(
        self, editor, reviewer, as_editor
    ):
        paper = start_round(paper_with_claims("p", title="Under review"), editor, reviewer)
        workflow.assess_claim(
            review_of(reviewer, paper), paper.claims.first(), by=reviewer, verdict="disputed"
        )
        PaperFactory(title="A draft nobody reviews")
        html = as_editor.get("/review/").content.decode()
        assert "Under review" in html and "A draft nobody reviews" not in html
        assert "0 of 1" in html  # reviews submitted of assigned
        assert 'id="to-do-title"' not in html  # an editor with no assignments has no lists

    def test_reviewers_do_not_see_the_editors_list(self, editor, reviewer, as_reviewer):
        start_round(paper_with_claims("p"), editor, reviewer)
        assert "Papers in review" not in as_reviewer.get("/review/").content.decode()


class TestQueries:
    @staticmethod
    def add_papers(editor, reviewer, start, count):
        """Papers in each state a reviewer meets: waiting, to do, done and decided on."""
        for n in range(start, start + count):
            paper = paper_with_claims(f"p-{n}")
            state = n % 4
            if state == 0:
                workflow.assign_reviewer(paper, reviewer, by=editor)
                continue
            start_round(paper, editor, reviewer)
            if state >= 2:
                finish_review(paper, reviewer)
            if state == 3:
                workflow.approve_paper(paper, by=editor)
                workflow.publish_paper(paper, by=editor)

    def test_reviewer_queries_do_not_grow_with_assignments(
        self, editor, reviewer, as_reviewer, django_assert_num_queries
    ):
        self.add_papers(editor, reviewer, 0, 4)
        with django_assert_num_queries(6):  # session, user, to do, waiting, done, outcomes
            as_reviewer.get("/review/")
        self.add_papers(editor, reviewer, 4, 16)
        with django_assert_num_queries(6):
            response = as_reviewer.get("/review/")
        to_do, done = sections(response.content.decode())
        assert len(rows(to_do, "assignment")) == 10
        assert len(rows(done, "done-review")) == 10
        assert done.count("Published as version 1") == 5

    def test_one_assignment_costs_the_same_as_twenty(
        self, editor, reviewer, as_reviewer, django_assert_num_queries
    ):
        paper = start_round(paper_with_claims("p"), editor, reviewer)
        finish_review(paper, reviewer)
        with django_assert_num_queries(6):
            as_reviewer.get("/review/")
        for n in range(19):
            paper = start_round(paper_with_claims(f"q-{n}"), editor, reviewer)
            finish_review(paper, reviewer)
        with django_assert_num_queries(6):
            response = as_reviewer.get("/review/")
        assert len(rows(sections(response.content.decode())[1], "done-review")) == 20

    def test_editor_queries_do_not_grow_with_papers(
        self, editor, reviewer, as_editor, django_assert_num_queries
    ):
        def add_paper(n):
            paper = start_round(paper_with_claims(f"p-{n}", claims=1), editor, reviewer)
            workflow.assess_claim(
                review_of(reviewer, paper), paper.claims.get(), by=reviewer, verdict="disputed"
            )

        add_paper(0)
        # session, user, groups, papers in review, to do, waiting, done (no outcomes to read)
        with django_assert_num_queries(7):
            as_editor.get("/review/")
        for n in range(1, 6):
            add_paper(n)
        with django_assert_num_queries(7):
            response = as_editor.get("/review/")
        assert response.content.count(b'class="paper-row"') == 6
