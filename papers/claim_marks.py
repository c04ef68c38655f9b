"""Claims marked in rendered section HTML: a <mark> around each claim's words (split where the
words cross other elements) and its numbered reference, found through the same text layer as
quotes (papers.rendering). Marks declare nothing safe: callers hand the result to templates the
way they hand stored section HTML.
"""

import html

from papers.rendering import _normalized, _tokenize, locate_quote, start_tag


def claim_mark(claim, number):
    """What `mark_claims` needs of a working-copy Claim numbered `number`."""
    return {
        "id": claim.public_id,
        "number": number,
        "quote": claim.quote,
        "prefix": claim.prefix,
        "suffix": claim.suffix,
        "kind": claim.kind,
    }


def mark_claims(markup, claims):
    """Wrap each claim's words in <mark> elements and follow each with a numbered reference.

    `claims` are dicts with id, number, quote, prefix and suffix, and kind. A quote that spans
    inline markup (*emphasis*, links) becomes one <mark> per text run, the first carrying the
    claim's anchor id. Returns the HTML and the ids of the claims placed.
    """
    tokens = _tokenize(markup)
    raw = "".join(value for kind, value, _ in tokens if kind == "text")
    text, index = _normalized(raw)
    spans = []
    for claim in claims:
        found = locate_quote(text, claim["quote"], claim.get("prefix", ""), claim.get("suffix", ""))
        if found:
            start, end = found
            spans.append((index[start], index[end - 1] + 1, claim))
    spans.sort(key=lambda span: (span[0], -span[1]))
    cuts = sorted({point for start, end, _ in spans for point in (start, end)})

    out, pos, opened, open_links, pending_refs = [], 0, set(), 0, []
    for kind, value, attrs in tokens:
        if kind == "raw":  # a footnote link: shown, never marked
            out.append(value)
            continue
        if kind == "start":
            out.append(start_tag(value, attrs))
            if value == "a":
                open_links += 1
            continue
        if kind == "end":
            out.append(f"</{value}>")
            if value == "a":
                open_links -= 1
                if not open_links:
                    out.extend(pending_refs)
                    pending_refs.clear()
            continue
        end_of_token = pos + len(value)
        points = [pos, *(c for c in cuts if pos < c < end_of_token), end_of_token]
        for a, b in zip(points, points[1:], strict=False):
            piece = html.escape(value[a - pos : b - pos], quote=False)
            covering = [claim for start, end, claim in spans if start <= a and b <= end]
            if covering and piece.strip():
                for claim in covering:
                    out.append(_mark_tag(claim, first=claim["id"] not in opened))
                    opened.add(claim["id"])
                out.append(piece)
                out.append("</mark>" * len(covering))
            else:
                out.append(piece)
            for start, end, claim in spans:
                if end == b and start < b:
                    ref = _reference(claim)
                    (pending_refs if open_links else out).append(ref)
        pos = end_of_token
    out.extend(pending_refs)
    return "".join(out), [claim["id"] for _, _, claim in spans]


def _mark_tag(claim, *, first):
    """A mark says which claim it belongs to once: the first by its id (`claim-<id>`), the
    others of a claim split by inline markup by `data-claim`; the kind is in the class. Scripts
    and the claim page read the claim from there; its tags and review are in its note."""
    attrs = [("class", f"claim claim--{claim['kind']}")]
    if first:
        attrs.insert(0, ("id", f"claim-{claim['id']}"))
    else:
        attrs.append(("data-claim", claim["id"]))
    return start_tag("mark", attrs)


def _reference(claim):
    """The claim's number after its words, a link to its note (which names the claim's kind
    and number first), as a footnote's number is."""
    ident, number = html.escape(claim["id"]), claim["number"]
    return f'<a class="claim-ref" href="#claim-note-{ident}">{number}</a>'
