"""Saving without reloading: review.js posts the workspace's forms to the same URLs asking for
JSON and gets the claim's panel and the reviewer's progress as they are now. The same checks
apply as without JavaScript (CSRF, refusals, nothing written on bad input), and no message is
left behind for the next page."""

import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from papers import workflow
from papers.models import Assessment, Comment, Review
from tests.factories import ClaimFactory, PaperFactory, SectionFactory

pytestmark = pytest.mark.django_db

PAGE = "/review/in-place/"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def paper(editor, reviewer):
    paper = PaperFactory(title="In place", slug="in-place")
    section = SectionFactory(paper=paper, heading="Only", body="First point. Second point.")
    ClaimFactory(section=section, quote="First point.")
    ClaimFactory(section=section, quote="Second point.")
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    return paper


@pytest.fixture
def first(paper):
    return paper.claims.get(quote="First point.")


def url(claim, verb):
    return f"{PAGE}claims/{claim.public_id}/{verb}/"


def in_place(client, path, data):
    response = client.post(path, data, **JSON)
    assert response["Content-Type"] == "application/json"
    return response, json.loads(response.content)


def test_a_verdict_answers_with_the_panel_and_the_progress(as_reviewer, first, reviewer):
    response, data = in_place(
        as_reviewer, url(first, "assess"), {"verdict": "disputed", "note": "Not so."}
    )
    assert response.status_code == 200
    assert data["ok"] is True and data["message"] == "Your assessment was saved."
    assert data["claim"] == first.public_id
    assert data["panel"].startswith('<article class="review-claim review-claim--factual"')
    assert f'id="claim-note-{first.public_id}"' in data["panel"]
    assert "<strong>Your verdict:</strong> Disputed" in data["panel"]
    assert "Disputed: Not so." in data["panel"]  # the thread the concern opened
    assert set(data["regions"]) == {"review-own"}
    assert "In progress:</strong> 1 of 2 claims assessed." in data["regions"]["review-own"]
    assert Assessment.objects.get().review.reviewer == reviewer


def test_no_message_is_left_for_the_next_page(as_reviewer, first):
    response, _ = in_place(as_reviewer, url(first, "assess"), {"verdict": "supported"})
    assert not list(get_messages(response.wsgi_request))
    assert "Your assessment was saved." not in as_reviewer.get(PAGE).content.decode()


def test_a_comment_and_a_reply_answer_with_the_thread(as_reviewer, first, editor):
    _, data = in_place(as_reviewer, url(first, "comment"), {"body": "Which year?"})
    assert data["message"] == "Your comment was added."
    root = Comment.objects.get()
    assert f'id="thread-{root.pk}"' in data["panel"] and "Which year?" in data["panel"]
    _, data = in_place(as_reviewer, url(first, "comment"), {"body": "2004.", "parent": root.pk})
    assert data["message"] == "Your reply was added."
    assert data["panel"].index("Which year?") < data["panel"].index("2004.")
    assert Comment.objects.get(body="2004.").parent == root


def test_resolving_answers_with_the_resolved_thread(as_reviewer, first, reviewer):
    root = workflow.add_comment(first, by=reviewer, body="Mine.")
    _, data = in_place(as_reviewer, f"{PAGE}comments/{root.pk}/resolve/", {})
    assert data["message"] == "Thread resolved."
    assert "<strong>Resolved</strong> by reviewer" in data["panel"]


@pytest.mark.parametrize(
    ("verb", "data", "message"),
    [
        ("comment", {"body": "  "}, "Comment: This field is required."),
        ("assess", {"verdict": "probably"}, "Verdict: Select a valid choice."),
    ],
)
def test_bad_input_is_refused_in_json_and_writes_nothing(as_reviewer, first, verb, data, message):
    response, answer = in_place(as_reviewer, url(first, verb), data)
    assert response.status_code == 400
    assert answer["ok"] is False and answer["message"].startswith(message)
    assert f'id="claim-note-{first.public_id}"' in answer["panel"]
    assert not Comment.objects.exists() and not Assessment.objects.exists()


def test_a_refusal_of_the_workflow_comes_back_with_the_panel_as_it_is_now(
    as_reviewer, first, paper, editor
):
    workflow.request_changes(paper, by=editor, reason="Closed.")
    response, data = in_place(as_reviewer, url(first, "assess"), {"verdict": "supported"})
    assert response.status_code == 400
    assert data["message"] == "This review is closed: it was submitted or its round has ended."
    assert "review-form--assess" not in data["panel"]  # no form to assess with any more
    assert not Assessment.objects.exists()


def test_without_json_the_forms_still_redirect(as_reviewer, first):
    response = as_reviewer.post(url(first, "assess"), {"verdict": "supported"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#claim-note-{first.public_id}"


def test_it_needs_a_csrf_token(reviewer, first):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    assert client.post(url(first, "assess"), {"verdict": "supported"}, **JSON).status_code == 403
    assert not Assessment.objects.exists()


def test_the_workspace_marks_the_forms_that_save_in_place_and_loads_no_inline_script(
    as_reviewer, first, reviewer
):
    workflow.add_comment(first, by=reviewer, body="A thread.")
    page = as_reviewer.get(PAGE).content.decode()
    for form in ("assess", "comment", "reply", "resolve"):
        assert f'class="review-form review-form--{form}" method="post" data-in-place' in page
    assert "review-form--confirm" not in page  # nothing carried in round 1
    assert page.count("<script") == 1 and " on" + "submit=" not in page


def test_the_panel_shows_what_the_page_shows(as_reviewer, first):
    """The fragment is the page's own rendering of the panel, not a copy that could drift."""
    _, data = in_place(as_reviewer, url(first, "assess"), {"verdict": "supported"})
    page = as_reviewer.get(PAGE).content.decode()
    start = page.index(
        f'<article class="review-claim review-claim--factual" id="claim-note-{first.public_id}"'
    )
    end = page.index("</article>", start) + len("</article>")

    def without_tokens(html):
        return "\n".join(
            line for line in html.splitlines() if "csrfmiddlewaretoken" not in line
        ).strip()

    assert without_tokens(page[start:end]) == without_tokens(data["panel"])
    assert Review.objects.get().status == "open"


def test_an_editor_gets_the_desk_and_the_coverage_as_they_are_now(first, reviewer, editor):
    workflow.assess_claim(
        Review.objects.get(reviewer=reviewer), first, by=reviewer, verdict="disputed"
    )
    thread = Comment.objects.get()
    client = Client()
    client.force_login(editor)
    assert "1 claim with an open concern" in client.get(PAGE).content.decode()
    _, data = in_place(client, f"{PAGE}comments/{thread.pk}/resolve/", {})
    assert set(data["regions"]) == {"review-own", "review-coverage", "review-editor-actions"}
    assert "No open concerns in this round." in data["regions"]["review-editor-actions"]
    assert "assessed 1 of 2 claims" in data["regions"]["review-coverage"]
    assert data["regions"]["review-own"] == ""  # an editor without a review of their own
