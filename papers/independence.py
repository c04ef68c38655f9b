"""Independent assessment: what a reviewer may not yet see of the other reviewers' work.

Until their own review of the current round is submitted, a reviewer meets neither the others'
verdicts nor the threads the others opened in this round (an assessment's concern opens one).
The workspace, and every view that takes a comment's id, ask here; a thread the viewer may not
see is answered exactly as a thread that does not exist, so ids cannot be probed.
"""

from papers.models import Comment


def others_visible(own, *, editor):
    """Editors see everyone's work; a reviewer once their own review of the round is in."""
    return editor or (own is not None and own.is_submitted)


def hidden_authors(user, round_reviews, *, editor):
    """The other reviewers of the current round whose work of this round `user` may not see yet
    (none for editors and for reviewers who have submitted)."""
    own = next((r for r in round_reviews if r.reviewer_id == user.pk), None)
    if others_visible(own, editor=editor):
        return frozenset()
    return frozenset(r.reviewer_id for r in round_reviews) - {user.pk}


def is_hidden(root, paper, hidden):
    """A thread (by its first comment) that another reviewer opened in the current round."""
    return root.author_id in hidden and root.round == paper.round


def visible_comment(paper, user, pk, *, editor):
    """The paper's comment `pk` if `user` may see its thread; None when it does not exist, is
    another paper's, or belongs to a thread hidden from them, alike."""
    comment = (
        Comment.objects.select_related("claim__paper", "parent").filter(pk=pk, claim__paper=paper)
    ).first()
    if comment is None:
        return None
    round_reviews = list(paper.reviews.filter(round=paper.round).only("reviewer_id", "status"))
    hidden = hidden_authors(user, round_reviews, editor=editor)
    return None if is_hidden(comment.parent or comment, paper, hidden) else comment
