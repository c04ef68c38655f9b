"""Steps shared by the tests of papers/workflow/: a paper brought to a stage through the workflow
itself, and the checks each test makes of what a step wrote (exactly these events, or nothing)."""

from contextlib import contextmanager

from django.db.models import Max

from papers import workflow
from papers.models import Assessment, Assignment, Comment, Event, Paper, Review, Version

Verdict = Assessment.Verdict


def last_event_pk():
    return Event.objects.aggregate(top=Max("pk"))["top"] or 0


def actions_since(mark):
    return list(Event.objects.filter(pk__gt=mark).order_by("pk").values_list("action", flat=True))


@contextmanager
def writes(*actions):
    """The block writes exactly these events, in this order."""
    mark = last_event_pk()
    yield
    assert actions_since(mark) == list(actions)


def state(paper):
    current = Paper.objects.get(pk=paper.pk)
    return {
        "paper": (
            current.stage,
            current.round,
            current.publish_at,
            current.live_version_id,
            current.withdrawn_at,
        ),
        "assignments": sorted(Assignment.objects.values_list("paper", "reviewer")),
        "reviews": sorted(Review.objects.values_list("pk", "status", "recommendation")),
        "assessments": sorted(Assessment.objects.values_list("pk", "verdict", "note")),
        "comments": sorted(Comment.objects.values_list("pk", "resolved_at")),
        "versions": Version.objects.count(),
    }


@contextmanager
def unchanged(paper):
    """Nothing about the paper's workflow changes in the block, and no event is written."""
    before = state(paper)
    with writes():
        yield
    assert state(paper) == before


def at_stage(paper, stage):
    Paper.objects.filter(pk=paper.pk).update(stage=stage)
    paper.refresh_from_db()
    return paper


def in_review(paper, editor, *reviewers):
    for reviewer in reviewers:
        workflow.assign_reviewer(paper, reviewer, by=editor)
    return workflow.submit_paper(paper, by=editor)


def review_of(paper, reviewer):
    paper.refresh_from_db()
    return Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)


def recommend_approval(paper, reviewer):
    """`reviewer` submits their review of the current round, recommending approval, with a
    verdict on every claim (what approval rests on): claims not assessed yet are supported."""
    review = review_of(paper, reviewer)
    for claim in paper.claims.exclude(assessments__review=review):
        workflow.assess_claim(review, claim, by=reviewer, verdict=Verdict.SUPPORTED)
    return workflow.submit_review(review, by=reviewer, recommendation="approve")


def reviewed(paper, editor, reviewer, *others):
    """In review with `reviewer`'s review submitted (so it may be approved); the others' reviews
    stay open."""
    paper = in_review(paper, editor, reviewer, *others)
    recommend_approval(paper, reviewer)
    return paper


def first_claim(paper):
    return paper.claims.get(quote="NATO forces are present in Estonia.")


def persona(request, name):
    return request.getfixturevalue(name)
