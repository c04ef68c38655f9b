"""Marking claims where the text is: the section's admin page shows its saved text with its claims
marked, and the editor marks new ones by selecting words (static/papers/marking.js).

`ClaimMarkingMixin` gives SectionAdmin the page's context and a few JSON endpoints behind the
admin's login, editor check and CSRF protection: mark a claim from a selection, change a claim's
kind, tags, note and sources, look tags and sources up, and add new ones. Bad input comes back as
a form's errors with a 400, and nothing is saved. Without JavaScript the page still shows the
marked text, and a link to the claim admin's add form for the section.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from papers import audit, claim_marks, permissions, rendering, similarity
from papers.admin import desk
from papers.models import Claim, ClaimSource, Section, Source, Tag

TEMPLATE = "admin/papers/section/_marking.html"
LOOKUP_LIMIT = 10  # tags or sources offered for what the editor typed


class SourceUsesMixin:
    """How the claim uses each of its sources (papers.evidence), posted beside each as
    use-<source id>. A source posted without one keeps its use, or supports the claim if it
    is new to it, as in the claim admin."""

    def clean(self):
        cleaned = super().clean()
        self.uses = {}
        for source in cleaned.get("sources") or []:
            use = self.data.get(f"use-{source.pk}")
            if use is None:
                continue
            if use not in ClaimSource.Use.values:
                self.add_error(
                    "sources",
                    f"Choose how the claim uses “{source}”: it supports, disputes or qualifies "
                    "the claim, or gives background.",
                )
            self.uses[source.pk] = use
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        for use in set(self.uses.values()):
            chosen = [pk for pk, value in self.uses.items() if value == use]
            links = ClaimSource.objects.filter(claim=self.instance, source_id__in=chosen)
            links.exclude(use=use).update(use=use)


class MarkClaimForm(SourceUsesMixin, forms.ModelForm):
    """A new claim from words selected in the section's text. The browser says which occurrence
    of the words was selected; the prefix and suffix that single it out are found here."""

    occurrence = forms.IntegerField(
        min_value=0,
        required=False,
        widget=forms.HiddenInput,
        help_text="Which occurrence of the words in the section was selected, counting from 0.",
    )

    class Meta:
        model = Claim
        fields = ["quote", "kind", "tags", "sources", "note", "due", "resolves_when"]

    def __init__(self, *args, section, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.section = section
        self.instance.paper_id = section.paper_id

    def clean(self):
        cleaned = super().clean()
        quote = rendering.squash(cleaned.get("quote"))
        if not quote:
            return cleaned
        text = self.instance.section.body_text
        starts = rendering.occurrences(text, quote)
        if not starts:
            self.add_error(
                "quote",
                "These words are not in the section's saved text: save the section first, or "
                "select the words in the marked text.",
            )
            return cleaned
        chosen = cleaned.get("occurrence")
        if len(starts) > 1 and (chosen is None or chosen >= len(starts)):
            self.add_error(
                "quote",
                f"These words occur {len(starts)} times in the section: select the ones you "
                "mean in the marked text.",
            )
            return cleaned
        start = starts[chosen or 0]
        try:
            self.instance.prefix, self.instance.suffix = rendering.context_for(text, quote, start)
        except rendering.QuoteNotFound as error:
            self.add_error("quote", str(error))
        cleaned["quote"] = quote
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # The model checks the words again (Claim.clean): one message about them is enough.
        if "quote" in self._errors:
            del self._errors["quote"][1:]


class ClaimDetailsForm(SourceUsesMixin, forms.ModelForm):
    """What the marking form changes of a claim: everything but where its words are."""

    class Meta:
        model = Claim
        fields = ["kind", "tags", "sources", "note", "due", "resolves_when"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Its words are not edited here: an orphaned claim can still be tagged or annotated.
        self.instance.check_quote = False


class NewTagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        slug = slugify(name)[: Tag._meta.get_field("slug").max_length]
        if not slug:
            raise forms.ValidationError("A tag's name needs letters or digits.")
        taken = Tag.objects.filter(slug=slug).first()
        if taken is not None:
            raise forms.ValidationError(f"The tag “{taken}” already has this address ({slug}).")
        self.instance.slug = slug
        return name


def _https_assumed(field, **kwargs):
    # An address typed without its scheme is taken as HTTPS, as in the source admin.
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class NewSourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["title", "url", "publisher"]
        formfield_callback = _https_assumed


class ClaimMarkingMixin:
    """For SectionAdmin: the marked text on the section's page, and the endpoints behind it."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:section_id>/marking/claims/",
                wrap(mark_claim),
                name="papers_section_mark_claim",
            ),
            path(
                "<int:section_id>/marking/claims/<int:claim_id>/",
                wrap(change_claim),
                name="papers_section_change_claim",
            ),
            path("marking/tags/", wrap(tags), name="papers_section_marking_tags"),
            path("marking/sources/", wrap(sources), name="papers_section_marking_sources"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["marking"] = marking_context(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- The endpoints ------------------------------------------------------------------------------


@require_POST
@transaction.atomic
def mark_claim(request, section_id):
    section = _section(request, section_id, "papers.add_claim")
    return _save_claim(request, section, MarkClaimForm(request.POST, section=section), "marked")


@require_POST
@transaction.atomic
def change_claim(request, section_id, claim_id):
    section = _section(request, section_id, "papers.change_claim")
    claim = get_object_or_404(section.claims.all(), pk=claim_id)
    claim.section = section
    form = ClaimDetailsForm(request.POST, instance=claim)
    return _save_claim(request, section, form, "changed")


@require_http_methods(["GET", "POST"])
def tags(request):
    """GET ?q=: tags whose name or address holds the words; POST name: a new tag."""
    return _look_up_or_add(
        request,
        NewTagForm,
        lambda q: Q(name__icontains=q) | Q(slug__icontains=q),
        lambda tag: {"id": tag.pk, "label": tag.name},
    )


@require_http_methods(["GET", "POST"])
def sources(request):
    """GET ?q=: sources whose title or URL holds the words; POST title, url, publisher: a new
    source."""
    return _look_up_or_add(
        request,
        NewSourceForm,
        lambda q: Q(title__icontains=q) | Q(url__icontains=q),
        lambda source: {"id": source.pk, "label": str(source), "url": source.url},
    )


def _require(request, permission):
    if not request.user.has_perm(permission):
        permissions.denied(request.user, permission, request.path)
        raise PermissionDenied


def _section(request, section_id, permission):
    _require(request, permission)
    return get_object_or_404(Section.objects.select_related("paper"), pk=section_id)


def _errors(form):
    """A form's messages by field ("__all__" for the form as a whole), with a 400."""
    errors = {name: list(messages) for name, messages in form.errors.items()}
    return JsonResponse({"errors": errors}, status=400)


def _save_claim(request, section, form, verb):
    if not form.is_valid():
        return _errors(form)
    claim = form.save()
    desk.touch_papers([section.paper_id])
    what = f"claim {claim.public_id} {verb}: “{claim}”"
    audit.record(audit.Action.EDIT, by=request.user, paper=section.paper, note=what)
    desk.record_content_edit(request, section.paper, what=what)
    html = render_to_string(TEMPLATE, {"marking": marking_context(section)}, request=request)
    return JsonResponse({"claim": claim.public_id, "html": html})


def _look_up_or_add(request, form_class, matching, as_json):
    model = form_class._meta.model
    verb = "add" if request.method == "POST" else "view"
    _require(request, f"papers.{verb}_{model._meta.model_name}")
    if request.method == "POST":
        form = form_class(request.POST)
        if not form.is_valid():
            return _errors(form)
        return JsonResponse(as_json(form.save()), status=201)
    words = " ".join(request.GET.get("q", "").split())[:100]
    found = model.objects.filter(matching(words)) if words else model.objects.all()
    return JsonResponse({"results": [as_json(obj) for obj in found[:LOOKUP_LIMIT]]})


# --- The page -----------------------------------------------------------------------------------


def marking_context(section):
    """The section's saved text with its claims marked and numbered as in the whole paper, and
    those claims in reading order. Orphaned ones are not in the text: the page lists them with
    their re-attachment offers (papers/admin/desk.py)."""
    placed = []
    for claim in section.claims.prefetch_related("tags", "sources", "claimsource_set"):
        claim.section = section
        place = None if claim.orphaned else claim.locate()
        if place is not None:
            placed.append((place[0], claim.pk, claim))
    placed.sort(key=lambda item: item[:2])
    first = _claims_before(section) + 1
    claims = [_claim_view(claim, n) for n, (_, _, claim) in enumerate(placed, start=first)]
    texts = {item["claim"].pk: item["claim"].quote for item in claims}
    found = similarity.similar_to_claims(texts, paper_id=section.paper_id)
    for item in claims:
        item["similar"] = found[item["claim"].pk]
        item["similar_flag"] = similarity.flag(item["similar"])
    html, _ = claim_marks.mark_claims(section.body_html, [item["mark"] for item in claims])
    add = reverse("admin:papers_claim_add")
    return {
        "section": section,
        "html": rendering.stored_html(html),
        "claims": claims,
        "kinds": [(kind.value, kind.label, kind.meaning) for kind in Claim.Kind],
        "uses": ClaimSource.Use.choices,
        "data": [item["data"] for item in claims],
        "add_url": f"{add}?paper={section.paper_id}&section={section.pk}",
        "urls": {
            "mark": reverse("admin:papers_section_mark_claim", args=[section.pk]),
            "tags": reverse("admin:papers_section_marking_tags"),
            "sources": reverse("admin:papers_section_marking_sources"),
        },
    }


def _claims_before(section):
    """How many numbered claims the paper's earlier sections hold. Orphaned claims have no
    number; their flag is kept current by every save of a section."""
    earlier = Q(section__position__lt=section.position) | Q(
        section__position=section.position, section__pk__lt=section.pk
    )
    return Claim.objects.filter(earlier, paper_id=section.paper_id, orphaned=False).count()


def _claim_view(claim, number):
    tags = sorted(claim.tags.all(), key=lambda tag: tag.name)
    sources = list(claim.sources.all())
    uses = {link.source_id: link.use for link in claim.claimsource_set.all()}
    page = reverse("admin:papers_claim_change", args=[claim.pk])
    return {
        "claim": claim,
        "number": number,
        "tags": tags,
        "sources": sources,
        "change_url": page,
        "mark": claim_marks.claim_mark(claim, number),
        # What the marking form shows when the editor opens the claim.
        "data": {
            "id": claim.public_id,
            "number": number,
            "quote": claim.quote,
            "kind": claim.kind,
            "note": claim.note,
            "due": claim.due.isoformat() if claim.due else "",
            "resolves_when": claim.resolves_when,
            "tags": [{"id": tag.pk, "label": tag.name} for tag in tags],
            "sources": [
                {"id": s.pk, "label": str(s), "url": s.url, "use": uses.get(s.pk)} for s in sources
            ],
            "url": reverse("admin:papers_section_change_claim", args=[claim.section_id, claim.pk]),
            "page": page,
        },
    }
