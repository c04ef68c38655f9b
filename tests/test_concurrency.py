"""R30: concurrent writers on PostgreSQL. Two threads, each with its own connection, start the
same workflow call at the same moment (a Barrier); the row locks and unique constraints decide.

SQLite serialises every write, so these tests run only on PostgreSQL (CI sets DATABASE_URL).
"""

import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections

from papers import permissions, workflow
from papers.models import Assessment, Comment, Event, Paper, Review, Version
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    approved,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent writers (PostgreSQL); SQLite serialises writes",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _roles():
    # A transactional test empties every table afterwards, the groups of the data migration too.
    permissions.ensure_roles(Group, Permission)


def race(*calls):
    """Run each call in its own thread, released together; returns [(result, error)]."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = (call(), None)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcomes[index] = (None, error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing call hung (deadlock?)"
    return outcomes


def published_once(editor):
    """A paper published as version 1, then approved again: the next version would be 2."""
    paper = PaperFactory()
    section = SectionFactory(paper=paper, position=0)
    ClaimFactory(section=section)
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    return approved(paper)


def numbers(paper):
    return sorted(Version.objects.filter(paper=paper).values_list("number", flat=True))


def publish_events(paper):
    return sorted(
        Event.objects.filter(paper=paper, action=Event.Action.PUBLISH).values_list(
            "version_number", flat=True
        )
    )


@pytest.mark.parametrize("attempt", range(3))
def test_two_editors_publishing_at_once_make_exactly_one_version(attempt):
    editor, other = EditorFactory(username="eda"), EditorFactory(username="otto")
    paper = published_once(editor)

    outcomes = race(
        lambda: workflow.publish_paper(Paper.objects.get(pk=paper.pk), by=editor),
        lambda: workflow.publish_paper(Paper.objects.get(pk=paper.pk), by=other),
    )

    versions = [result for result, error in outcomes if error is None]
    errors = [error for result, error in outcomes if error is not None]
    assert len(versions) == 1, outcomes
    assert versions[0].number == 2
    # The loser waited on the row lock, then saw the approval used up (the paper is a draft).
    assert len(errors) == 1 and isinstance(errors[0], workflow.WorkflowError), outcomes
    assert "published" in str(errors[0])
    assert numbers(paper) == [1, 2]
    assert publish_events(paper) == [1, 2]
    paper.refresh_from_db()
    assert paper.live_version.number == 2
    assert paper.stage == Paper.Stage.DRAFT


@pytest.mark.parametrize("attempt", range(3))
def test_two_operators_publishing_at_once_number_without_gap_or_duplicate(attempt):
    """The operator (by=None) may publish from any stage, so both calls publish: the lock makes
    the second wait for the first's Max+1 and take the next number."""
    editor = EditorFactory(username="eda")
    paper = published_once(editor)

    outcomes = race(
        lambda: workflow.publish_paper(Paper.objects.get(pk=paper.pk), by=None),
        lambda: workflow.publish_paper(Paper.objects.get(pk=paper.pk), by=None),
    )

    assert [error for _, error in outcomes] == [None, None], outcomes
    assert sorted(version.number for version, _ in outcomes) == [2, 3]
    assert numbers(paper) == [1, 2, 3]
    assert publish_events(paper) == [1, 2, 3]
    paper.refresh_from_db()
    assert paper.live_version.number == 3


@pytest.fixture
def in_review():
    editor = EditorFactory(username="eda")
    first, second = ReviewerFactory(username="rita"), ReviewerFactory(username="rob")
    paper = PaperFactory()
    section = SectionFactory(paper=paper, position=0)
    claim = ClaimFactory(section=section)
    for reviewer in (first, second):
        workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    return paper, claim, first, second


def events(paper, action):
    return Event.objects.filter(paper=paper, action=action).count()


def test_two_reviewers_assessing_one_claim_at_once_each_store_once(in_review):
    paper, claim, first, second = in_review
    reviews = {r.reviewer_id: r for r in Review.objects.filter(paper=paper)}

    def assess(reviewer):
        return lambda: workflow.assess_claim(
            reviews[reviewer.pk], claim, by=reviewer, verdict="disputed", note="Not so."
        )

    outcomes = race(assess(first), assess(second))

    assert [error for _, error in outcomes] == [None, None], outcomes
    for reviewer in (first, second):
        assert Assessment.objects.filter(review__reviewer=reviewer, claim=claim).count() == 1
        # A concern opens exactly one thread per reviewer.
        assert Comment.objects.filter(claim=claim, author=reviewer, parent=None).count() == 1
    assert events(paper, Event.Action.ASSESS) == 2


def test_one_reviewer_double_submitting_an_assessment_stores_it_once(in_review):
    """A double click: the review row lock serialises the two calls; the second updates."""
    paper, claim, first, _ = in_review
    review = Review.objects.get(paper=paper, reviewer=first)

    def assess():
        return workflow.assess_claim(review, claim, by=first, verdict="needs-source", note="Cite.")

    outcomes = race(assess, assess)

    assert [error for _, error in outcomes] == [None, None], outcomes
    assert Assessment.objects.filter(review=review, claim=claim).count() == 1
    assert Comment.objects.filter(claim=claim, author=first, parent=None).count() == 1
    assert events(paper, Event.Action.ASSESS) == 2


def test_two_reviewers_commenting_at_once_each_store_once(in_review):
    paper, claim, first, second = in_review

    outcomes = race(
        lambda: workflow.add_comment(claim, by=first, body="First thought."),
        lambda: workflow.add_comment(claim, by=second, body="Second thought."),
    )

    assert [error for _, error in outcomes] == [None, None], outcomes
    assert sorted(Comment.objects.filter(claim=claim).values_list("body", flat=True)) == [
        "First thought.",
        "Second thought.",
    ]
    assert events(paper, Event.Action.COMMENT) == 2
