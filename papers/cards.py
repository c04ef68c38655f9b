"""Paper cards, rendered once per version and public revision and kept in this process's memory.

A listing of twenty papers spent most of its time rendering twenty cards that had not changed
since they were published. A card shows its paper's live version (immutable), the paper's
address and the names and addresses of the version's tags; the last two change only with the
public revision (papers/pagecache.py), so a card is kept under its version and the revision
(with the release and the time zone). A new version, address or tag name makes a new key; old
ones are never read again and go when the memory is full.
"""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from papers import pagecache
from papers.models import Paper

LISTING = "papers/_paper_card.html"
# A search result's card comes in two parts, with the snippet between them (in Python: a
# template's loop over twenty results cost more than their cards).
RESULT_HEAD, RESULT_META = "papers/_search_result_head.html", "papers/_search_result_meta.html"
RESULT = '<article class="paper-card search-result">{}<p class="search-snippet">{}</p>{}</article>'

# Cards kept per process (a few kilobytes each); all of them go when this many are kept.
CARDS = 4096
_kept = {}


def card(paper, revision, template=LISTING):
    """The HTML of `paper`'s card as `template` renders it at the public `revision` (papers from
    `Paper.for_listing`, whose versions' tags are prefetched)."""
    key = (*_scope(revision), template, paper.live_version_id)
    html = _kept.get(key)
    if html is None:
        tags = list(paper.live_version.tags.all())
        html = render_to_string(template, {"paper": paper, "tags": tags})
        if len(_kept) >= CARDS:
            _kept.clear()
        _kept[key] = html
    return html


def of_results(results, revision):
    """The page's search results (papers.search.Result) as HTML, each its card's head, its
    snippet and its card's foot. The cards come from memory; those of papers it does not hold
    are rendered from one load of those papers (two queries, whatever their number)."""
    scope = _scope(revision)
    found = {
        (result.version_id, template): _kept.get((*scope, template, result.version_id))
        for result in results
        for template in (RESULT_HEAD, RESULT_META)
    }
    missing = {version_id for (version_id, _), html in found.items() if html is None}
    if missing:
        for paper in Paper.objects.filter(live_version__in=missing).for_listing():
            for template in (RESULT_HEAD, RESULT_META):
                found[(paper.live_version_id, template)] = card(paper, revision, template)
    # A paper given a new version since the search read it is left out of this page.
    return [
        format_html(
            RESULT,
            found[(result.version_id, RESULT_HEAD)],
            result.snippet,
            found[(result.version_id, RESULT_META)],
        )
        for result in results
        if found[(result.version_id, RESULT_HEAD)] is not None
    ]


def forget():
    """Drop every kept card (tests: each starts from a fresh database)."""
    _kept.clear()


def _scope(revision):
    return (pagecache.release(), timezone.get_current_timezone_name(), revision)
