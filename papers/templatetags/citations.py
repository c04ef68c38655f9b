"""Highwire Press `citation_*` facts of a version, for Google Scholar and Zotero (read by
templates/papers/_citation_meta.html); the same reference as the citation page's."""

from django import template

from papers import citing

register = template.Library()


@register.simple_tag
def highwire(paper, version):
    """The authors ("Family, Given", one tag each) and the PDF's address. No query."""
    return {
        "authors": [citing.family_first(name) for name in citing.names(version.byline)],
        "pdf_url": citing.pdf_url(paper, version),
    }
