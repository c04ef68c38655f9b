"""The emails each workflow step sends: subject, link, recipients, plain text kept plain."""

import datetime

import pytest

from papers import workflow
from papers.models import Review
from papers.notifications import notify
from tests.factories import EditorFactory, ReviewerFactory, UserFactory, approved

pytestmark = pytest.mark.django_db

SITE = "https://standpoint.example"
REVIEW_URL = f"{SITE}/review/draft-on-deterrence/"
PUBLIC_URL = f"{SITE}/papers/draft-on-deterrence/"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def sent(mailoutbox, django_capture_on_commit_callbacks):
    """Run a step, deliver its mail as on commit, and return what went out."""

    def sent(step, *args, **kwargs):
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            step(*args, **kwargs)
        return list(mailoutbox)

    return sent


def recipients(mails):
    return sorted(address for mail in mails for address in mail.to)


def only(mails):
    subjects = {mail.subject for mail in mails}
    bodies = {mail.body for mail in mails}
    assert len(subjects) == 1 and len(bodies) == 1, "every recipient gets the same message"
    return mails[0]


def review_of(paper, reviewer):
    paper.refresh_from_db()
    return Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)


@pytest.fixture
def in_review(draft, editor, reviewer):
    workflow.assign_reviewer(draft, reviewer, by=editor)
    return workflow.submit_paper(draft, by=editor)


@pytest.fixture
def reviewed(in_review, reviewer):
    """In review with the reviewer's review submitted, a verdict on every claim: the paper may
    be approved."""
    review = review_of(in_review, reviewer)
    for claim in in_review.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation="approve")
    return in_review


def test_an_assigned_reviewer_is_asked_to_review(sent, draft, editor, reviewer):
    mails = sent(
        workflow.assign_reviewer, draft, reviewer, by=editor, due_date=datetime.date(2026, 3, 1)
    )
    mail = only(mails)
    assert recipients(mails) == ["reviewer@example.org"]
    assert mail.subject == "You are asked to review “Draft on deterrence”"
    assert "Eda asked you to review “Draft on deterrence” by 1 March 2026." in mail.body
    assert f"Open your review: {REVIEW_URL}" in mail.body


def test_submitting_tells_every_assigned_reviewer(sent, draft, editor, reviewer):
    other = ReviewerFactory(username="other_reviewer")
    workflow.assign_reviewer(draft, reviewer, by=editor)
    workflow.assign_reviewer(draft, other, by=editor)
    mails = sent(workflow.submit_paper, draft, by=editor)
    mail = only(mails)
    assert recipients(mails) == ["other_reviewer@example.org", "reviewer@example.org"]
    assert mail.subject == "Review round 1 of “Draft on deterrence” is open"
    assert REVIEW_URL in mail.body


def test_a_submitted_review_goes_to_the_authors_and_the_submitting_editor(
    sent, draft, editor, reviewer, in_review
):
    author = EditorFactory(username="author")
    draft.authors.add(author)
    mails = sent(
        workflow.submit_review,
        review_of(draft, reviewer),
        by=reviewer,
        recommendation="revise",
        summary="Two claims need sources.",
    )
    mail = only(mails)
    assert recipients(mails) == ["author@example.org", "editor@example.org"]
    assert mail.subject == "reviewer submitted a review of “Draft on deterrence”"
    assert "reviewer recommends: Revise." in mail.body
    assert "Two claims need sources." in mail.body
    assert f"Read the review: {REVIEW_URL}" in mail.body


def test_a_comment_goes_to_the_editors_and_a_reply_to_the_thread_too(
    sent, draft, editor, reviewer, in_review
):
    other = ReviewerFactory(username="other_reviewer")
    workflow.assign_reviewer(draft, other, by=editor)
    claim = draft.claims.order_by("pk").first()
    mails = sent(workflow.add_comment, claim, by=reviewer, body="Which <brigade> is meant?")
    mail = only(mails)
    assert recipients(mails) == ["editor@example.org"]
    assert mail.subject == "reviewer commented on a claim in “Draft on deterrence”"
    assert f"on claim {claim.public_id}, “{claim.quote}”" in mail.body
    assert "Which <brigade> is meant?" in mail.body
    assert f"Answer in the review: {REVIEW_URL}" in mail.body

    root = claim.comments.get()
    mails = sent(workflow.add_comment, claim, by=other, body="The 2nd.", parent=root)
    assert recipients(mails) == ["editor@example.org", "reviewer@example.org"]


def test_the_commenter_is_not_told_of_their_own_comment(sent, draft, editor, reviewer, in_review):
    claim = draft.claims.order_by("pk").first()
    assert sent(workflow.add_comment, claim, by=editor, body="Noted.") == []


def test_changes_requested_goes_to_the_reviewers_with_the_reason(
    sent, draft, editor, reviewer, in_review
):
    mails = sent(workflow.request_changes, draft, by=editor, reason="Source the numbers.")
    mail = only(mails)
    assert recipients(mails) == ["reviewer@example.org"]
    assert mail.subject == "Changes requested on “Draft on deterrence”"
    assert "Eda asked for changes to “Draft on deterrence” after round 1:" in mail.body
    assert "Source the numbers." in mail.body and REVIEW_URL in mail.body


def test_an_approval_with_a_date_says_when(sent, draft, editor, reviewer, reviewed):
    when = datetime.datetime(2030, 5, 4, 9, 30, tzinfo=datetime.UTC)
    mails = sent(workflow.approve_paper, draft, by=editor, publish_at=when)
    mail = only(mails)
    assert recipients(mails) == ["editor@example.org", "reviewer@example.org"]
    assert mail.subject == "“Draft on deterrence” is approved"
    assert "scheduled to be published on 4 May 2030, 09:30" in mail.body
    assert REVIEW_URL in mail.body


def test_publishing_links_to_the_public_page(sent, draft, editor, reviewer, in_review):
    approved(draft)
    mails = sent(workflow.publish_paper, draft, by=editor, note="First edition.")
    mail = only(mails)
    assert recipients(mails) == ["editor@example.org", "reviewer@example.org"]
    assert mail.subject == "“Draft on deterrence” is published as version 1"
    assert "First edition." in mail.body
    assert f"Read it: {PUBLIC_URL}" in mail.body
    assert "/review/" not in mail.body


def test_a_correction_says_so(sent, published, editor):
    published.authors.add(UserFactory(username="author"))
    mails = sent(workflow.publish_correction, published, by=editor, note="Fixed a date.")
    assert only(mails).subject == "“Draft on deterrence” is published as version 2 (a correction)"


def test_withdrawing_links_to_the_notice(sent, published, editor, reviewer):
    workflow.assign_reviewer(published, reviewer, by=editor)
    mails = sent(workflow.withdraw_paper, published, by=editor, reason="Data were fabricated.")
    mail = only(mails)
    assert recipients(mails) == ["reviewer@example.org"]
    assert mail.subject == "“Draft on deterrence” was withdrawn"
    assert "Data were fabricated." in mail.body and PUBLIC_URL in mail.body


def test_mail_goes_only_to_active_people_with_an_address(sent, draft):
    people = [
        UserFactory(username="active"),
        UserFactory(username="inactive", is_active=False),
        UserFactory(username="silent", email=""),
        UserFactory(username="active"),  # the same person twice gets one mail
    ]
    mails = sent(notify, "submitted", draft, people)
    assert recipients(mails) == ["active@example.org"]


def test_nobody_to_tell_sends_nothing(sent, draft, editor, reviewer):
    reviewer.is_active = False
    reviewer.save()
    workflow.assign_reviewer(draft, ReviewerFactory(username="gone"), by=editor)
    mails = sent(workflow.submit_paper, draft, by=editor)
    assert recipients(mails) == ["gone@example.org"]
    mails = sent(notify, "submitted", draft, [reviewer])
    assert mails == []


def test_html_in_titles_and_reasons_is_kept_as_written(sent, draft, editor, reviewer, in_review):
    title = "Risks & <b>\"costs\"</b> of 'NATO' <script>x</script>"
    type(draft).objects.filter(pk=draft.pk).update(title=title)
    draft.refresh_from_db()
    reason = "Replace <em>all</em> figures & cite <a href='x'>sources</a>."
    mail = only(sent(workflow.request_changes, draft, by=editor, reason=reason))
    assert mail.subject == f"Changes requested on “{title}”"
    assert f"asked for changes to “{title}”" in mail.body
    assert reason in mail.body
    assert "&amp;" not in mail.body and "&lt;" not in mail.body and "&#x27;" not in mail.body


def test_a_broken_template_does_not_undo_the_publication(
    sent, draft, editor, reviewer, in_review, settings, tmp_path, caplog
):
    """The email is written after the commit: its template failing leaves the version out."""
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "published.txt").write_text("{% if %}broken{% endif %}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    approved(draft)
    assert sent(workflow.publish_paper, draft, by=editor, note="First edition.") == []
    draft.refresh_from_db()
    assert draft.live_version.number == 1
    (record,) = [r for r in caplog.records if r.name == "papers.notifications"]
    assert record.levelname == "ERROR" and "published" in record.getMessage()
