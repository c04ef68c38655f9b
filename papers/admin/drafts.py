"""The working draft in the paper admin: the "Share a draft" panel with its share links, the
draft compared with the live version or with a review round as submitted, and reverting one
section to its text in the live version.

Each view sits behind the admin's login, editor check and CSRF protection. A GET only shows a
page (a form, a comparison, a confirmation); a POST calls the one function in
papers.workflow.drafts, which makes the real checks, and its refusal comes back as a message.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods

from papers import anchoring, diffing, snapshots, workflow
from papers.converters import natural_number
from papers.workflow.drafts import LABEL_MAX, SHARE_DAYS, SHARE_DAYS_DEFAULT

SHARE_IDS = "share-%s"  # the form sits on the paper's page beside the paper's own fields


class ShareForm(forms.Form):
    label = forms.CharField(
        label="For",
        max_length=LABEL_MAX,
        required=False,
        help_text="Whom the link is for, as a reminder for the editors; they do not see it.",
    )
    days = forms.IntegerField(
        label="Open for (days)",
        min_value=SHARE_DAYS[0],
        max_value=SHARE_DAYS[-1],
        initial=SHARE_DAYS_DEFAULT,
        help_text=f"The link stops working after this many days, at most {SHARE_DAYS[-1]}.",
    )


class DraftsAdminMixin:
    """For PaperAdmin: "View on site" for an unpublished paper, the URLs of the views below,
    and the context of the change page's drafts panel (`drafts_context`)."""

    def get_view_on_site_url(self, obj=None):
        # An unpublished paper has no public page: its editors view the draft's preview.
        if obj is not None and obj.pk is not None and obj.live_version_id is None:
            return reverse("papers:preview", args=[obj.slug])
        return super().get_view_on_site_url(obj)

    def get_urls(self):
        opts = self.model._meta

        def route(pattern, view, methods, name):
            view = self.admin_site.admin_view(require_http_methods(methods)(view))
            return path(pattern, view, name=f"{opts.app_label}_{opts.model_name}_{name}")

        # Before the default URLs: their "<object_id>/" catch-all would take them otherwise.
        return [
            route("<path:object_id>/share/", self.share_view, ["GET", "POST"], "share"),
            route(
                "<path:object_id>/share/<int:link_id>/revoke/",
                self.revoke_view,
                ["POST"],
                "revoke",
            ),
            route("<path:object_id>/compare/", self.compare_view, ["GET"], "compare"),
            route(
                "<path:object_id>/compare/revert/<str:anchor>/",
                self.revert_view,
                ["GET", "POST"],
                "revert",
            ),
            *super().get_urls(),
        ]

    def drafts_context(self, request, paper):
        """What the change page's drafts panel shows: the active share links, the form that
        makes one, and where the draft can be read and compared."""
        return {
            "share_links": list(paper.share_links.active().order_by("expires_at", "pk")),
            "share_form": ShareForm(auto_id=SHARE_IDS),
            "share_url": _url("share", paper),
            "compare_url": _url("compare", paper),
            "preview_url": reverse("papers:preview", args=[paper.slug]),
            "review_url": reverse("review:paper", args=[paper.slug]),
        }

    def _paper(self, request, object_id):
        paper = self.get_object(request, unquote(object_id))
        if paper is None:
            raise Http404("No such paper.")
        if not self.has_change_permission(request, paper):
            raise PermissionDenied
        return paper

    def _page(self, request, paper, template, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "paper": paper,
            "change_url": _url("change", paper),
            **context,
        }
        return TemplateResponse(request, f"admin/papers/paper/{template}", context)

    def share_view(self, request, object_id):
        paper = self._paper(request, object_id)
        form = ShareForm(request.POST if request.method == "POST" else None, auto_id=SHARE_IDS)
        if form.is_valid():
            try:
                data = form.cleaned_data
                link, token = workflow.create_share_link(paper, by=request.user, **data)
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                # The only time the address is shown: only its token's hash is kept.
                address = settings.SITE_URL + reverse("papers:shared", args=[token])
                response = self._page(
                    request, paper, "share.html", "Share link created", link=link, address=address
                )
                patch_cache_control(response, private=True, no_store=True)
                return response
        return self._page(request, paper, "share.html", f"Share a draft: {paper}", form=form)

    def revoke_view(self, request, object_id, link_id):
        paper = self._paper(request, object_id)
        link = paper.share_links.filter(pk=link_id).first()
        if link is None:
            raise Http404("No such share link of this paper.")
        try:
            workflow.revoke_share_link(link, by=request.user)
        except workflow.WorkflowError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            what = f"for “{link.label}”" if link.label else "without a label"
            self.message_user(request, f"Revoked the share link {what}.", messages.SUCCESS)
        return HttpResponseRedirect(_url("change", paper) + "#drafts")

    def compare_view(self, request, object_id):
        paper = self._paper(request, object_id)
        comparison = _comparison(paper, request.GET.get("since", ""))
        title = f"Changes in the draft: {paper}"
        return self._page(request, paper, "compare.html", title, **comparison)

    def revert_view(self, request, object_id, anchor):
        paper = self._paper(request, object_id)
        back = _url("compare", paper) + "?since=version"
        if request.method == "POST":
            try:
                outcomes = workflow.revert_section(paper, anchor, by=request.user)
            except workflow.WorkflowError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _reverted(outcomes), messages.SUCCESS)
            return HttpResponseRedirect(back)
        comparison = _comparison(paper, "version")
        sections = _sections(comparison["changes"])
        item = next((i for i in sections if i["revert"] == anchor), None)
        if item is None:
            self.message_user(
                request, "That section has nothing to revert in this draft.", messages.ERROR
            )
            return HttpResponseRedirect(back)
        title = f"Revert “{item['title']}” to version {paper.live_version.number}"
        return self._page(request, paper, "revert.html", title, item=item, back_url=back)


def _url(view, paper):
    return reverse(f"admin:papers_paper_{view}", args=[paper.pk])


def _comparison(paper, since):
    """The draft compared with the live version ("version") or with round N as submitted
    ("N"); with neither asked for, the live version, or else the latest round."""
    rounds = list(paper.rounds.defer("snapshot").order_by("-number"))
    live = paper.live_version
    if not since:
        since = "version" if live else str(rounds[0].number) if rounds else ""
    choices = {"rounds": rounds, "live": live, "since": since}
    if not since:
        return {**choices, "base": None}
    if since == "version":
        if live is None:
            raise Http404("This paper has no published version.")
        draft = snapshots.paper_document(paper, with_review=True)
        changes = diffing.compare(live.snapshot, draft)
        base = f"version {live.number}"
    else:
        number = natural_number(since)
        found = paper.rounds.filter(number=number).first() if number else None
        if found is None:
            raise Http404("No such review round of this paper.")
        draft = snapshots.paper_document(paper)
        changes = diffing.compare(found.snapshot, draft, reviews=False)
        base = f"round {found.number} as submitted"
    for item in _sections(changes):
        # Only an edited section that the live version has can go back to its text there.
        edited = "edited" in item["changes"] and "added" not in item["changes"]
        item["revert"] = item.get("anchor") if since == "version" and edited else None
    return {**choices, "base": base, "changes": changes}


def _sections(changes):
    return next(group["items"] for group in changes["groups"] if group["noun"] == "section")


def _reverted(outcomes):
    orphans = sum(1 for _, outcome in outcomes if outcome == anchoring.Outcome.ORPHANED)
    message = "The section reads as in the live version again."
    if orphans:
        message += (
            f" {orphans} of its claims no longer match its text and are marked orphaned:"
            " re-anchor or remove them before publishing."
        )
    return message
