"""What became of each round of a paper's review, read from its events: the editors' decision
that ended it, the version it was published as, or the withdrawal that followed. The reviewers'
dashboard shows it beside each review they are done with."""

from papers.models import Event, Paper

Action = Event.Action

# The events that open a round or decide on one. Rounds are numbered by the submissions before
# them: each submission opens the next round (workflow.submit_paper) and writes one SUBMIT.
ROUND_EVENTS = [
    Action.SUBMIT,
    Action.REOPEN,
    Action.REQUEST_CHANGES,
    Action.APPROVE,
    Action.PUBLISH,
    Action.CORRECT,
    Action.WITHDRAW,
]


def attach(reviews):
    """Set `outcome` on each review: None while its round awaits a decision, otherwise
    {"kind", "label", "version"}. One query for all of them, none without reviews."""
    found = of_rounds({review.paper_id for review in reviews}) if reviews else {}
    for review in reviews:
        review.outcome = found.get((review.paper_id, review.round))
    return reviews


def of_rounds(paper_ids):
    """{(paper id, round number): outcome} for the rounds of these papers decided on."""
    events = (
        Event.objects.filter(paper_id__in=paper_ids, action__in=ROUND_EVENTS)
        .order_by("pk")
        .values_list("paper_id", "action", "from_stage", "version_number")
    )
    rounds, found = {}, {}
    for paper_id, action, from_stage, number in events:
        if action == Action.SUBMIT:
            rounds[paper_id] = rounds.get(paper_id, 0) + 1
            continue
        key = (paper_id, rounds.get(paper_id, 0))
        if key[1] == 0:
            continue  # published or withdrawn before any review (a back catalogue)
        if action == Action.REOPEN:
            found.pop(key, None)  # back in review after an edit: awaiting a decision again
        elif action == Action.CORRECT and from_stage != Paper.Stage.APPROVED:
            continue  # a correction of the live version leaves the round as it was
        else:
            found[key] = _outcome(action, number)
    return found


def _outcome(action, number):
    if action == Action.REQUEST_CHANGES:
        return {"kind": "changes-requested", "label": "Changes requested", "version": None}
    if action == Action.APPROVE:
        return {"kind": "approved", "label": "Approved", "version": None}
    if action == Action.WITHDRAW:
        return {"kind": "withdrawn", "label": "Withdrawn", "version": None}
    # Publishing (or correcting an approved paper) uses up the round's approval.
    return {"kind": "published", "label": f"Published as version {number}", "version": number}
