"""Paper cards, rendered once per version and kept in this process's memory.

A listing of twenty papers spent most of its time rendering twenty cards that had not changed
since they were published: a card shows only its paper's live version (immutable), the paper's
address and the names and addresses of the version's tags, so those, with the release and the
time zone, are its key. A new version, a new address or a renamed tag makes a new key; old ones
are never read again and go when the memory is full.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from papers import pagecache

# Cards kept per process (a few kilobytes each); all of them go when this many are kept.
CARDS = 4096
_kept = {}


def card(paper, template="papers/_paper_card.html"):
    """The HTML of `paper`'s card as `template` renders it (papers from `Paper.for_listing`,
    whose versions' tags are prefetched)."""
    version = paper.live_version
    tags = list(version.tags.all())
    key = (
        template,
        pagecache.release(),
        timezone.get_current_timezone_name(),
        version.pk,
        paper.slug,
        tuple((tag.slug, tag.name) for tag in tags),
    )
    html = _kept.get(key)
    if html is None:
        html = render_to_string(template, {"paper": paper, "tags": tags})
        if len(_kept) >= CARDS:
            _kept.clear()
        _kept[key] = html
    return html
