"""Typed evidence: how a claim uses each of its sources, in the CiTO vocabulary (Citation Typing
Ontology, http://purl.org/spar/cito/), as readers read it and as the JSON-LD states it.

The uses themselves are `ClaimSource.Use` (papers/models/content.py). A source stored without
one (versions published before uses existed) supports its claim, as attaching it meant then.
"""

from papers.models.sources import ClaimSource

Use = ClaimSource.Use
CITO = "http://purl.org/spar/cito/"
# How the claim note says it, by use: (one source, several sources).
_VERBS = {
    Use.SUPPORTS: ("supports it", "support it"),
    Use.DISPUTES: ("disputes it", "dispute it"),
    Use.QUALIFIES: ("qualifies it", "qualify it"),
    Use.BACKGROUND: ("gives background", "give background"),
}


def use_of(source):
    """The use of a source as stored in a document or snapshot (a dict)."""
    value = source.get("use") or Use.SUPPORTS
    return Use(value) if value in Use.values else Use.SUPPORTS


def with_uses(sources):
    """The sources of a document's claim, each with its use spelt out (for a version's notes)."""
    return [{**source, "use": use_of(source).value} for source in sources]


def summary(sources):
    """How the claim's sources are used, in words: “2 sources support it, 1 qualifies it.”;
    empty when there is none (the note says “No source cited.”)."""
    counts = dict.fromkeys(Use, 0)
    for source in sources:
        counts[use_of(source)] += 1
    parts = []
    for use, count in counts.items():
        if count:
            verb = _VERBS[use][count > 1]
            noun = (" sources" if count > 1 else " source") if not parts else ""
            parts.append(f"{count}{noun} {verb}")
    return ", ".join(parts) + "." if parts else ""


def citations(sources):
    """The sources as schema.org `citation`s of a Claim, each typed with its CiTO property.

    schema.org cannot say how a work is cited, so each citation is a CreativeWork whose
    `additionalType` (which takes an external vocabulary's IRI) is the CiTO property: a
    consumer that knows CiTO reads the use, one that does not still gets the citation. The
    terms are the ones fact-checkers name (the source supports, disputes or qualifies the
    claim; the claim cites it as background), not an RDF statement with the claim as subject.
    """
    cited = []
    for source in sources:
        work = {
            "@type": "CreativeWork",
            "name": source.get("title", ""),
            "additionalType": CITO + use_of(source).cito,
        }
        for key, name in (("url", "url"), ("publisher", "publisher"), ("date", "datePublished")):
            if source.get(key):
                work[name] = source[key]
        if "publisher" in work:
            work["publisher"] = {"@type": "Organization", "name": work["publisher"]}
        cited.append(work)
    return cited
