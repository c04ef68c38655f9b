"""The editor's desk in the admin: a paper's page shows an outline of its sections (each edited on
its own page, papers/admin/sections.py) and a compact list of its claims instead of a form for
each, so it costs the same few queries whatever the paper's length; orphaned claims come first,
each with the best re-attachment found in its section's text, accepted in one click.

Reordering sections and re-attaching a claim are POSTs to URLs of their own, behind the admin's
login, editor check and CSRF protection; each writes an Event.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from papers import anchoring, audit, outline, rendering, workflow
from papers.models import Claim, Paper

# Finding an offer reads the section's text once more (a few milliseconds for a section of a
# few thousand words): the page offers this many, and lists the other orphans with a link.
OFFERS_SHOWN = 10


def offers(orphans, limit=OFFERS_SHOWN):
    """[(claim, anchoring.Offer or None, whether it was looked for)] for orphaned claims whose
    section's text is loaded."""
    return [
        (claim, anchoring.suggest(claim), True) if n < limit else (claim, None, False)
        for n, claim in enumerate(orphans)
    ]


def record_content_edit(request, paper, *, what):
    """After a save of a paper's reviewable content, in its transaction: tell the workflow (an
    approved paper goes back in review), and the editor if it did."""
    was = paper.stage
    paper = workflow.record_edit(paper, by=request.user, what=what)
    if was == Paper.Stage.APPROVED and paper.stage != was:
        messages.warning(
            request, "The change puts the approved paper back in review: it must be approved again."
        )
    return paper


class DeskAdminMixin:
    """For PaperAdmin: the outline, the claim list and the orphans' offers of the paper's page,
    and the URL that reorders its sections."""

    def get_urls(self):
        opts = self.model._meta
        reorder = path(
            "<path:object_id>/sections/order/",
            self.admin_site.admin_view(require_POST(self.reorder_view)),
            name=f"{opts.app_label}_{opts.model_name}_reorder",
        )
        return [reorder, *super().get_urls()]

    def desk_context(self, request, paper):
        """What the paper's page shows besides its form."""
        plan = outline.outline(paper)
        _label_for_the_page(plan)
        return {
            "outline": plan,
            "orphan_offers": offers(plan.orphans),
            "reorder_url": reverse("admin:papers_paper_reorder", args=[paper.pk]),
            "add_section_url": reverse("admin:papers_section_add") + f"?paper={paper.pk}",
        }

    def reorder_view(self, request, object_id):
        paper = self.get_object(request, unquote(object_id))
        if paper is None:
            raise Http404("No such paper.")
        if not self.has_change_permission(request, paper):
            raise PermissionDenied
        back = reverse("admin:papers_paper_change", args=[paper.pk]) + "#outline"
        try:
            places = _places(request.POST)
        except ValueError:
            self.message_user(
                request,
                "Positions are whole numbers from 1: the order was not changed.",
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        with transaction.atomic():
            if "move" in request.POST:
                pk, _, direction = request.POST["move"].partition(":")
                step = -1 if direction == "up" else 1
                moved = pk.isdigit() and outline.step(paper, int(pk), step)
            else:
                moved = outline.reorder(paper, places)
            if moved:
                audit.record(
                    audit.Action.EDIT, by=request.user, paper=paper, note="sections reordered"
                )
                record_content_edit(request, paper, what="the order of its sections")
        if moved:
            self.message_user(request, "The sections' new order is saved.", messages.SUCCESS)
        return HttpResponseRedirect(back)


KINDS = dict(Claim.Kind.choices)
CLAIM_ROW = (
    '<tr><td class="desk-number">{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
    "<td>{}</td><td>In its section</td></tr>"
)
ORPHAN_ROW = (
    '<tr class="desk-orphan"><td class="desk-number">{}</td><td><a href="{}">{}</a></td>'
    "<td>{}</td><td>{}</td><td>{}</td><td><strong>Orphaned</strong></td></tr>"
)


def _label_for_the_page(plan):
    """Each section's link and short label, and the rows of the claim list, made here rather
    than by template tags and filters row by row: for 600 claims a template loop takes about
    150 ms, this a few. format_html escapes every value."""
    # The admin's change URLs are its changelist's address followed by "<pk>/change/".
    sections = reverse("admin:papers_section_changelist")
    claims = reverse("admin:papers_claim_changelist")
    for row in plan.sections:
        section = row.section
        section.admin_url = f"{sections}{section.pk}/change/"
        heading = section.heading
        section.label = heading if len(heading) <= 40 else heading[:39] + "…"
    plan.claim_rows = format_html_join(
        "\n",
        "{}",
        (
            (
                format_html(
                    ORPHAN_ROW if claim.is_orphan else CLAIM_ROW,
                    claim.number,
                    f"{claims}{claim.pk}/change/",
                    claim,  # its quote, shortened
                    KINDS[claim.kind],
                    getattr(claim.section, "label", "—"),
                    claim.status["label"],
                ),
            )
            for claim in plan.claims
        ),
    )


def _places(data):
    """{section pk: place} from the outline's position fields; ValueError if one is not a
    whole number from 1."""
    places = {}
    for key, value in data.items():
        pk = key.removeprefix("place-")
        if pk != key and pk.isdigit():
            if not value.strip().isdigit() or int(value) < 1:
                raise ValueError(value)
            places[int(pk)] = int(value)
    return places


class ReattachForm(forms.Form):
    quote = forms.CharField(max_length=10_000)
    prefix = forms.CharField(required=False, max_length=anchoring.CONTEXT_MAX)
    suffix = forms.CharField(required=False, max_length=anchoring.CONTEXT_MAX)


class ReattachAdminMixin:
    """For ClaimAdmin: the one-click re-attachment of an orphaned claim to the words offered."""

    def get_urls(self):
        opts = self.model._meta
        reattach = path(
            "<path:object_id>/reattach/",
            self.admin_site.admin_view(require_POST(self.reattach_view)),
            name=f"{opts.app_label}_{opts.model_name}_reattach",
        )
        return [reattach, *super().get_urls()]

    def reattach_view(self, request, object_id):
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            raise Http404("No such claim.")
        if not self.has_change_permission(request, claim):
            raise PermissionDenied
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:papers_paper_change", args=[claim.paper_id])
        form = ReattachForm(request.POST)
        if not form.is_valid():
            self.message_user(
                request, "The words to attach the claim to were missing.", messages.ERROR
            )
            return HttpResponseRedirect(back)
        try:
            with transaction.atomic():
                claim = anchoring.reattach(claim, by=request.user, **form.cleaned_data)
                record_content_edit(request, claim.paper, what=f"claim {claim.public_id}")
        except rendering.QuoteNotFound as error:
            self.message_user(
                request,
                f"The claim was not re-attached: {error} The text may have changed since.",
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        self.message_user(request, f"Re-attached the claim to “{claim}”.", messages.SUCCESS)
        return HttpResponseRedirect(back)


def touch_papers(paper_ids):
    """A claim saved on its own page makes any open form of its paper stale (R28)."""
    Paper.objects.filter(pk__in=paper_ids).update(lock_version=F("lock_version") + 1)
