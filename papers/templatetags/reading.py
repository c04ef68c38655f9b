from django import template

from papers import rendering
from papers.models import Claim

register = template.Library()


@register.filter
def as_text(markup):
    """The text a reader sees in stored HTML, for attributes such as meta descriptions."""
    return rendering.html_to_text(markup)


@register.simple_tag
def claim_kinds():
    """The kinds of claim with what each asserts, for the key beside a paper."""
    return list(Claim.Kind)
