"""Re-anchoring claims after an editor changes a section's text.

Each claim is looked for in its section's reader-visible text (`body_text`, without footnote
reference marks: adding a note to a claimed sentence moves no claim), in three steps:

1. exact: `rendering.find_quote` still finds the quote with its prefix/suffix: nothing changes.
2. context: the words are there verbatim but the prefix/suffix no longer fit exactly. The
   occurrence whose surroundings are most like the old prefix/suffix wins, if they are at least
   CONTEXT_MIN alike and clearly better than any other occurrence's; the context is refreshed.
3. fuzzy: the words themselves were edited. Spans of whole words around the quote's length,
   shaped like it (see `_shape`), are compared with `difflib.SequenceMatcher`; the best is taken
   if it is FUZZY_MIN alike and beats every span that does not overlap it by MARGIN. The quote
   becomes the new words, so `text_hash` changes and assessments of the old words show as stale.

A claim flagged as orphaned that any step finds again is "restored" and loses the flag.
Anything else is orphaned: flagged, never deleted, old words kept for the editor to see. We
prefer a false orphan (an editor re-anchors it in a click; publishing is blocked until then)
to a confident wrong anchor (a verdict silently attached to a look-alike sentence).

That click: `suggest` finds the best place for an orphan with the same matcher, looser (an
editor decides, so no margin over look-alikes and a lower floor), and `reattach` anchors the
claim where the editor accepted it.
"""

import re
import string
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from itertools import product

from django.db import transaction
from django.db.models import F

from papers import audit, rendering
from papers.models import Claim, Paper

# 0.75 accepts a typo fix or one changed word in a sentence-long quote (ratios of 0.85-0.97)
# and refuses rewrites; a short quote with a changed word falls below it, rightly, since little
# of it is left.
FUZZY_MIN = 0.75
# Unrelated snippets of English score 0.2 on average and 0.5-0.6 at the 99th percentile
# (measured on our README); a context edited slightly ("Then" -> "then") scores 0.75.
CONTEXT_MIN = 0.7
# Two sentences differing in one word ("... in Estonia." / "... in Latvia.") score within
# 0.02 of each other as matches of a third; a typo fix next to such a look-alike wins by 0.09.
# 0.05 is about two characters of a sentence-long quote.
MARGIN = 0.05
PUNCTUATION = string.punctuation + "“”‘’«»–—…"
CONTEXT_MAX = 200  # the length of the prefix and suffix fields
# An offer to an editor: half alike still names the sentence an edit turned the claim into
# ("Russia has not attacked" -> "Russia has never attacked any member"); below, it is a guess.
SUGGEST_MIN = 0.5


class Outcome(StrEnum):
    EXACT = "exact"
    CONTEXT = "context"
    FUZZY = "fuzzy"
    RESTORED = "restored"
    ORPHANED = "orphaned"


@dataclass(frozen=True)
class Summary:
    counts: dict  # every Outcome -> how many claims had it
    orphans: list  # the claims left orphaned


def reanchor_section(section):
    """Re-anchor the claims of a section just saved; returns [(claim, outcome)]."""
    with transaction.atomic():
        # The related manager hands each claim this very section: no query per claim.
        return _reanchor(list(section.claims.select_for_update(of=("self",))))


def reanchor_paper(paper):
    """Re-anchor every claim of a paper, including those whose section was deleted."""
    with transaction.atomic():
        # Lock the claims (not their sections) so an editor's concurrent change is not lost.
        claims = paper.claims.select_related("section").select_for_update(of=("self",))
        results = _reanchor(list(claims))
    counts = Counter(outcome for _, outcome in results)
    return Summary(
        counts={outcome.value: counts[outcome] for outcome in Outcome},
        orphans=[claim for claim, outcome in results if outcome == Outcome.ORPHANED],
    )


@dataclass(frozen=True)
class Offer:
    """Words of an orphaned claim's section, as it is now, that the claim could be attached to,
    with the context that singles them out, and how alike they are to its old words (0 to 1)."""

    quote: str
    prefix: str
    suffix: str
    similarity: float


def suggest(claim):
    """The best place for an orphaned claim in its section's text as it is now, or None."""
    if claim.section is None:
        return None
    text = claim.section.body_text
    quote, prefix, suffix = (rendering.squash(s) for s in (claim.quote, claim.prefix, claim.suffix))
    if not quote:
        return None
    starts = [match.start() for match in re.finditer(f"(?={re.escape(quote)})", text)]
    if starts:
        # The words are intact: the occurrence in the most alike surroundings, or the first.
        def closeness(start):
            if not (prefix or suffix):
                return 0
            return _context_score(text, start, start + len(quote), prefix, suffix)

        start = max(starts, key=lambda start: (closeness(start), -start))
        similarity, end = 1.0, start + len(quote)
    else:
        best = _best(_similar_spans(text, quote, floor=SUGGEST_MIN), len(quote))
        if best is None:
            return None
        similarity, start, end = best
    context = _minimal_context(text, start, end)
    if context is None:
        return None
    return Offer(text[start:end], *context, similarity=round(similarity, 2))


def reattach(claim, *, quote, prefix="", suffix="", by):
    """An editor attaches a claim to words of its section's text as it is now (usually an offer
    of `suggest`): it is anchored there and no longer orphaned; one Event. Raises
    rendering.QuoteNotFound, changing nothing, unless the words are there exactly once."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("section", "paper")
            .get(pk=claim.pk)
        )
        if claim.section is None:
            raise rendering.QuoteNotFound("The claim's section was deleted: choose another one.")
        text = claim.section.body_text
        start, end = rendering.find_quote(text, quote, prefix, suffix)
        old = claim.quote
        claim.quote = text[start:end]
        claim.prefix, claim.suffix = rendering.squash(prefix), rendering.squash(suffix)
        claim.orphaned = False
        claim.save(update_fields=["quote", "prefix", "suffix", "orphaned", "updated_at"])
        # Like any save of one of its claims, this makes an open form of the paper stale (R28).
        Paper.objects.filter(pk=claim.paper_id).update(lock_version=F("lock_version") + 1)
        audit.record(
            audit.Action.EDIT,
            by=by,
            paper=claim.paper,
            note=f"Claim {claim.public_id} re-attached: “{old}” → “{claim.quote}”",
        )
    return claim


def _reanchor(claims):
    results, changed = [], []
    for claim in claims:
        before = (claim.quote, claim.prefix, claim.suffix, claim.orphaned)
        outcome = _reanchor_claim(claim)
        results.append((claim, outcome))
        if (claim.quote, claim.prefix, claim.suffix, claim.orphaned) != before:
            changed.append(claim)
    if changed:
        # Only these columns: the claim's kind, note, tags and updated_at are the editor's.
        Claim.objects.bulk_update(changed, ["quote", "prefix", "suffix", "orphaned"])
    return results


def _reanchor_claim(claim):
    """Find the claim again, update its fields in memory, and say how it went."""
    found = _match(claim) if claim.section is not None else None
    if found is None:
        claim.orphaned = True  # the quote, prefix and suffix stay as the editor last saw them
        return Outcome.ORPHANED
    outcome, update = found
    if update:
        claim.quote, claim.prefix, claim.suffix = update
    if claim.orphaned:
        claim.orphaned = False
        return Outcome.RESTORED
    return outcome


def _match(claim):
    """(outcome, None or the new (quote, prefix, suffix)), or None if not found or ambiguous."""
    text = claim.section.body_text
    if rendering.locate_quote(text, claim.quote, claim.prefix, claim.suffix):
        return Outcome.EXACT, None
    quote, prefix, suffix = (rendering.squash(s) for s in (claim.quote, claim.prefix, claim.suffix))
    if not quote:
        return None
    # Overlapping occurrences too, as find_quote counts them.
    starts = [match.start() for match in re.finditer(f"(?={re.escape(quote)})", text)]
    if starts:
        # The words are intact; only the context can choose among their occurrences. Without
        # one (no prefix or suffix) there are several occurrences, all equally likely.
        if not (prefix or suffix):
            return None
        spans = [(start, start + len(quote)) for start in starts]
        scored = [(_context_score(text, *span, prefix, suffix), *span) for span in spans]
        span = _pick(scored, CONTEXT_MIN, len(quote))
        outcome = Outcome.CONTEXT
    else:
        span = _pick(_similar_spans(text, quote), FUZZY_MIN, len(quote))
        outcome = Outcome.FUZZY
    if span is None:
        return None
    start, end = span
    context = _minimal_context(text, start, end)
    return (outcome, (text[start:end], *context)) if context else None


def _context_score(text, start, end, prefix, suffix):
    """How alike the old prefix/suffix are to the same length of text around start:end."""
    around = [
        (prefix, text[:start].rstrip()[-len(prefix) :]),
        (suffix, text[end:].lstrip()[: len(suffix)]),
    ]
    scores = [SequenceMatcher(None, old, new, autojunk=False).ratio() for old, new in around if old]
    return sum(scores) / len(scores)


def _similar_spans(text, quote, floor=FUZZY_MIN - MARGIN):
    """[(similarity, start, end)] of word-bounded spans near the quote's length in words,
    shaped like it (starting with a capital and ending a sentence only if the quote does),
    at least `floor` alike. Spans below FUZZY_MIN - MARGIN can neither win a re-anchoring nor
    come within MARGIN of a winner."""
    words, shape = _words(text), _shape(quote)
    wanted = Counter(word.strip(PUNCTUATION).lower() for word in quote.split())
    n = len(quote.split())
    spread = max(2, n // 4)  # room for a few words inserted or dropped
    matcher = SequenceMatcher(None, autojunk=False)  # autojunk would ignore spaces in long quotes
    matcher.set_seq2(quote)  # the matcher caches its analysis of seq2: set it once
    scored = []
    for i, shared in enumerate(_shared_words(words, wanted, n)):
        # ratio() costs ~0.1 ms (quick_ratio() lets almost any English through), so first a
        # cheap test: a span can start here only if half the quote's words follow. A typo or
        # a changed word leaves most of them; an edit that leaves fewer is a rewrite.
        if 2 * shared < n:
            continue
        starts = words[i][0]
        for j in range(i + max(0, n - spread - 1), min(i + n + spread, len(words))):
            for start, end in product(starts, words[j][1]):
                if _shape(text[start:end]) == shape:
                    matcher.set_seq1(text[start:end])
                    scored.append((matcher.ratio(), start, end))
    return [span for span in scored if span[0] >= floor]


def _shared_words(words, wanted, n):
    """For each word, how many of the `wanted` words (a Counter) are among it and the n - 1
    after it: a window slid along the text, so a long section costs one pass, not n."""
    keys = [key for _, _, key in words]
    window = Counter(keys[:n])
    shared = sum(min(window[key], count) for key, count in wanted.items())
    for i in range(len(keys)):
        yield shared
        leaving = keys[i]
        if window[leaving] <= wanted[leaving]:
            shared -= 1
        window[leaving] -= 1
        if i + n < len(keys):
            entering = keys[i + n]
            if window[entering] < wanted[entering]:
                shared += 1
            window[entering] += 1


def _shape(words):
    # Whether it starts with a capital and ends a sentence. Without this, dropping an edited first
    # word scores higher than keeping it: "forces are present in Estonia." is more like "NATO
    # forces are present in Estonia." than "Allied forces are present in Estonia." is.
    return words[0].isupper(), words[-1] in ".!?"


def _words(text):
    """[(starts, ends, key)] of each word; the starts and ends with and without its punctuation,
    so that a span may end on "Estonia" as well as "Estonia,", whichever is more like the quote."""
    words = []
    for match in re.finditer(r"\S+", text):
        start, end, word = match.start(), match.end(), match.group()
        core = word.strip(PUNCTUATION)
        lead = word.index(core) if core else 0
        inner_end = start + lead + len(core) if core else end
        words.append(({start, start + lead}, {end, inner_end}, core.lower()))
    return words


def _best(scored, length):
    """The (score, start, end) scored highest, or None."""
    if not scored:
        return None
    # Among equal scores, prefer the span whose length is closest to the quote's, then the first.
    return max(scored, key=lambda c: (c[0], -abs(c[2] - c[1] - length), -c[1]))


def _pick(scored, minimum, length):
    """The (start, end) of the best candidate if good enough and clearly ahead, else None."""
    if not scored:
        return None
    best, start, end = _best(scored, length)
    if best < minimum:
        return None
    # Spans overlapping the best are the same place shifted by a word, not rivals.
    rivals = [score for score, s, e in scored if e <= start or s >= end]
    if rivals and best - max(rivals) < MARGIN:
        return None
    return start, end


def _minimal_context(text, start, end):
    """The shortest (prefix, suffix) of whole words with which find_quote picks start:end."""
    quote = text[start:end]
    before, after = text[:start].split(), text[end:].split()
    for k in range(max(len(before), len(after)) + 1):
        prefix, suffix = " ".join(before[max(0, len(before) - k) :]), " ".join(after[:k])
        if len(prefix) > CONTEXT_MAX and len(suffix) > CONTEXT_MAX:
            break
        for pair in ((prefix, ""), ("", suffix), (prefix, suffix)):
            fits = all(len(part) <= CONTEXT_MAX for part in pair)
            if fits and rendering.locate_quote(text, quote, *pair) == (start, end):
                return pair
    return None
