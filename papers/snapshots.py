"""A paper's working copy as a document, and a document rendered as a version's body."""

from django.db.models import Prefetch
from django.template.loader import render_to_string

from papers import claim_marks, evidence, rendering, verdicts
from papers.models import Assessment, Claim, Review, Version
from papers.models.sources import ClaimSource


def unsaved_version(paper, *, number, with_review, **fields):
    """The working copy as an unsaved Version numbered `number`: what publishing saves, and
    what the draft preview shows as the paper page would show it if it were published now."""
    document = paper_document(paper, with_review=with_review)
    body_html, toc, claim_count = render_body(document)
    return Version(
        paper=paper,
        number=number,
        title=paper.title,
        standfirst_html=rendering.render_markdown(paper.standfirst, anchor=paper.notes_anchor),
        byline=paper.byline,
        snapshot=document,
        body_html=body_html,
        toc=toc,
        claim_count=claim_count,
        **fields,
    )


def paper_document(paper, *, with_review=False):
    """The paper as it stands now, in the interchange format of `papers.documents`.

    with_review adds each checked claim's review status, as frozen into a published version.
    """
    sections = list(paper.sections.all())
    cited = Prefetch("claimsource_set", queryset=ClaimSource.objects.select_related("source"))
    claims = paper.claims.select_related("section").prefetch_related("tags", cited)
    if with_review:
        submitted = Assessment.objects.filter(
            review__status=Review.Status.SUBMITTED
        ).select_related("review", "claim")
        claims = claims.prefetch_related(Prefetch("assessments", queryset=submitted))
    claims = list(claims.order_by("pk"))
    claims.sort(key=_reading_order)
    used_tags = {tag.slug: tag for tag in paper.tags.all()}
    for claim in claims:
        used_tags.update((tag.slug, tag) for tag in claim.tags.all())
    return {
        "title": paper.title,
        "slug": paper.slug,
        "standfirst": paper.standfirst,
        "authors": paper.byline,
        "tags": sorted(tag.slug for tag in paper.tags.all()),
        "taxonomy": [
            _compact({"slug": t.slug, "name": t.name, "description": t.description})
            for _, t in sorted(used_tags.items())
        ],
        "sections": [{"heading": s.heading, "anchor": s.anchor, "body": s.body} for s in sections],
        "claims": [_claim(claim, with_review) for claim in claims],
    }


def _reading_order(claim):
    if claim.section is None:
        return (float("inf"), 0)
    return (claim.section.position, (claim.locate() or (0, 0))[0])


def _claim(claim, with_review=False):
    # The label is frozen with the version, in the words of its day (see verdicts.WORDING).
    review = verdicts.summarize(claim.assessments.all(), claim.kind) if with_review else None
    if review and review["status"] == "unchecked":
        review = None
    return _compact(
        {
            "id": claim.public_id,
            "section": claim.section.anchor if claim.section else "",
            "quote": claim.quote,
            "prefix": claim.prefix,
            "suffix": claim.suffix,
            "kind": claim.kind,
            "tags": sorted(tag.slug for tag in claim.tags.all()),
            "note": claim.note,
            "due": claim.due.isoformat() if claim.due else "",
            "resolves_when": claim.resolves_when,
            "sources": [
                _compact(
                    {
                        "title": s.title,
                        "url": s.url,
                        "publisher": s.publisher,
                        "date": s.date.isoformat() if s.date else "",
                        "quote": s.quote,
                        "use": use,  # always written: fact-checkers should not need a default
                    }
                )
                for s, use in sorted(
                    ((c.source, c.use) for c in claim.claimsource_set.all()),
                    key=lambda pair: (pair[0].title, pair[0].pk),
                )
            ],
            "review": review,
        }
    )


def _compact(mapping):
    """Leave out empty optional fields so exports stay readable; importers treat them as empty."""
    return {key: value for key, value in mapping.items() if value not in ("", [], None)}


def numbered_claims(document):
    """(number, section, claim) in reading order: the numbering readers see in a version."""
    number = 0
    for section in document["sections"]:
        for claim in document.get("claims", []):
            if claim.get("section") == section["anchor"]:
                number += 1
                yield number, section, claim


def render_body(document):
    """Sections with marked, numbered claims and their notes: the HTML stored in a version."""
    tag_names = {tag["slug"]: tag["name"] for tag in document.get("taxonomy", [])}
    kinds = dict(Claim.Kind.choices)
    by_section = {}
    for number, section, claim in numbered_claims(document):
        by_section.setdefault(section["anchor"], []).append(
            {
                **claim,
                "number": number,
                "kind_label": kinds.get(claim["kind"], claim["kind"]),
                "tag_list": [(slug, tag_names.get(slug, slug)) for slug in claim.get("tags", [])],
                "note_html": rendering.render_plain(claim.get("note", "")),
                "sources": evidence.with_uses(claim.get("sources", [])),
            }
        )
    sections = []
    for section in document["sections"]:
        claims = by_section.get(section["anchor"], [])
        markup = rendering.render_markdown(section["body"], anchor=section["anchor"])
        html, _ = claim_marks.mark_claims(markup, claims)
        sections.append({**section, "html": rendering.stored_html(html), "claims": claims})
    body = render_to_string("papers/_version_body.html", {"sections": sections})
    toc = [{"anchor": s["anchor"], "heading": s["heading"]} for s in document["sections"]]
    return body, toc, sum(len(claims) for claims in by_section.values())
