"""Rounds that build on the last, as the review workspace shows them.

What changed in the draft since a round: each section's text and each claim's words, compared
with the Round snapshots (the draft as each round began). A reviewer compares with the round they
last reviewed and, if it has changed since, with the current round as it began; an editor with
the previous round and the current one. And where the viewer's open review stands: the verdicts
carried from earlier rounds and not yet confirmed, and the first claim that needs attention.

Everything here works on rows the workspace has already read, plus one query for the snapshots
and one for the viewer's own verdicts: nothing costs a query per claim or per section.
"""

import functools

from django.db.models import F

from papers import diffing, rendering
from papers.models import Assessment, Round


class Baseline:
    """The draft as round `number` began, indexed for comparison (None where no snapshot was
    kept: rounds opened before snapshots were recorded)."""

    def __init__(self, number, label, snapshot, *, own_round=False):
        self.number, self.label, self.own_round = number, label, own_round
        self.known = snapshot is not None
        snapshot = snapshot or {}
        self.sections = {s["anchor"]: s for s in snapshot.get("sections", [])}
        self.claims = {c["id"]: c["quote"] for c in snapshot.get("claims", [])}

    def section_text(self, anchor):
        """The reader-visible text of the section as it was."""
        return _section_text(self.sections[anchor]["body"])


def baselines(paper, *, last_round, reviewed, in_review):
    """The rounds the viewer compares the draft with, oldest first: `last_round` (the round
    they last reviewed if `reviewed`, else the previous one; None if there is none) and the
    current round."""
    wanted = [n for n in (last_round, paper.round) if n]
    if not wanted:
        return []
    snapshots = dict(
        Round.objects.filter(paper=paper, number__in=wanted)
        .order_by()
        .values_list("number", "snapshot")
    )
    found = []
    if last_round:
        label = f"since {'your review of ' if reviewed else ''}round {last_round}"
        found.append(Baseline(last_round, label, snapshots.get(last_round), own_round=reviewed))
    if paper.round and paper.round != last_round:
        label = f"since round {paper.round} {'began' if in_review else 'was submitted'}"
        found.append(Baseline(paper.round, label, snapshots.get(paper.round)))
    return found


def _section_text(body):
    """The text of a section as a snapshot has it. A snapshot never changes: the text is
    rendered once per process, for sections up to 20,000 characters (at most 256 of them, so
    the memory it takes stays small whatever the sections' length)."""
    if len(body) > 20_000:
        return diffing.section_text(body)
    return _remembered_section_text(body)


_remembered_section_text = functools.lru_cache(maxsize=256)(diffing.section_text)


def section_changes(section, bases):
    """How the section differs from each baseline: [{"label", "new", "heading", "text"}]."""
    changes = []
    for base in bases:
        if not base.known:
            continue
        old = base.sections.get(section.anchor)
        if old is None:
            changes.append({"label": f"New section {base.label}", "new": True})
        else:
            changes.append(_section_edit(base, old, section))
    return _distinct(changes)


def _section_edit(base, old, section):
    heading = None
    if old["heading"] != section.heading:
        heading = diffing.word_diff(old["heading"], section.heading)
    text = None
    if old["body"] != section.body:
        before = base.section_text(section.anchor)
        if before != section.body_text:
            text = diffing.word_diff(before, section.body_text, context=diffing.CONTEXT)
    if heading is None and text is None:
        return None
    return {"label": f"Edited {base.label}", "new": False, "heading": heading, "text": text}


def claim_changes(claim, bases, own_texts):
    """How the claim's words differ from each baseline: [{"label", "new", "words"}]. The old
    words are those the viewer assessed in that round (`own_texts`, by round number), or else
    the round's snapshot; a claim missing from a snapshot is new since that round."""
    changes = []
    quote = rendering.squash(claim.quote)
    for base in bases:
        old = own_texts.get(base.number) if base.own_round else None
        if old is None:
            old = base.claims.get(claim.public_id)
        if old is None:
            changes.append({"label": f"New {base.label}", "new": True} if base.known else None)
        elif rendering.squash(old) != quote:
            words = diffing.word_diff(old, claim.quote)
            changes.append({"label": f"Reworded {base.label}", "new": False, "words": words})
        else:
            changes.append(None)
    return _distinct(changes)


def _distinct(changes):
    """The changes found, without an earlier one that a later baseline shows alike: when
    everything changed during the current round, saying so is the more precise."""
    kept = []
    for change in changes:
        if change is None:
            continue
        if kept and _same(kept[-1], change):
            kept.pop()
        kept.append(change)
    return kept


def _same(a, b):
    return {k: v for k, v in a.items() if k != "label"} == {
        k: v for k, v in b.items() if k != "label"
    }


def progress(own, ordered, part_of):
    """Where the viewer's open review stands, over the whole paper: how many verdicts carried
    from earlier rounds wait for confirmation, and the first claim in reading order that needs
    attention: no verdict that counts (coverage's rule: given or confirmed in this round on the
    claim's current words), whether none, a carried one, or one on words since reworded.

    `ordered` is [(number, claim)] in reading order; `part_of` maps claim pk to its part."""
    if own is None:
        return {"carried": 0, "attention": None, "attention_total": 0}
    current = dict(
        Assessment.objects.filter(review=own, claim_text=F("claim__quote")).values_list(
            "claim_id", "carried_from"
        )
    )
    counted = {pk for pk, carried_from in current.items() if carried_from is None}
    waiting = [(n, c) for n, c in ordered if c.pk not in counted]
    attention = None
    if waiting:
        number, claim = waiting[0]
        attention = {"number": number, "id": claim.public_id, "part": part_of[claim.pk]}
    carried = len(current) - len(counted)
    return {"carried": carried, "attention": attention, "attention_total": len(waiting)}
