"""Forecasts after publication: recording how one turned out, and telling a paper's editors
that one came due. Neither touches a version: resolutions live beside them (papers.forecasts)."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from papers import forecasts, pagecache, permissions, purging
from papers.models import DueNotice, Event, Resolution
from papers.notifications import notify
from papers.workflow.base import NotAllowed, WorkflowError, WrongStage, editors_of, event, lock
from papers.workflow.base import name as actor_name
from papers.workflow.base import text as required_text

log = logging.getLogger(__name__)
MAX_SOURCES = 20
_url = URLValidator(schemes=["http", "https"])


def resolve_forecast(claim, *, by, outcome, note, sources=()):
    """Editors, and reviewers assigned to the paper (how editors ask one), record how a
    published forecast turned out. A later resolution supersedes this one; none is edited."""
    paper = claim.paper
    if by is not None and not permissions.can_resolve_forecast(by, paper):
        permissions.denied(by, "resolve a forecast", claim.public_id)
        raise NotAllowed("Only editors and the paper's reviewers may resolve its forecasts.")
    if outcome not in Resolution.Outcome.values:
        raise WorkflowError(
            f"The outcome must be one of {', '.join(Resolution.Outcome.labels)}, not “{outcome}”."
        )
    note = required_text(note, "The note on what happened")
    sources = clean_sources(sources)
    with transaction.atomic():
        paper = lock(paper)  # resolutions of one paper are recorded one after another
        if not forecasts.published().filter(public_id=claim.public_id, paper=paper).exists():
            raise WrongStage("Only a forecast in a published version of a paper can be resolved.")
        resolution = Resolution.objects.create(
            paper=paper,
            public_id=claim.public_id,
            outcome=outcome,
            note=note,
            sources=sources,
            resolved_by=by,
            resolved_by_name=actor_name(by),
        )
        pagecache.public_changed()
        purging.forecast_resolved(paper, claim.public_id)
        event(
            paper,
            Event.Action.RESOLVE_FORECAST,
            by,
            note=f"forecast {claim.public_id}: {resolution.get_outcome_display()}. {note}",
        )
    return resolution


def clean_sources(sources):
    """[{title, url}] from dicts or lines ("Title https://…", or the address or title alone):
    every address http(s), every source named by something."""
    cleaned = []
    for source in sources:
        if isinstance(source, str):
            source = _from_line(source)
        if not isinstance(source, dict):
            raise WorkflowError("Each source is a title, a URL or both.")
        title = " ".join(str(source.get("title") or "").split())[:300]
        url = str(source.get("url") or "").strip()
        if url:
            try:
                _url(url)
            except ValidationError:
                raise WorkflowError(
                    f"“{url[:100]}” is not a web address (http or https)."
                ) from None
        if not title and not url:
            continue
        cleaned.append({"title": title or url, "url": url})
    if len(cleaned) > MAX_SOURCES:
        raise WorkflowError(f"At most {MAX_SOURCES} sources, please.")
    return cleaned


def _from_line(line):
    words = line.split()
    if words and "://" in words[-1]:
        return {"title": " ".join(words[:-1]).rstrip(" -–—:,|"), "url": words[-1]}
    return {"title": " ".join(words), "url": ""}


def notify_due_forecasts(*, on=None):
    """Write to the editors of each paper whose forecast came due and is unresolved, once per
    forecast and date (the scheduler's job). Returns the forecasts written about."""
    told = []
    for forecast in forecasts.due_unresolved(on=on):
        try:
            with transaction.atomic():
                # The unique notice row is the "once": a second run, here or on another
                # server, fails to insert it and writes nothing.
                DueNotice.objects.create(
                    paper=forecast.paper, public_id=forecast.public_id, due=forecast.due
                )
                notify(
                    "forecast_due", forecast.paper, editors_of(forecast.paper), forecast=forecast
                )
        except IntegrityError:
            continue
        told.append(forecast)
    return told
