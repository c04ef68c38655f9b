"""A version's PDF (papers.typesetting, papers.views.pdf, build_pdfs): what it shows, that it is
typeset once and stored, what it may fetch, and how it fails."""

import hashlib
import io
import os
import socket
import threading

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connections
from PIL import Image
from pypdf import PdfReader

from papers import typesetting, workflow
from papers.models import Paper, Version
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

SITE = "https://papers.example.org"

# Without WeasyPrint's system libraries the PDF tests skip, except under CI, where they fail.
pytestmark = pytest.mark.skipif(
    not typesetting.available() and not os.environ.get("CI"),
    reason="WeasyPrint or its system libraries (Pango) are not installed",
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.SITE_URL = SITE
    return settings.MEDIA_ROOT


def stored(media_root):
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def publish(editor, *, slug="baltic-deterrence", body=None):
    paper = PaperFactory(
        title="Baltic deterrence: why the alliance holds",
        slug=slug,
        byline="Ana Kask and Jonas Petraitis",
    )
    first = SectionFactory(
        paper=paper,
        heading="Background",
        position=0,
        body=body
        or (
            "NATO forces are present in Estonia.[^1] Deterrence will hold for a decade.\n\n"
            "[^1]: Ministry of Defence, annual report for 2024."
        ),
    )
    ClaimFactory(section=first, quote="NATO forces are present in Estonia.")
    ClaimFactory(section=first, quote="Deterrence will hold for a decade", kind="predictive")
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    paper.refresh_from_db()
    return paper


def pdf_url(paper, number=1):
    return f"/papers/{paper.slug}/v{number}/paper.pdf"


def body_of(response):
    return b"".join(response.streaming_content)


def text_of(pdf):
    """The PDF's words, with lines joined and words hyphenated at a line's end made whole."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    text = text.replace("\u2010\n", "").replace("-\n", "")
    return " ".join(text.split())


@pytest.fixture
def paper(editor):
    return publish(editor)


class TestWhatThePdfShows:
    def test_it_has_title_byline_version_date_address_digest_claims_and_footnote(
        self, client, paper
    ):
        response = client.get(pdf_url(paper))
        assert response.status_code == 200
        text = text_of(body_of(response))
        version = paper.live_version
        for words in [
            "Baltic deterrence: why the alliance holds",
            "Ana Kask and Jonas Petraitis",
            f"{version.published_at:%-d %B %Y}",
            f"{SITE}/papers/baltic-deterrence/v1/",
            "NATO forces are present in Estonia.",
            "Deterrence will hold for a decade",
            "Ministry of Defence, annual report for 2024.",
            "FACTUAL",
            "PREDICTIVE",
            "Page 2 of",
        ]:
            assert words in text
        assert "Version 1" in text
        assert version.fingerprint in text.replace(" ", "")

    def test_the_digest_is_that_of_the_json_export(self, client, paper):
        exported = client.get(f"/papers/{paper.slug}/export.json").content
        digest = hashlib.sha256(exported).hexdigest()
        assert digest == paper.live_version.fingerprint
        assert digest in text_of(body_of(client.get(pdf_url(paper)))).replace(" ", "")

    def test_a_withdrawn_paper_s_pdf_carries_the_notice_under_a_new_name(
        self, client, paper, editor, media_root
    ):
        before = client.get(pdf_url(paper))
        assert "withdrawn" not in text_of(body_of(before))
        workflow.withdraw_paper(paper, by=editor, reason="The survey data were fabricated.")
        after = client.get(pdf_url(paper))
        text = text_of(body_of(after))
        assert "this paper was withdrawn on" in text.lower()
        assert "The survey data were fabricated." in text
        assert "NATO forces are present in Estonia." in text  # the record stays readable
        assert after["ETag"] != before["ETag"]
        assert len(stored(media_root)) == 2

    def test_the_paper_page_and_the_version_record_link_to_it(self, client, paper):
        page = client.get(f"/papers/{paper.slug}/").content.decode()
        assert page.count(f'href="{pdf_url(paper)}"') == 2  # the footer, the version's record


class TestServing:
    def test_headers_say_inline_pdf_with_a_long_lived_etag(self, client, paper):
        response = client.get(pdf_url(paper))
        body = body_of(response)
        assert body.startswith(b"%PDF-")
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'inline; filename="baltic-deterrence-v1.pdf"'
        assert "public" in response["Cache-Control"]
        assert "max-age=86400" in response["Cache-Control"]
        again = client.get(pdf_url(paper), HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304

    def test_it_is_typeset_once_and_then_streamed_from_the_storage(
        self, client, paper, media_root, monkeypatch
    ):
        first = body_of(client.get(pdf_url(paper)))
        (file,) = stored(media_root)
        made = file.stat()

        def typeset_again(version):
            raise AssertionError("typeset a second time")

        monkeypatch.setattr(typesetting, "typeset", typeset_again)
        second = body_of(client.get(pdf_url(paper)))
        assert second == first
        assert stored(media_root) == [file]
        assert (file.stat().st_ino, file.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)

    def test_a_stored_pdf_costs_one_query(self, client, paper, django_assert_num_queries):
        client.get(pdf_url(paper))
        with django_assert_num_queries(1):
            response = client.get(pdf_url(paper))
        assert body_of(response).startswith(b"%PDF-")

    def test_head_answers_without_a_body(self, client, paper):
        response = client.head(pdf_url(paper))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"

    @pytest.mark.parametrize("suffix", ["v2/paper.pdf", "v0/paper.pdf"])
    def test_unknown_versions_answer_404(self, client, paper, suffix, media_root):
        assert client.get(f"/papers/{paper.slug}/{suffix}").status_code == 404
        assert stored(media_root) == []

    def test_a_draft_answers_404_and_nothing_is_typeset(self, client, draft, media_root):
        assert client.get(pdf_url(draft)).status_code == 404
        assert client.get("/papers/no-such-paper/v1/paper.pdf").status_code == 404
        assert stored(media_root) == []

    def test_post_is_not_allowed(self, client, paper):
        assert client.post(pdf_url(paper)).status_code == 405


class TestFailures:
    def test_a_failed_typesetting_answers_503_leaves_nothing_and_is_not_queued_again_at_once(
        self, client, paper, media_root, monkeypatch
    ):
        calls = []

        def broken(version):
            calls.append(version.pk)
            raise RuntimeError("the layout engine gave up")

        monkeypatch.setattr(typesetting, "typeset", broken)
        response = client.get(pdf_url(paper))
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert "no-store" in response["Cache-Control"]
        assert stored(media_root) == []
        assert client.get(pdf_url(paper)).status_code == 503
        assert calls == [paper.live_version_id]

    def test_a_failed_write_leaves_no_partial_file(self, client, paper, media_root, monkeypatch):
        def disk_full(source, target):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(typesetting.os, "replace", disk_full)
        assert client.get(pdf_url(paper)).status_code == 503
        assert stored(media_root) == []

    def test_without_weasyprint_the_build_fails_once_with_a_clear_error(
        self, client, paper, task_queue, monkeypatch
    ):
        def missing():
            raise typesetting.Unavailable("no Pango here")

        monkeypatch.setattr(typesetting, "_weasyprint", missing)
        assert client.get(pdf_url(paper)).status_code == 503
        task_queue.run()
        [failed] = task_queue.results()
        assert failed.status == "FAILED"
        assert failed.exception_class_path == "papers.typesetting.Unavailable"
        assert "no Pango here" in failed.traceback
        assert task_queue.waiting() == []  # not retried: an operator must install it first
        assert not typesetting.available()


class TestQueued:
    """The PDF is typeset by the task queue, never inside a request."""

    def test_publishing_queues_the_build_which_a_worker_runs(
        self, client, editor, task_queue, media_root, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            paper = publish(editor)
        [queued] = task_queue.results()
        assert queued.task_path == "papers.typesetting.build_version_pdf"
        assert queued.args_kwargs["args"] == [paper.live_version_id]
        assert stored(media_root) == []

        response = client.get(pdf_url(paper))
        assert response.status_code == 503
        assert len(task_queue.results()) == 1  # already queued: not queued twice

        task_queue.run()
        assert [r.status for r in task_queue.results()] == ["SUCCESSFUL"]
        response = client.get(pdf_url(paper))
        assert response.status_code == 200
        assert body_of(response).startswith(b"%PDF-")

    def test_a_pdf_not_yet_built_answers_503_with_a_short_page_and_queues_it_once(
        self, client, paper, task_queue, media_root
    ):
        response = client.get(pdf_url(paper))
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert response["Content-Type"].startswith("text/html")
        assert "no-store" in response["Cache-Control"]
        page = response.content.decode()
        assert "This PDF is being typeset" in page
        assert f'href="/papers/{paper.slug}/v1/"' in page
        assert client.head(pdf_url(paper)).status_code == 503
        [queued] = task_queue.results()
        assert queued.args_kwargs["args"] == [paper.live_version_id]
        assert stored(media_root) == []

    def test_the_page_queues_the_build_again_once_the_queued_one_is_forgotten(
        self, client, paper, task_queue
    ):
        client.get(pdf_url(paper))
        caches["default"].clear()  # after typesetting.QUEUED_FOR
        client.get(pdf_url(paper))
        assert len(task_queue.results()) == 2

    def test_a_withdrawal_s_notice_is_typeset_on_the_next_request(
        self, client, paper, editor, task_queue, media_root
    ):
        client.get(pdf_url(paper))
        task_queue.run()
        workflow.withdraw_paper(paper, by=editor, reason="The data were wrong.")
        assert client.get(pdf_url(paper)).status_code == 503
        task_queue.run()
        response = client.get(pdf_url(paper))
        assert "The data were wrong." in text_of(body_of(response))
        assert len(stored(media_root)) == 2


@pytest.mark.django_db(transaction=True)
class TestOnceAcrossWorkers:
    def test_concurrent_builds_typeset_it_once(self, editor, media_root, monkeypatch):
        paper = publish(editor)
        for file in stored(media_root):  # what publishing typeset at once
            file.unlink()
        real_typeset, calls = typesetting.typeset, []

        def counted(version):
            calls.append(version.pk)
            return real_typeset(version)

        monkeypatch.setattr(typesetting, "typeset", counted)
        start, names = threading.Barrier(3), []

        def worker():
            start.wait()
            try:
                names.append(typesetting.build_version_pdf.call(paper.live_version_id))
            finally:
                connections.close_all()

        workers = [threading.Thread(target=worker) for _ in range(3)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=120)
        assert len(names) == 3 and len(set(names)) == 1
        assert calls == [paper.live_version_id]
        assert len(stored(media_root)) == 1


class TestFetching:
    """What WeasyPrint may load: images uploaded to our storage, nothing else."""

    @pytest.mark.parametrize(
        "url",
        [
            "file:///etc/passwd",
            "https://evil.example/media/uploads/a.png",
            f"{SITE}/media/uploads/../../etc/passwd",
            f"{SITE}/media/uploads/%2e%2e/%2e%2e/settings.png",
            f"{SITE}/media/pdfs/other/v1-abc.pdf",
            f"{SITE}/etc/passwd",
            f"{SITE}/media/uploads/a.png?x=1",
            "data:image/png;base64,iVBORw0KGgo=",
            "http://papers.example.org/media/uploads/a.png",
        ],
    )
    def test_anything_but_our_uploads_is_refused(self, url):
        assert typesetting.media_name(url) is None

    def test_the_fetcher_refuses_local_files_and_other_sites(self):
        fetcher = typesetting._storage_only_fetcher_class()()
        for url in ["file:///etc/passwd", "https://evil.example/a.png", f"{SITE}/media/x.png"]:
            with pytest.raises(ValueError, match="Only images uploaded"):
                fetcher.fetch(url)

    def test_our_uploads_are_found_in_the_storage(self):
        assert typesetting.media_name(f"{SITE}/media/uploads/2026/12/a%20b.png") == (
            "uploads/2026/12/a b.png"
        )

    def test_external_and_local_files_never_reach_the_pdf(
        self, client, editor, media_root, monkeypatch, tmp_path
    ):
        secret = tmp_path / "secret.png"
        Image.new("RGB", (30, 30), "red").save(secret)
        upload = media_root / "uploads" / "2026" / "12" / "figure.png"
        upload.parent.mkdir(parents=True)
        Image.new("RGB", (40, 30), "teal").save(upload)
        connects = []
        monkeypatch.setattr(socket.socket, "connect", lambda self, address: connects.append(1))
        paper = publish(
            editor,
            body=(
                "NATO forces are present in Estonia. Deterrence will hold for a decade.\n\n"
                "![A map](https://evil.example/tracker.png)\n\n"
                f"![Local]({secret.as_uri()})\n\n"
                "![Passwords](/media/uploads/../../../etc/passwd)\n\n"
                "![Our figure](/media/uploads/2026/12/figure.png)"
            ),
        )
        pdf = body_of(client.get(pdf_url(paper)))
        assert connects == []
        assert b"root:x:0" not in pdf
        # Pages share one resource dictionary: every page lists the document's images.
        images = {
            (image.name, image.image.size)
            for page in PdfReader(io.BytesIO(pdf)).pages
            for image in page.images
        }
        assert [size for _, size in images] == [(40, 30)]  # ours alone


class TestBuildPdfsCommand:
    def test_it_builds_the_missing_ones_and_then_none(self, editor, media_root, capsys):
        paper = publish(editor)
        workflow.publish_correction(paper, by=editor, note="A figure corrected.")
        publish(editor, slug="other-paper")
        call_command("build_pdfs")
        out = capsys.readouterr().out.splitlines()
        assert [line.split(":")[0] for line in out[:-1]] == [
            "baltic-deterrence v1",
            "baltic-deterrence v2",
            "other-paper v1",
        ]
        assert all(" built pdfs/" in line for line in out[:-1])
        assert out[-1] == "3 built, 0 already stored, 0 failed."
        assert len(stored(media_root)) == 3

        call_command("build_pdfs", slug="other-paper")
        out = capsys.readouterr().out.splitlines()
        assert out[-1] == "0 built, 1 already stored, 0 failed."
        assert len(stored(media_root)) == 3

    def test_drafts_and_unknown_slugs_are_refused(self, draft, media_root):
        with pytest.raises(CommandError, match="No published paper"):
            call_command("build_pdfs", slug=draft.slug)
        with pytest.raises(CommandError, match="No published paper"):
            call_command("build_pdfs", slug="no-such-paper")
        assert stored(media_root) == []

    def test_a_failure_is_reported_and_the_others_still_built(
        self, editor, media_root, monkeypatch, capsys
    ):
        publish(editor)
        broken = publish(editor, slug="broken-paper")
        real_typeset = typesetting.typeset

        def typeset(version):
            if version.paper_id == broken.pk:
                raise RuntimeError("the layout engine gave up")
            return real_typeset(version)

        monkeypatch.setattr(typesetting, "typeset", typeset)
        with pytest.raises(CommandError, match="1 PDF"):
            call_command("build_pdfs")
        captured = capsys.readouterr()
        assert "broken-paper v1: failed: RuntimeError" in captured.err
        assert captured.out.splitlines()[-1] == "1 built, 0 already stored, 1 failed."
        assert len(stored(media_root)) == 1


@pytest.mark.parametrize(
    ("title", "short"),
    [
        ("Baltic deterrence: why the alliance holds", "Baltic deterrence"),
        ("A short title", "A short title"),
        (
            "Is There a Chance of the Baltic States Leaving NATO Due to Their Relationship "
            "with Russia?",
            "Is There a Chance of the Baltic States Leaving NATO Due to…",
        ),
    ],
)
def test_running_heads_carry_a_short_title(title, short):
    assert typesetting.short_title(title) == short


def test_versions_and_papers_are_left_as_they_were(client, paper):
    version = Version.objects.get(pk=paper.live_version_id)
    client.get(pdf_url(paper))
    assert Version.objects.get(pk=version.pk).fingerprint == version.fingerprint
    assert Paper.objects.get(pk=paper.pk).updated_at == paper.updated_at
