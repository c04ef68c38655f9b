"""The forecasts page (every published forecast and the track record) and the form on which
editors, or reviewers they asked, record how one turned out."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from papers import forecasts, permissions, workflow
from papers.models import Resolution, Tag

FORECASTS_PER_PAGE = 30
FILTERS = ("paper", "tag", "outcome")


@require_safe
def forecast_list(request):
    # Not kept in the page cache: a forecast becomes due when its day passes, with no change
    # to any row that would move the cache on.
    chosen = {key: request.GET.get(key, "").strip() for key in FILTERS}
    catalogue, per_paper = forecasts.track_record()
    tags = list(Tag.objects.filter(version_claims__in=forecasts.published()).distinct())
    problems = _unknown_filters(chosen, per_paper, tags)
    found = forecasts.published()
    if problems:
        found = found.none()
    if chosen["paper"]:
        found = found.filter(paper__slug=chosen["paper"])
    if chosen["tag"]:
        found = found.filter(tags__slug=chosen["tag"])
    if chosen["outcome"]:
        found = forecasts.in_state(found, chosen["outcome"])
    heavy = ("snapshot", "body_html", "standfirst_html", "toc")
    found = (
        found.select_related("version", "paper")
        .defer(*(f"version__{field}" for field in heavy))
        .prefetch_related("tags")
        .order_by(F("due").asc(nulls_last=True), "paper__slug", "number")
    )
    page = Paginator(found, FORECASTS_PER_PAGE).get_page(request.GET.get("page"))
    standing = forecasts.current_resolutions(item.public_id for item in page)
    for item in page:
        item.resolution = standing.get(item.public_id)
        item.state = forecasts.state_of(item.outcome, item.due)
        item.state_label = forecasts.STATE_LABELS[item.state]
    paper_record = next((r for r in per_paper if r.slug == chosen["paper"]), None)
    context = {
        "page": page,
        "chosen": chosen,
        "problems": problems,
        "filtered": any(chosen.values()),
        "tags": tags,
        "states": forecasts.STATES,
        "catalogue": catalogue,
        "per_paper": per_paper,
        "record": paper_record or catalogue,
        "chart": forecasts.chart(paper_record or catalogue),
    }
    return render(request, "papers/forecast_list.html", context)


def _unknown_filters(chosen, per_paper, tags):
    """What the page says instead of a 404 when a filter names nothing published."""
    problems = []
    if chosen["paper"] and chosen["paper"] not in {record.slug for record in per_paper}:
        problems.append("No published paper with forecasts has this address.")
    if chosen["tag"] and chosen["tag"] not in {tag.slug for tag in tags}:
        problems.append("No published forecast has this tag.")
    if chosen["outcome"] and chosen["outcome"] not in forecasts.STATE_LABELS:
        problems.append("There is no such outcome.")
    return problems


class ResolutionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Resolution.Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=workflow.MAX_TEXT,
        help_text="What happened, and why it settles the forecast this way. Readers see it.",
    )
    sources = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: a title followed by its web address, or the address alone.",
    )

    def clean_sources(self):
        # Each line is read by the workflow (resolve_forecast), which checks the addresses.
        return [line for line in self.cleaned_data["sources"].splitlines() if line.strip()]


@login_required
@require_http_methods(["GET", "POST"])
def resolve(request, public_id):
    forecast = get_object_or_404(
        forecasts.published().select_related("paper", "version"), public_id=public_id
    )
    if not permissions.can_resolve_forecast(request.user, forecast.paper):
        permissions.denied(request.user, "resolve a forecast", public_id)
        raise PermissionDenied
    form = ResolutionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.resolve_forecast(forecast, by=request.user, **form.cleaned_data)
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The resolution is recorded; readers see it now.")
            return redirect("papers:claim", public_id)
    context = {
        "forecast": forecast,
        "paper": forecast.paper,
        "form": form,
        "history": forecasts.history(public_id),
    }
    return render(request, "papers/forecast_resolve.html", context)
