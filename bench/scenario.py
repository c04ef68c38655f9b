"""The people and papers the multi-server, load and fault scripts work on, made through the same
functions as the app (`importing.save_document`, `workflow.*`). Needs Django set up
(`servers.Stack`).
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from papers import importing, permissions, workflow
from papers.models import Paper

PASSWORD = secrets.token_urlsafe(18)
# One hash for every account: hashing is deliberately slow (~0.3 s), the sign-ins over HTTP
# still check it properly.
_HASH = make_password(PASSWORD)


def person(username, *, editor=False, reviewer=False):
    user = get_user_model().objects.create(
        username=username,
        email=f"{username}@bench.invalid",
        is_staff=editor,
        password=_HASH,
    )
    if editor:
        user.groups.add(Group.objects.get(name=permissions.EDITORS))
    if reviewer:
        user.groups.add(Group.objects.get(name=permissions.REVIEWERS))
    return user


def paper(slug, *, sections=4, claims_per_section=3, word="benchmark"):
    """A paper of plain sentences; each section's first sentences are its claims."""
    entries, claims = [], []
    for s in range(1, sections + 1):
        sentences = [
            f"The {word} paper {slug} states in section {s} that fact number {n} holds."
            for n in range(1, 7)
        ]
        entries.append({"heading": f"Part {s}", "anchor": f"part-{s}", "body": " ".join(sentences)})
        claims += [
            {"section": f"part-{s}", "quote": sentence, "kind": "factual"}
            for sentence in sentences[:claims_per_section]
        ]
    document = {
        "title": f"On {word}: {slug}",
        "slug": slug,
        "standfirst": f"A paper about {word}, made for the load and fault scripts.",
        "authors": ["Bench Author"],
        "sections": entries,
        "claims": claims,
    }
    return importing.save_document(document)


def in_review(paper, editor, reviewers):
    """Assign the reviewers and open round 1 (or the next round)."""
    for reviewer in reviewers:
        if not paper.assignments.filter(reviewer=reviewer).exists():
            workflow.assign_reviewer(paper, reviewer, by=editor)
    return workflow.submit_paper(paper, by=editor)


def approved(paper, editor, reviewer):
    """Through a review round to "approved": submitted, reviewed (a verdict on every claim, as
    approval needs), approved."""
    paper = in_review(paper, editor, [reviewer])
    review = paper.reviews.get(round=paper.round, reviewer=reviewer)
    # Every claim, those with a verdict carried from an earlier round too: a carried verdict
    # counts once the reviewer gives it again (or confirms it).
    for claim in paper.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation="approve", summary="Fine.")
    return workflow.approve_paper(Paper.objects.get(pk=paper.pk), by=editor)


def published(paper, editor, reviewer, *, note="First edition."):
    """Approved and published; returns the paper as it is afterwards."""
    workflow.publish_paper(approved(paper, editor, reviewer), by=editor, note=note)
    return Paper.objects.get(pk=paper.pk)
