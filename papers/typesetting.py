"""A published version typeset for print (WeasyPrint) once, and kept in the default storage.

Versions never change, so each PDF is made once, by a background task (papers.tasks): queued
after the commit that publishes a version, or by the first request for a PDF not stored yet
(which answers 503 until it is), or made at once by `manage.py build_pdfs`; every later request
streams the stored file. Never inside a request: a long paper takes tens of seconds and
hundreds of megabytes to typeset, which neither the publisher's request nor a thread beside
the web server's requests should carry. `build_pdf(version)` is the one way in.

The stored name is content-addressed: a digest of everything the PDF shows that is not in the
version itself (the withdrawal notice, the site's address, the layout's release) together with
the version's own digest. Withdrawing a paper thus gives each of its versions a new name, built
on next request with the notice on its first page; the versions themselves stay as they were.
"""

import hashlib
import json
import logging
import os
import posixpath
import tempfile
import threading
from contextlib import contextmanager, suppress
from functools import cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.loader import render_to_string
from PIL import ImageFile

from papers.models import Version
from papers.tasks import enqueue_now, retried
from papers.views.media import IMAGE_TYPES

# Imported as a module: publishing queues builds through this one while it is being imported.
from papers.workflow import publishing

log = logging.getLogger(__name__)

# Raise it after changing print.html or print.css so that every version is typeset again.
LAYOUT = "1"
FOLDER = "pdfs"
STYLESHEETS = ["css/standpoint.css", "css/print.css"]
# A queued build is not queued again for this long (the requests for it meanwhile answer 503).
QUEUED_FOR = 10 * 60
# Sections may show images uploaded to our storage (papers.uploads); nothing else is fetched.
IMAGE_FOLDER = "uploads/"
SHORT_TITLE_CHARS = 60


class Unavailable(Exception):
    """WeasyPrint, or the system libraries it needs (Pango), are not installed here."""


@cache
def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango missing, found when loaded
        raise Unavailable(
            "PDFs cannot be made on this server: WeasyPrint or its system libraries "
            f"(Pango, HarfBuzz) are missing ({error})."
        ) from error
    # It logs a dozen lines of progress per document, and a warning for each screen rule of
    # standpoint.css it does not know (media features, newer properties); what goes wrong
    # (an image the fetcher refused, a failed layout) it logs as errors.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    # Importing it tells Pillow, for the whole process, to accept truncated images; uploads
    # must refuse them (papers.uploads), and the only images typeset are uploads that passed.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def available():
    try:
        _weasyprint()
    except Unavailable:
        return False
    return True


def digest(version):
    """The SHA-256 printed on the PDF: the version's, defined by `export_sha256`."""
    return version.fingerprint or publishing.export_sha256(version)


def stored_name(version):
    """Where the version's PDF is kept, named by a digest of everything it shows."""
    paper = version.paper
    shown = [
        LAYOUT,
        digest(version),
        settings.SITE_URL,
        settings.SITE_NAME,
        settings.TIME_ZONE,
        paper.withdrawn_at.isoformat() if paper.withdrawn_at else None,
        paper.withdrawal_reason if paper.withdrawn_at else None,
    ]
    key = hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:32]
    return f"{FOLDER}/{paper.slug}/v{version.number}-{key}.pdf"


def filename(version):
    """The name a reader's browser saves the PDF under."""
    return f"{version.paper.slug}-v{version.number}.pdf"


def build_pdf(version):
    """Typeset the version unless its PDF is stored already; returns the stored name.

    Concurrent first requests typeset it once: the second waits for the first's lock, then
    finds the file. Raises Unavailable without WeasyPrint, or whatever typesetting raised
    (nothing is stored then).
    """
    name = stored_name(version)
    if default_storage.exists(name):
        return name
    with _exclusive(version):
        if not default_storage.exists(name):
            _store(name, typeset(version))
            log.info("pdf.built", extra={"pdf": name, "version": version.pk})
    return name


def queue_build(version):
    """Queue the typesetting of the version's PDF unless it was queued within QUEUED_FOR
    (through the cache, shared by every server with Redis). Returns whether it was queued."""
    marker = f"pdf-queued:{stored_name(version)}"
    if not caches["default"].add(marker, True, QUEUED_FOR):
        return False
    if enqueue_now(build_version_pdf, version.pk) is None:
        caches["default"].delete(marker)
        return False
    return True


# Three attempts, 1 and 2 minutes apart, for what may pass (a full disk, a database restart);
# none more without WeasyPrint, which an operator must install first.
@retried(attempts=3, backoff=60, give_up_on=(Unavailable,))
def build_version_pdf(version_id):
    """The task: typeset a published version's PDF unless it is stored; returns its name."""
    version = Version.objects.select_related("paper").get(pk=version_id)
    return build_pdf(version)


def typeset(version):
    """The version's PDF, as bytes."""
    weasyprint = _weasyprint()
    paper = version.paper
    html = render_to_string(
        "papers/print.html",
        {
            "version": version,
            "paper": paper,
            "short_title": short_title(version.title),
            "address": f"{settings.SITE_URL}{version.get_absolute_url()}",
            "digest": digest(version),
            "site_name": settings.SITE_NAME,
        },
    )
    fetcher = _storage_only_fetcher_class()()
    document = weasyprint.HTML(string=html, base_url=settings.SITE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=_stylesheets())


@cache
def _stylesheets():
    """The stylesheets, parsed once per process (they change only with a release)."""
    weasyprint, fetcher = _weasyprint(), _storage_only_fetcher_class()()
    return [
        weasyprint.CSS(filename=finders.find(path), url_fetcher=fetcher) for path in STYLESHEETS
    ]


def short_title(title):
    """The title for running heads: up to its colon, or its first words up to 60 characters."""
    title = " ".join(title.split())
    head = title.split(":", 1)[0].strip()
    if head and len(head) <= SHORT_TITLE_CHARS:
        return head
    cut = title[: SHORT_TITLE_CHARS + 1].rsplit(" ", 1)[0] if " " in title else title
    return cut[:SHORT_TITLE_CHARS].rstrip(" ,;:–—-") + "…"


def media_name(url):
    """The storage name of an uploaded image at our own address, or None for any other URL
    (another site, file://, data:, a path out of the uploads folder)."""
    media = urlsplit(settings.SITE_URL + settings.MEDIA_URL)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (media.scheme, media.netloc):
        return None
    if not parts.path.startswith(media.path) or parts.query:
        return None
    name = unquote(parts.path[len(media.path) :])
    if "\\" in name or "\x00" in name or posixpath.normpath(name) != name:
        return None
    return name if name.startswith(IMAGE_FOLDER) else None


@cache
def _storage_only_fetcher_class():
    """What WeasyPrint may load while typesetting: our uploaded images, from the storage, and
    nothing else; no network, no local file. A refused image is left out of the PDF (WeasyPrint
    logs a warning and goes on). Built on first use, so this module imports without WeasyPrint.
    """
    urls = _weasyprint().urls

    class StorageOnlyFetcher(urls.URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=set(), allow_redirects=False)

        def fetch(self, url, headers=None):
            name = media_name(url)
            content_type = IMAGE_TYPES.get(posixpath.splitext(name or "")[1].lower())
            if content_type is None:
                raise ValueError(f"Only images uploaded to this site are typeset: {url[:200]}")
            try:
                with default_storage.open(name) as file:
                    body = file.read()
            except (OSError, SuspiciousFileOperation) as error:
                raise ValueError(f"No such upload: {name}") from error
            return urls.URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StorageOnlyFetcher


# One typesetting at a time in a process: WeasyPrint holds a whole document in memory, and
# SQLite, which ignores row locks, runs its threads in one process.
_process_lock = threading.Lock()


@contextmanager
def _exclusive(version):
    """Across processes and servers, the version's row locked until the PDF is stored
    (PostgreSQL; nothing writes a version's row, so the lock holds up no one else). SQLite has
    no row locks: the process lock alone serves it, with no transaction, whose read lock would
    keep every writer waiting for as long as the typesetting takes."""
    with _process_lock:
        if not connection.features.has_select_for_no_key_update:
            yield
            return
        with transaction.atomic():
            list(Version.objects.select_for_update(no_key=True).filter(pk=version.pk).values("pk"))
            yield


def _store(name, data):
    """Whole or not at all: on a local disk the bytes go to a temporary file renamed into
    place, so no reader ever opens half a PDF and a failed write leaves none behind; other
    storages (object stores) replace an object whole on their own."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        default_storage.save(name, ContentFile(data))
        return
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
