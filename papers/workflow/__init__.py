"""Every change of a paper's workflow state is a function here; the admin, the review pages and
the commands all call them.

Each one checks the actor's permission and the paper's stage against TRANSITIONS, changes rows
in one transaction, writes one Event, and sends its emails after commit. `by=None` stands for
an operator at the command line (or the scheduler), who acts with the machine's authority.

The modules, by job: `base` (errors, transitions, shared steps), `rounds` (reviewers and the
rounds that submissions open), `reviewing` (what reviewers do), `decisions` (editors' decisions
on a round), `publishing` (versions, withdrawals, the publish gate), `drafts` (share links,
reverting a section to its published text) and `content` (the fingerprint of what reviewers
vouch for, and `record_edit`, which every path that saves it calls).
"""

from papers.workflow.base import (
    ACTION_WORDS,
    MAX_TEXT,
    TRANSITIONS,
    NotAllowed,
    WorkflowError,
    WrongStage,
)
from papers.workflow.content import authors_fixed, record_edit, record_shared_edit
from papers.workflow.decisions import approve_paper, request_changes
from papers.workflow.drafts import create_share_link, revert_section, revoke_share_link
from papers.workflow.forecasts import notify_due_forecasts, resolve_forecast
from papers.workflow.publishing import (
    open_concern_claims,
    publish_correction,
    publish_due,
    publish_paper,
    withdraw_paper,
)
from papers.workflow.reviewing import (
    add_comment,
    assess_claim,
    confirm_carried,
    resolve_thread,
    submit_review,
)
from papers.workflow.rounds import assign_reviewer, submit_paper, unassign_reviewer

__all__ = [
    "ACTION_WORDS",
    "MAX_TEXT",
    "TRANSITIONS",
    "NotAllowed",
    "WorkflowError",
    "WrongStage",
    "add_comment",
    "approve_paper",
    "assess_claim",
    "assign_reviewer",
    "authors_fixed",
    "confirm_carried",
    "create_share_link",
    "notify_due_forecasts",
    "open_concern_claims",
    "publish_correction",
    "publish_due",
    "publish_paper",
    "record_edit",
    "resolve_forecast",
    "record_shared_edit",
    "request_changes",
    "resolve_thread",
    "revert_section",
    "revoke_share_link",
    "submit_paper",
    "submit_review",
    "unassign_reviewer",
    "withdraw_paper",
]
