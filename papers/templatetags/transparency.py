"""The review-transparency panel beside every version: what was checked, by how many reviewers
and with what results, read from the version's snapshot (the review status of each claim was
frozen into it at publication)."""

from collections import Counter

from django import template

from papers import verdicts
from papers.models import Claim

register = template.Library()


@register.simple_tag
def review_summary(version):
    """Counts for the panel. No query when the version's snapshot is loaded (the latest
    version's page loads it); one, whatever the number of claims, when it was deferred."""
    claims = (version.snapshot or {}).get("claims", [])
    reviews = [claim.get("review") or {} for claim in claims]
    kinds = Counter(claim.get("kind") for claim in claims)
    statuses = Counter(review.get("status", "unchecked") for review in reviews)
    reviewers = sorted({review["reviewers"] for review in reviews if review.get("reviewers")})
    return {
        "total": len(claims),
        "kinds": [(kind.value, kind.label, kinds[kind]) for kind in Claim.Kind if kinds[kind]],
        "checked": sum(1 for review in reviews if review.get("reviewers")),
        "verdicts": sum(len(review.get("verdicts", [])) for review in reviews),
        "fewest_reviewers": reviewers[0] if reviewers else 0,
        "most_reviewers": reviewers[-1] if reviewers else 0,
        "statuses": [
            (status, entry["label"], statuses[status])
            for status, entry in verdicts.STATUSES.items()
            if statuses[status]
        ],
    }
