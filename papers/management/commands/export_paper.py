from django.core.management.base import BaseCommand, CommandError

from papers import documents, snapshots
from papers.models import Paper


class Command(BaseCommand):
    help = (
        "Write a paper to stdout: its latest version, version N, or the working draft of a "
        "paper never published."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--number", type=int, help="the version number (default: latest)")
        parser.add_argument("--format", choices=["md", "json"], default="md", dest="fmt")

    def handle(self, slug, number, fmt, **options):
        paper = Paper.objects.select_related("live_version").filter(slug=slug).first()
        if paper is None:
            raise CommandError(f"No paper has the slug “{slug}”.")
        if number is not None:
            version = paper.versions.filter(number=number).first()
            if version is None:
                raise CommandError(f"“{slug}” has no version {number}.")
            document = version.export_document(with_fingerprint=fmt == "md")
        elif paper.live_version is not None:
            document = paper.live_version.export_document(with_fingerprint=fmt == "md")
        else:
            document = snapshots.paper_document(paper)
        writer = documents.to_json if fmt == "json" else documents.to_markdown
        self.stdout.write(writer(document), ending="")
