"""A claim's review status from its reviewers' assessments: one rule for the review pages, the
publish gate and the status frozen into a version."""

from papers.models import Assessment

Verdict = Assessment.Verdict

# Reader-facing statuses, most serious first. Their schema.org ratings are documented here so
# that structured data and pages agree (1 = false … 5 = true).
STATUSES = {
    "disputed": {"label": "Disputed by a reviewer", "rating": 2},
    "needs-source": {"label": "A reviewer asked for a source", "rating": 3},
    "mixed": {"label": "Reviewers disagree", "rating": 3},
    "supported": {"label": "Supported", "rating": 5},
    "revised": {"label": "Reworded after review; not re-checked yet", "rating": None},
    "unchecked": {"label": "Not checked by a reviewer", "rating": None},
}


def latest_per_reviewer(assessments):
    """Each reviewer's most recent assessment (highest round, then latest saved)."""
    latest = {}
    for assessment in sorted(assessments, key=lambda a: (a.review.round, a.updated_at, a.pk)):
        latest[assessment.review.reviewer_id] = assessment
    return list(latest.values())


def summarize(assessments):
    """The status of one claim from the assessments of submitted reviews.

    Stale assessments (the claim was reworded since) no longer vouch for the words.
    """
    latest = latest_per_reviewer(assessments)
    current = [a for a in latest if not a.is_stale]
    verdicts = {a.verdict for a in current}
    if not current:
        status = "revised" if latest else "unchecked"
    elif verdicts == {Verdict.SUPPORTED}:
        status = "supported"
    elif Verdict.SUPPORTED in verdicts:
        status = "mixed"
    elif Verdict.DISPUTED in verdicts:
        status = "disputed"
    else:
        status = "needs-source"
    label = STATUSES[status]["label"]
    if status == "supported":
        label = f"Checked by {len(current)} reviewer{'s' if len(current) > 1 else ''}: supported"
    return {
        "status": status,
        "label": label,
        "reviewers": len(current),
        "verdicts": sorted(a.verdict for a in current),
        "notes": [a.note for a in current if a.note and a.is_concern],
    }


def disagree(assessments):
    """Reviewers reached opposite verdicts on the claim's current words: tell the editor."""
    current = [a for a in latest_per_reviewer(assessments) if not a.is_stale]
    verdicts = {a.verdict for a in current}
    return Verdict.SUPPORTED in verdicts and len(verdicts) > 1
