import time

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from papers import typesetting
from papers.models import Version


class Command(BaseCommand):
    help = (
        "Typeset the PDF of every published version that has none stored yet (all papers, or "
        "one with --slug). Prints a line per version and a summary; exits non-zero if any "
        "could not be made. Running it again builds nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", help="Only this paper's versions.")

    def handle(self, *, slug=None, **options):
        versions = Version.objects.filter(paper__live_version__isnull=False)
        if slug is not None:
            versions = versions.filter(paper__slug=slug)
            if not versions.exists():
                raise CommandError(f"No published paper has the slug “{slug}”.")
        if not typesetting.available():
            raise CommandError(
                "WeasyPrint or its system libraries (Pango) are missing: no PDF can be made."
            )
        built = kept = failed = 0
        for version in versions.select_related("paper").order_by("paper__slug", "number"):
            label = f"{version.paper.slug} v{version.number}"
            name = typesetting.stored_name(version)
            if default_storage.exists(name):
                kept += 1
                self.stdout.write(f"{label}: already stored ({name})")
                continue
            started = time.monotonic()
            try:
                typesetting.build_pdf(version)
            except Exception as error:  # one version's failure must not stop the others
                failed += 1
                self.stderr.write(f"{label}: failed: {type(error).__name__}: {error}")
                continue
            built += 1
            size = default_storage.size(name)
            took = time.monotonic() - started
            self.stdout.write(f"{label}: built {name}, {size / 1024:.0f} KB in {took:.1f} s")
        self.stdout.write(f"{built} built, {kept} already stored, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} PDF(s) could not be made.")
