"""Independent assessment without leaks: before a reviewer submits, the workspace shows one total
of the other reviewers' hidden threads for the whole paper, never per claim; replying to,
resolving or reading a thread they may not see answers exactly as for an id that does not exist
(status, body and messages compared byte for byte), and writes nothing."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from papers import workflow
from papers.models import Comment, Event, Review
from tests.factories import ClaimFactory, PaperFactory, ReviewerFactory, SectionFactory, client_for

pytestmark = pytest.mark.django_db

PAGE = "/review/independence/"
MISSING = 987_654  # no comment has this id


@pytest.fixture
def other_reviewer(db):
    return ReviewerFactory(username="other_reviewer", first_name="Otto")


@pytest.fixture
def paper(editor, reviewer, other_reviewer):
    """In round 1 with two reviewers; three claims."""
    paper = PaperFactory(title="Independence", slug="independence")
    section = SectionFactory(
        paper=paper, heading="Only", body="First point here. Second point here. Third point here."
    )
    for quote in ("First point here.", "Second point here.", "Third point here."):
        ClaimFactory(section=section, quote=quote)
    for person in (reviewer, other_reviewer):
        workflow.assign_reviewer(paper, person, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    return paper


def claims(paper):
    return list(paper.claims.order_by("pk"))


def review_of(user, paper):
    return Review.objects.get(paper=paper, reviewer=user, round=paper.round)


@pytest.fixture
def hidden(paper, other_reviewer, editor):
    """Threads the other reviewer opened this round: a disputed verdict's, a plain comment
    with an editor's reply; ids of a first comment and of a reply."""
    first, second, _ = claims(paper)
    review = review_of(other_reviewer, paper)
    workflow.assess_claim(review, first, by=other_reviewer, verdict="disputed", note="HIDDEN-A")
    root = workflow.add_comment(second, by=other_reviewer, body="HIDDEN-B")
    reply = workflow.add_comment(second, by=editor, body="HIDDEN-C", parent=root)
    disputed = Comment.objects.get(body="Disputed: HIDDEN-A")
    return {"root": root, "reply": reply, "disputed": disputed}


@pytest.fixture
def fixed_csrf_mask(monkeypatch):
    """Each page masks the CSRF secret afresh; fixed here so that two answers can be compared
    byte for byte."""
    monkeypatch.setattr("django.middleware.csrf._get_new_csrf_string", lambda: "m" * 32)


def answer(client, method, url, data=None):
    response = getattr(client, method)(url, data or {})
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    return response.status_code, response.content, messages


def same_as_missing(client, method, url_of, hidden_id, data_of=lambda pk: None):
    """The answer for `hidden_id` and for an id that does not exist."""
    client.get(PAGE)  # the CSRF cookie, so that neither answer is the one that sets it
    seen = answer(client, method, url_of(hidden_id), data_of(hidden_id))
    missing = answer(client, method, url_of(MISSING), data_of(MISSING))
    return seen, missing


def database_state():
    return (
        list(Comment.objects.values_list("pk", "parent_id", "resolved_at")),
        Event.objects.count(),
    )


# --- The workspace ----------------------------------------------------------------------------


class TestWorkspace:
    def test_it_shows_one_total_for_the_paper_and_nothing_per_claim(
        self, paper, hidden, as_reviewer
    ):
        page = as_reviewer.get(PAGE).content.decode()
        assert "2 threads opened by other reviewers in this round are hidden" in page
        assert page.count("opened by other reviewers") == 1
        assert "HIDDEN" not in page
        assert "will show once you have submitted" not in page

    def test_the_claims_read_exactly_as_before_the_others_wrote(
        self, paper, other_reviewer, editor, as_reviewer, fixed_csrf_mask
    ):
        as_reviewer.get(PAGE)
        before = as_reviewer.get(PAGE).content.decode()
        first, second, _ = claims(paper)
        review = review_of(other_reviewer, paper)
        workflow.assess_claim(review, first, by=other_reviewer, verdict="disputed", note="No.")
        workflow.add_comment(second, by=other_reviewer, body="Which year?")
        after = as_reviewer.get(PAGE).content.decode()
        notice_start = after.index('<p class="notice review-independence"')
        notice_end = after.index("</p>", notice_start) + len("</p>")
        assert "1 thread opened" not in before
        assert "2 threads opened by other reviewers" in after[notice_start:notice_end]
        without_notice = after[:notice_start] + after[notice_end:]
        assert _without_blank_lines(without_notice) == _without_blank_lines(before)

    def test_once_submitted_the_reviewer_sees_the_threads(
        self, paper, hidden, reviewer, as_reviewer
    ):
        workflow.submit_review(review_of(reviewer, paper), by=reviewer, recommendation="approve")
        page = as_reviewer.get(PAGE).content.decode()
        assert "HIDDEN-A" in page and "HIDDEN-B" in page and "HIDDEN-C" in page
        assert "hidden until you submit" not in page

    def test_editors_see_every_thread(self, paper, hidden, editor):
        page = client_for(editor).get(PAGE).content.decode()
        assert "HIDDEN-B" in page and "hidden until you submit" not in page

    def test_threads_of_earlier_rounds_are_not_hidden(
        self, paper, hidden, editor, reviewer, other_reviewer, as_reviewer
    ):
        workflow.submit_review(
            review_of(other_reviewer, paper), by=other_reviewer, recommendation="revise"
        )
        workflow.request_changes(paper, by=editor, reason="Round 2, please.")
        workflow.submit_paper(paper, by=editor)
        page = as_reviewer.get(PAGE).content.decode()
        assert "HIDDEN-B" in page
        assert "hidden until you submit" not in page


def _without_blank_lines(text):
    return "\n".join(line for line in text.splitlines() if line.strip())


# --- Probing ids ------------------------------------------------------------------------------


def reply_url(paper, claim_index=1):
    return f"{PAGE}claims/{claims(paper)[claim_index].public_id}/comment/"


class TestProbing:
    @pytest.mark.parametrize("which", ["root", "reply", "disputed"])
    def test_replying_to_a_hidden_thread_answers_as_a_missing_one(
        self, paper, hidden, as_reviewer, fixed_csrf_mask, which
    ):
        before = database_state()
        seen, missing = same_as_missing(
            as_reviewer,
            "post",
            lambda pk: reply_url(paper),
            hidden[which].pk,
            lambda pk: {"body": "Probe.", "parent": pk},
        )
        assert seen[0] == 404
        assert seen == missing
        assert database_state() == before

    def test_replying_through_another_claims_url_answers_the_same(
        self, paper, hidden, as_reviewer, fixed_csrf_mask
    ):
        seen, missing = same_as_missing(
            as_reviewer,
            "post",
            lambda pk: reply_url(paper, claim_index=2),
            hidden["root"].pk,
            lambda pk: {"body": "Probe.", "parent": pk},
        )
        assert seen[0] == 404 and seen == missing

    def test_replying_in_place_answers_the_same(self, paper, hidden, as_reviewer, fixed_csrf_mask):
        as_reviewer.get(PAGE)
        answers = [
            as_reviewer.post(
                reply_url(paper),
                {"body": "Probe.", "parent": pk},
                HTTP_ACCEPT="application/json",
            )
            for pk in (hidden["root"].pk, MISSING)
        ]
        assert [r.status_code for r in answers] == [404, 404]
        assert answers[0].content == answers[1].content

    @pytest.mark.parametrize("which", ["root", "reply"])
    def test_resolving_a_hidden_thread_answers_as_a_missing_one(
        self, paper, hidden, as_reviewer, fixed_csrf_mask, which
    ):
        before = database_state()
        seen, missing = same_as_missing(
            as_reviewer, "post", lambda pk: f"{PAGE}comments/{pk}/resolve/", hidden[which].pk
        )
        assert seen[0] == 404 and seen == missing
        assert database_state() == before

    @pytest.mark.parametrize("which", ["root", "reply"])
    def test_reading_a_hidden_thread_answers_as_a_missing_one(
        self, paper, hidden, as_reviewer, fixed_csrf_mask, which
    ):
        seen, missing = same_as_missing(
            as_reviewer, "get", lambda pk: f"{PAGE}comments/{pk}/", hidden[which].pk
        )
        assert seen[0] == 404 and seen == missing
        assert b"HIDDEN" not in seen[1]

    def test_a_visible_threads_address_leads_to_it(self, paper, hidden, editor, as_reviewer):
        mine = workflow.add_comment(claims(paper)[2], by=editor, body="Seen by all.")
        response = as_reviewer.get(f"{PAGE}comments/{mine.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"{PAGE}#comment-{mine.pk}"

    def test_after_submitting_the_same_ids_answer(self, paper, hidden, reviewer, as_reviewer):
        workflow.submit_review(review_of(reviewer, paper), by=reviewer, recommendation="approve")
        root = hidden["root"]
        assert as_reviewer.get(f"{PAGE}comments/{root.pk}/").status_code == 302
        response = as_reviewer.post(reply_url(paper), {"body": "Now I see.", "parent": root.pk})
        assert response.status_code == 302
        assert Comment.objects.filter(parent=root, body="Now I see.").exists()

    def test_editors_reply_to_any_thread(self, paper, hidden, editor):
        response = client_for(editor).post(
            reply_url(paper), {"body": "Editor here.", "parent": hidden["root"].pk}
        )
        assert response.status_code == 302
        assert Comment.objects.filter(parent=hidden["root"], body="Editor here.").exists()


# --- Who may use the new addresses (R3, R8, R9) ----------------------------------------------


def test_outsiders_get_404_and_anonymous_visitors_sign_in(paper, hidden, editor):
    outsider = ReviewerFactory(username="outsider")
    mine = workflow.add_comment(claims(paper)[2], by=editor, body="Seen by all.")
    urls = [("get", f"{PAGE}comments/{mine.pk}/"), ("post", f"{PAGE}confirm/")]
    for method, url in urls:
        assert getattr(client_for(outsider), method)(url).status_code == 404, url
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_confirming_is_post_only_and_needs_a_csrf_token(paper, reviewer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    assert client.post(f"{PAGE}confirm/").status_code == 403
    assert client.get(f"{PAGE}confirm/").status_code == 405
    assert not Event.objects.filter(action=Event.Action.CONFIRM).exists()
