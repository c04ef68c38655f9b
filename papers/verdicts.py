"""A claim's review status from its reviewers' assessments, and the words readers are told for
it: one rule for the review pages, the publish gate and the status frozen into a version."""

import re

from papers.models import Assessment

Verdict = Assessment.Verdict

# Reader-facing statuses, most serious first. Their schema.org ratings are documented here so
# that structured data and pages agree (1 = false … 5 = true). The labels are the generic words,
# for lists that mix kinds of claim (the claims index's filter, a version's review panel).
STATUSES = {
    "disputed": {"label": "Disputed by a reviewer", "rating": 2},
    "needs-source": {"label": "A reviewer asked for a source", "rating": 3},
    "mixed": {"label": "Reviewers disagree", "rating": 3},
    "supported": {"label": "Supported", "rating": 5},
    "revised": {"label": "Reworded after review; not re-checked yet", "rating": None},
    "unchecked": {"label": "Not checked by a reviewer", "rating": None},
}

# What one claim's status is called, by kind of claim. A forecast cannot be found true before
# its time, only plausible; a normative claim is an argument about what ought to be, checked for
# its reasoning rather than its truth; a historical claim is checked against the record; a causal
# one for the link it asserts. "{reviewers}" becomes "1 reviewer", "2 reviewers"… A status a kind
# does not name takes the generic label. Versions keep the words they were published with.
WORDING = {
    "factual": {"supported": "Checked by {reviewers}: supported"},
    "historical": {
        "supported": "Record checked by {reviewers}",
        "needs-source": "A reviewer asked for a source for the record",
        "disputed": "A reviewer disputes this account of events",
        "mixed": "Reviewers disagree about the record",
    },
    "causal": {
        "supported": "Causal link checked by {reviewers}",
        "needs-source": "A reviewer asked for evidence of the link",
        "disputed": "A reviewer disputes the causal link",
        "mixed": "Reviewers disagree about the causal link",
    },
    "predictive": {
        "supported": "Judged plausible by {reviewers}",
        "needs-source": "A reviewer asked what the forecast rests on",
        "disputed": "Contested by a reviewer",
        "mixed": "Reviewers disagree whether it is plausible",
    },
    "normative": {
        "supported": "Argument checked by {reviewers}",
        "needs-source": "A reviewer asked for the argument’s grounds",
        "disputed": "A reviewer disputes the argument",
        "mixed": "Reviewers disagree about the argument",
    },
}


def label(status, kind="", reviewers=0):
    """The words readers see for a claim's review status, fitting its kind (an unknown or
    missing kind reads as factual)."""
    words = WORDING.get(kind, WORDING["factual"]).get(status, STATUSES[status]["label"])
    return words.format(reviewers=f"{reviewers} reviewer{'' if reviewers == 1 else 's'}")


def finding(status, words):
    """What a status label says whatever its words, to tell a re-assessment from a change of
    wording (between kinds, or since an older version was published): the status, and the
    number of reviewers the label names (labels name no other number)."""
    return status, tuple(re.findall(r"\d+", words or ""))


def latest_per_reviewer(assessments):
    """Each reviewer's most recent assessment (highest round, then latest saved)."""
    latest = {}
    for assessment in sorted(assessments, key=lambda a: (a.review.round, a.updated_at, a.pk)):
        latest[assessment.review.reviewer_id] = assessment
    return list(latest.values())


def summarize(assessments, kind=""):
    """The status of one claim from the assessments of submitted reviews, labelled for its
    kind (the generic words without one).

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
    return {
        "status": status,
        "label": label(status, kind, len(current)),
        "reviewers": len(current),
        "verdicts": sorted(a.verdict for a in current),
        "notes": [a.note for a in current if a.note and a.is_concern],
    }


def disagree(assessments):
    """Reviewers reached opposite verdicts on the claim's current words: tell the editor."""
    current = [a for a in latest_per_reviewer(assessments) if not a.is_stale]
    verdicts = {a.verdict for a in current}
    return Verdict.SUPPORTED in verdicts and len(verdicts) > 1
