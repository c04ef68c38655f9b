"""Page metadata: schema.org JSON-LD for paper pages, and a block's text reused in <head>."""

import json
import re

from django import template
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.urls import reverse
from django.utils.html import escapejs, format_html, format_html_join

from papers import evidence, rendering, snapshots, verdicts
from papers.models import Version

register = template.Library()


@register.simple_tag(takes_context=True)
def reuse_block(context, name):
    """What the page's block `name` renders, again: Django renders a named block once, and the
    meta description is also the Open Graph and Twitter description."""
    block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = block_context.get_block(name) if block_context else None
    if block is None:
        return ""
    with context.push():
        return block.nodelist.render(context)  # escaped by the template, so already safe


@register.simple_tag(takes_context=True)
def paper_json_ld(context, paper, version, latest):
    """A ScholarlyArticle for the version shown, and a ClaimReview for each claim a reviewer
    assessed. No query on the latest version of a first edition; at most two otherwise."""
    site = {"@type": "Organization", "name": context["site_name"], "url": context["site_url"]}
    path = (
        paper.get_absolute_url()
        if latest
        else reverse("papers:version", args=[paper.slug, version.number])
    )
    url = context["site_url"] + path
    # version_detail defers the snapshot; the paper's live version is loaded with it.
    snapshot = (paper.live_version if latest else version).snapshot
    authors = _authors(version.byline, site)
    article = {
        "@type": "ScholarlyArticle",
        "@id": url,
        "url": url,
        "headline": version.title,
        "description": rendering.html_to_text(version.standfirst_html),
        "author": authors,
        "datePublished": _date(_first_published(version)),
        "dateModified": _date(version.published_at),
        "version": version.number,
        "keywords": _keywords(snapshot),
        "publisher": site,
        "isPartOf": {"@type": "WebSite", "name": site["name"], "url": site["url"] + "/"},
    }
    if version.fingerprint:
        article["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "SHA-256 of export.json",
            "value": version.fingerprint,
        }
    if version.is_correction:
        article["correction"] = {"@type": "CorrectionComment", "text": version.note}
    if paper.withdrawn_at:
        article["creativeWorkStatus"] = "Withdrawn"
    reviews = [
        _claim_review(claim, url=url, authors=authors, site=site, version=version)
        for _, _, claim in snapshots.numbered_claims(snapshot)
        if _rating(claim) is not None
    ]
    outcomes = context.get("forecast_outcomes") or {}
    predictions = [
        _forecast(claim, outcomes.get(claim["id"]), site=site)
        for _, _, claim in snapshots.numbered_claims(snapshot)
        if claim.get("due") or claim.get("resolves_when") or claim["id"] in outcomes
    ]
    graph = [article, *reviews, *predictions]
    return json_ld({"@context": "https://schema.org", "@graph": graph})


def _forecast(claim, resolution, *, site):
    """A forecast as a schema.org Claim: its due date and criteria, and, once resolved, how it
    turned out as a Review of it (papers.forecasts)."""
    node = {
        "@type": "Claim",
        "url": site["url"] + reverse("papers:claim", args=[claim["id"]]),
        "text": claim["quote"],
        "additionalProperty": [
            {"@type": "PropertyValue", "propertyID": key, "value": claim[key]}
            for key in ("due", "resolves_when")
            if claim.get(key)
        ],
    }
    if resolution is not None:
        node["review"] = {
            "@type": "Review",
            "name": "How the forecast turned out",
            "reviewRating": {"@type": "Rating", "alternateName": resolution.get_outcome_display()},
            "reviewBody": resolution.note,
            "datePublished": _date(resolution.resolved_at),
            "author": {"@type": "Person", "name": resolution.resolved_by_name}
            if resolution.resolved_by_name
            else site,
            "citation": [
                {
                    "@type": "CreativeWork",
                    "name": s["title"],
                    **({"url": s["url"]} if s["url"] else {}),
                }
                for s in resolution.sources
            ],
        }
    return node


def _claim_review(claim, *, url, authors, site, version):
    review = claim["review"]
    return {
        "@type": "ClaimReview",
        "url": site["url"] + reverse("papers:claim", args=[claim["id"]]),
        "claimReviewed": claim["quote"],
        "datePublished": _date(version.published_at),
        "author": site,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": _rating(claim),
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": review.get("label")
            or verdicts.label(review["status"], claim.get("kind", ""), review.get("reviewers", 0)),
        },
        "itemReviewed": {
            "@type": "Claim",
            "author": authors,
            "appearance": {"@type": "CreativeWork", "url": f"{url}#claim-{claim['id']}"},
            **_citations(claim),
        },
    }


def _citations(claim):
    """The claim's sources, each typed by how it is used (papers.evidence); none, no key."""
    cited = evidence.citations(claim.get("sources", []))
    return {"citation": cited} if cited else {}


def _rating(claim):
    """The schema.org rating of the claim's review status (see verdicts.STATUSES: 2 disputed,
    3 needs a source or reviewers disagree, 5 supported); None when no reviewer's verdict
    stands (unchecked, or reworded since), which gets no ClaimReview."""
    status = (claim.get("review") or {}).get("status", "unchecked")
    return verdicts.STATUSES.get(status, {}).get("rating")


def _first_published(version):
    if version.number == 1:
        return version.published_at
    first = Version.objects.filter(paper_id=version.paper_id, number=1)
    return first.values_list("published_at", flat=True).first() or version.published_at


def _date(moment):
    return moment.isoformat(timespec="seconds")


def _keywords(snapshot):
    names = {tag["slug"]: tag.get("name", tag["slug"]) for tag in snapshot.get("taxonomy", [])}
    return [names.get(slug, slug) for slug in snapshot.get("tags", [])]


# Words that make a byline a body rather than people ("Standpoint demo desk").
_ORGANISATION_WORDS = {
    "association", "board", "center", "centre", "committee", "council", "department", "desk",
    "editors", "forum", "foundation", "group", "institute", "network", "office", "programme",
    "program", "project", "society", "staff", "team", "university",
}  # fmt: skip


def _authors(byline, site):
    """schema.org authors from a printed byline: an Organization if it names a body, otherwise
    one Person per name ("Ana Kask, Jonas Petraitis and Mari Tamm"); no byline, the site."""
    if not byline.strip():
        return [site]
    if set(re.findall(r"\w+", byline.casefold())) & _ORGANISATION_WORDS:
        return [{"@type": "Organization", "name": byline.strip()}]
    names = [name.strip() for name in re.split(r",|&|\band\b", byline) if name.strip()]
    return [{"@type": "Person", "name": name} for name in names]


def json_ld(data):
    """`data` as a <script type="application/ld+json"> element.

    Django's json_script escapes the same way but writes type="application/json", which search
    engines ignore, and only papers.rendering may mark text safe. So the JSON is composed from
    escaped parts: every string goes through escapejs, which writes quotes, backslashes, <, >, &
    and control characters as \\uXXXX escapes (valid in JSON), so no value can end its string
    or the element (`</script>` becomes `\\u003C/script\\u003E`); format_html joins the parts.
    """
    return format_html('<script type="application/ld+json">{}</script>', _json(data))


def _json(value):
    if isinstance(value, str):
        return format_html('"{}"', escapejs(value))
    if isinstance(value, dict):
        members = format_html_join(", ", "{}: {}", ((_json(k), _json(v)) for k, v in value.items()))
        return format_html("{{{}}}", members)
    if isinstance(value, list | tuple):
        return format_html("[{}]", format_html_join(", ", "{}", ((_json(v),) for v in value)))
    if value is None or isinstance(value, bool | int):
        return format_html("{}", json.dumps(value))
    raise TypeError(f"JSON-LD has no place for {type(value).__name__}")
