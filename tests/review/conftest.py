"""The review workspace at /review/: the paper in review, the people around it and the steps the
tests of its pages share.

Two personas differ from tests/conftest.py's: other_reviewer has a name (editors see who gave a
verdict), and the outsider is a reviewer, only not one of this paper's (the stronger case for R3).
"""

import pytest
from django.contrib.messages import get_messages

from papers import workflow
from papers.models import Assessment, Comment, Event, Paper, Review
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    client_for,
)

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


@pytest.fixture
def as_other(other_reviewer):
    return client_for(other_reviewer)


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


def database_state():
    return (
        Comment.objects.count(),
        Assessment.objects.count(),
        Event.objects.exclude(paper=None).count(),
        list(Review.objects.values_list("status", flat=True)),
        list(Paper.objects.values_list("stage", flat=True)),
        list(Comment.objects.values_list("resolved_at", flat=True)),
    )


def reword(claim, quote):
    """An editor rewords a claim and its section's text together."""
    section = claim.section
    section.body = section.body.replace(claim.quote, quote)
    section.save()
    claim.quote = quote
    claim.save()
