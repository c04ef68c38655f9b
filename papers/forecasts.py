"""Published forecasts: which are open, due or resolved, how each turned out, and the track
record of the catalogue and of each paper.

A forecast is a predictive claim of a live version (VersionClaim, kind "predictive"). It is
*resolved* once a Resolution names its public id (the latest one stands), *due* when its date
has passed without one, and *open* otherwise, a forecast without a date included.
"""

import re
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from papers import rendering
from papers.models import Claim, Resolution, VersionClaim

Outcome = Resolution.Outcome
OPEN, DUE = "open", "due"
# Every state a forecast can be in, in the order the track record lists them.
STATES = [(OPEN, "Open"), (DUE, "Due, not yet resolved"), *Outcome.choices]
STATE_LABELS = dict(STATES)


def today():
    return timezone.localdate()


def published():
    """The forecasts of live, listed versions, each with its current outcome (or None)."""
    latest = Resolution.objects.filter(public_id=OuterRef("public_id")).order_by(
        "-resolved_at", "-pk"
    )
    return (
        VersionClaim.objects.listed()
        .filter(kind=Claim.Kind.PREDICTIVE)
        .annotate(outcome=Subquery(latest.values("outcome")[:1]))
    )


def in_state(forecasts, state, *, on=None):
    """`forecasts` (from `published`) narrowed to one state of STATES."""
    on = on or today()
    if state == OPEN:
        return forecasts.filter(Q(due__isnull=True) | Q(due__gt=on), outcome__isnull=True)
    if state == DUE:
        return forecasts.filter(due__lte=on, outcome__isnull=True)
    return forecasts.filter(outcome=state)


def state_of(outcome, due, *, on=None):
    if outcome:
        return outcome
    return DUE if due is not None and due <= (on or today()) else OPEN


def due_unresolved(*, on=None):
    """Forecasts whose date has passed with no resolution, oldest date first."""
    return in_state(published(), DUE, on=on).select_related("paper").order_by("due", "pk")


@dataclass
class Record:
    """Counts per state of a set of forecasts, in STATES order."""

    title: str = ""
    slug: str = ""
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATE_LABELS, 0))

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def rows(self):
        """(state, label, count) for the table and the chart."""
        return [(state, label, self.counts[state]) for state, label in STATES]

    @property
    def largest(self):
        return max(self.counts.values(), default=0)


def track_record(*, on=None):
    """(the catalogue's Record, [each paper's Record, by title]) in one query."""
    on = on or today()
    catalogue, papers = Record(title="All papers"), {}
    rows = published().values_list("paper_id", "paper__slug", "version__title", "outcome", "due")
    for paper_id, slug, title, outcome, due in rows:
        state = state_of(outcome, due, on=on)
        catalogue.counts[state] += 1
        papers.setdefault(paper_id, Record(title=title, slug=slug)).counts[state] += 1
    return catalogue, sorted(papers.values(), key=lambda record: record.title.casefold())


def current_resolutions(public_ids):
    """{public id: its standing Resolution} for these forecasts, in one query."""
    found = Resolution.objects.current().filter(public_id__in=list(public_ids))
    return {resolution.public_id: resolution for resolution in found}


def history(public_id):
    """Every resolution recorded for a forecast, newest first: the first one stands."""
    return list(Resolution.objects.filter(public_id=public_id).order_by("-resolved_at", "-pk"))


# The track record's bar chart: one bar per state, drawn on the server (no script).
CHART_WIDTH, BAR_HEIGHT, BAR_GAP, LABEL_WIDTH = 360, 18, 8, 170


def chart(record):
    """The geometry of `record`'s bar chart: its size and one bar per state, scaled to the
    largest count. The table beside it carries the same figures."""
    room = CHART_WIDTH - LABEL_WIDTH - 40
    largest = record.largest or 1
    bars = []
    for n, (state, label, count) in enumerate(record.rows):
        y = n * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            {
                "state": state,
                "label": label,
                "count": count,
                "y": y,
                "text_y": y + BAR_HEIGHT - 5,
                "width": round(room * count / largest) if count else 0,
                "count_x": LABEL_WIDTH + (round(room * count / largest) if count else 0) + 6,
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": len(bars) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "bars": bars,
    }


def outcomes_in(version):
    """{public id: standing Resolution} for the forecasts of one version: one query, none for a
    version without forecasts (its snapshot says which claims are)."""
    ids = [
        claim["id"]
        for claim in version.snapshot.get("claims", [])
        if claim.get("kind") == Claim.Kind.PREDICTIVE
    ]
    return current_resolutions(ids) if ids else {}


def with_outcomes(body_html, outcomes):
    """A version's stored body with each resolved forecast's outcome at the end of its claim's
    note, before its link back to the text. The stored body is never changed: this is how it
    is shown today."""
    for public_id, resolution in outcomes.items():
        opening = re.search(rf'<li id="claim-note-{re.escape(public_id)}"[^>]*>', body_html)
        end = _closing_li(body_html, opening.end()) if opening else None
        if end is not None:
            # Before the note's last link, back to the text, where there is one.
            back = body_html.rfind(f' <a href="#claim-{public_id}">', opening.end(), end)
            end = back if back != -1 else end
            fragment = render_to_string("papers/_forecast_outcome.html", {"resolution": resolution})
            body_html = body_html[:end] + fragment + body_html[end:]
    return rendering.stored_html(body_html)


def _closing_li(html, start):
    """Where the list item open at `start` closes (a note may hold lists of its own)."""
    depth = 1
    for tag in re.finditer(r"<(/?)li\b", html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return start + tag.start()
    return None


def for_export(outcomes):
    """Resolutions as the Markdown export's front matter carries them, by claim id."""
    return [
        {
            "claim": resolution.public_id,
            "outcome": resolution.outcome,
            "note": resolution.note,
            "sources": resolution.sources,
            "resolved_by": resolution.resolved_by_name,
            "resolved_at": resolution.resolved_at.isoformat(timespec="seconds"),
        }
        for resolution in sorted(outcomes.values(), key=lambda r: r.public_id)
    ]
