"""What changed between two snapshots: two published versions, for readers; a published version
or a review round's text and the working draft, for editors. Pure functions over two documents.

The result is data, never HTML: word differences are lists of (op, text) tokens, op one of
"equal", "insert", "delete" or "skip" (a long unchanged stretch left out). The template writes
them as <ins>/<del> with autoescaping on, so user text can never become markup.
"""

from difflib import SequenceMatcher

from papers import rendering, verdicts
from papers.models import Claim

CONTEXT = 12  # unchanged words kept on each side of a change in a section's text
KIND_LABELS = dict(Claim.Kind.choices)
UNCHECKED = {"status": "unchecked", "label": verdicts.STATUSES["unchecked"]["label"]}


def compare(old, new, *, reviews=True):
    """Everything a reader needs to see between snapshot `old` and snapshot `new`.

    Returns {"summary": [phrases], "groups": [{"title", "noun", "items", "unchanged"}]}; each
    item has a title, change labels, notes in words, review statuses before and after, and
    "parts" (a label and word tokens). `reviews=False` leaves review statuses out, for
    documents that do not carry them (a review round's text, a working draft).
    """
    paper = _paper_items(old, new)
    sections, sections_unchanged = _section_items(old["sections"], new["sections"])
    headings = {s["anchor"]: s["heading"] for s in [*old["sections"], *new["sections"]]}
    tag_names = {
        tag["slug"]: tag.get("name", tag["slug"])
        for tag in [*old.get("taxonomy", []), *new.get("taxonomy", [])]
    }
    claims, claims_unchanged = _claim_items(
        old.get("claims", []),
        new.get("claims", []),
        {"headings": headings, "tag_names": tag_names, "reviews": reviews},
    )
    groups = [
        {"title": "Title and summary", "noun": "", "items": paper, "unchanged": 0},
        {
            "title": "Sections",
            "noun": "section",
            "items": sections,
            "unchanged": sections_unchanged,
        },
        {"title": "Claims", "noun": "claim", "items": claims, "unchanged": claims_unchanged},
    ]
    return {"summary": _summary(paper, sections, claims), "groups": groups}


def word_diff(old, new, *, context=None):
    """Word-level differences between two plain texts, as (op, text) tokens.

    With `context`, unchanged runs longer than twice that keep only `context` words next to
    each change, the rest shown as one "skip" token.
    """
    a, b = old.split(), new.split()
    tokens = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            tokens.extend(_equal(a[i1:i2], context, first=i1 == 0, last=i2 == len(a)))
        if tag in ("delete", "replace"):
            tokens.append(("delete", " ".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            tokens.append(("insert", " ".join(b[j1:j2])))
    return tokens


def _equal(words, context, *, first, last):
    keep_before = 0 if first else context  # words kept after the previous change
    keep_after = 0 if last else context  # words kept before the next change
    if context is None or len(words) <= keep_before + keep_after + 1:
        return [("equal", " ".join(words))]
    head, tail = words[:keep_before], words[len(words) - keep_after :]
    return [
        *([("equal", " ".join(head))] if head else []),
        ("skip", "…"),
        *([("equal", " ".join(tail))] if tail else []),
    ]


def section_text(body):
    """A section's reader-visible text: what claims are matched in, and what we compare."""
    return rendering.html_to_text(rendering.render_markdown(body))


def _item(title, changes, **extra):
    return {"title": title, "changes": changes, "notes": [], "review": None, "parts": [], **extra}


def _paper_items(old, new):
    items = []
    if old.get("title", "") != new.get("title", ""):
        item = _item("Title", ["edited"])
        item["parts"].append(("Title", word_diff(old.get("title", ""), new.get("title", ""))))
        items.append(item)
    if old.get("standfirst", "") != new.get("standfirst", ""):
        item = _item("Summary under the title", ["edited"])
        tokens = word_diff(section_text(old.get("standfirst")), section_text(new.get("standfirst")))
        item["parts"].append(("Summary", tokens))
        items.append(item)
    return items


def _section_items(old_sections, new_sections):
    """Sections matched by anchor, in the new version's order, removed ones where they were."""
    old_at = {s["anchor"]: n for n, s in enumerate(old_sections, 1)}
    new_at = {s["anchor"]: n for n, s in enumerate(new_sections, 1)}
    kept_old = [s["anchor"] for s in old_sections if s["anchor"] in new_at]
    kept_new = [s["anchor"] for s in new_sections if s["anchor"] in old_at]
    # A section moved if its order relative to the others changed: the longest run of kept
    # sections in the same order stays put, so one insertion does not "move" everything after.
    matcher = SequenceMatcher(None, kept_old, kept_new, autojunk=False)
    in_order = {kept_old[b.a + k] for b in matcher.get_matching_blocks() for k in range(b.size)}
    old_by_anchor = {s["anchor"]: s for s in old_sections}

    items, unchanged = [], 0
    for section in new_sections:
        anchor = section["anchor"]
        if anchor not in old_at:
            item = _item(section["heading"], ["added"], anchor=anchor)
            item["parts"].append(("Text", [("insert", section_text(section["body"]))]))
            items.append(item)
            continue
        item = _compare_section(old_by_anchor[anchor], section)
        if anchor not in in_order:
            item["changes"].append("moved")
            item["notes"].append(f"Moved from position {old_at[anchor]} to {new_at[anchor]}.")
        if item["changes"]:
            items.append(item)
        else:
            unchanged += 1
    for section in old_sections:
        if section["anchor"] not in new_at:
            item = _item(section["heading"], ["removed"])
            item["notes"].append(f"It was section {old_at[section['anchor']]}.")
            item["parts"].append(("Text", [("delete", section_text(section["body"]))]))
            items.append(item)
    return items, unchanged


def _compare_section(old, new):
    item = _item(new["heading"], [], anchor=new["anchor"])
    if old["heading"] != new["heading"]:
        item["parts"].append(("Heading", word_diff(old["heading"], new["heading"])))
    # Identical Markdown renders identically: only changed bodies are rendered and compared.
    if old["body"] != new["body"]:
        before, after = section_text(old["body"]), section_text(new["body"])
        if before != after:
            item["parts"].append(("Text", word_diff(before, after, context=CONTEXT)))
    if item["parts"]:
        item["changes"].append("edited")
    return item


def _claim_items(old_claims, new_claims, names):
    """Claims matched by their public id, in the new version's reading order. `names` holds
    the section headings and tag names by anchor and slug, and whether to compare reviews."""
    old_by_id = {c["id"]: c for c in old_claims}
    new_ids = {c["id"] for c in new_claims}
    items, unchanged = [], 0
    for claim in new_claims:
        before = old_by_id.get(claim["id"])
        if before is None:
            item = _claim_item(claim, ["added"], names)
            item["parts"].append(("Words", [("equal", claim["quote"])]))
            items.append(item)
            continue
        item = _compare_claim(before, claim, names)
        if item["changes"]:
            items.append(item)
        else:
            unchanged += 1
    for claim in old_claims:
        if claim["id"] not in new_ids:
            item = _claim_item(claim, ["removed"], names)
            item["parts"].append(("Words", [("equal", claim["quote"])]))
            items.append(item)
    return items, unchanged


def _claim_item(claim, changes, names):
    section = names["headings"].get(claim.get("section", ""), "")
    return _item("Claim", changes, id=claim["id"], section=section)


def _compare_claim(old, new, names):
    item = _claim_item(new, [], names)
    if rendering.squash(old["quote"]) != rendering.squash(new["quote"]):
        item["changes"].append("reworded")
        item["parts"].append(("Words", word_diff(old["quote"], new["quote"])))
    else:
        item["parts"].append(("Words", [("equal", new["quote"])]))
    if old.get("kind") != new.get("kind"):
        item["changes"].append("reclassified")
        was, now = (KIND_LABELS.get(c.get("kind"), c.get("kind")) for c in (old, new))
        item["notes"].append(f"Kind of claim: was {was}, now {now}.")
    was, now = sorted(old.get("tags", [])), sorted(new.get("tags", []))
    if was != now:
        item["changes"].append("re-tagged")
        tag_names = names["tag_names"]
        was, now = (", ".join(tag_names.get(s, s) for s in tags) or "none" for tags in (was, now))
        item["notes"].append(f"Tags: were {was}, now {now}.")
    if not names["reviews"]:
        return item
    was, now = _review(old), _review(new)
    # Wording differs between kinds and over time; a new label is a re-assessment only when
    # it says something else (verdicts.finding).
    if verdicts.finding(was["status"], was["label"]) != verdicts.finding(
        now["status"], now["label"]
    ):
        item["changes"].append("re-assessed")
        item["review"] = {"old": was, "new": now}
    return item


def _review(claim):
    review = claim.get("review") or UNCHECKED
    return {"status": review.get("status", "unchecked"), "label": review.get("label", "")}


SUMMARY = [
    ("section", "added"),
    ("section", "removed"),
    ("section", "moved"),
    ("section", "edited"),
    ("claim", "added"),
    ("claim", "removed"),
    ("claim", "reworded"),
    ("claim", "reclassified"),
    ("claim", "re-tagged"),
    ("claim", "re-assessed"),
]


def _summary(paper, sections, claims):
    """Phrases such as "3 sections edited", in a fixed order; nothing for what did not change."""
    phrases = [f"{item['title'].lower()} edited" for item in paper]
    for noun, change in SUMMARY:
        items = sections if noun == "section" else claims
        n = sum(change in item["changes"] for item in items)
        if n:
            phrases.append(f"{n} {noun}{'' if n == 1 else 's'} {change}")
    return phrases
