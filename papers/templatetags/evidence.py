"""How a claim uses its sources, for pages that read a stored snapshot (see papers.evidence)."""

from django import template

from papers import evidence

register = template.Library()


@register.filter
def with_uses(sources):
    """A snapshot's sources, each with its use (“supports” for those stored without one)."""
    return evidence.with_uses(sources or [])


@register.filter
def evidence_summary(sources):
    """“2 sources support it, 1 qualifies it.”"""
    return evidence.summary(sources or [])
