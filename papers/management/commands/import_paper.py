from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from papers import importing, workflow


class Command(BaseCommand):
    help = "Import a paper from plain text, Markdown (with optional YAML front matter) or JSON."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a .txt, .md or .json file")
        parser.add_argument("--slug", help="the paper's slug (default: from the file or title)")
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            dest="tags",
            metavar="TAG",
            help="tag the paper with an existing tag (slug or name); repeatable",
        )
        parser.add_argument(
            "--publish", action="store_true", help="publish it at once as a new version"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace the working copy of an existing paper"
        )

    def handle(self, path, slug, tags, publish, replace, **options):
        try:
            with transaction.atomic():
                paper = importing.import_file(path, slug=slug, tags=tags, replace=replace)
                version = (
                    workflow.publish_paper(paper, by=None, note="Imported") if publish else None
                )
        except (importing.ImportRefused, workflow.WorkflowError) as error:
            raise CommandError(str(error)) from None
        claims = paper.claims.count()
        done = f"published as version {version.number}" if version else "saved as a draft"
        self.stdout.write(
            f"Imported “{paper.title}” ({paper.slug}): {paper.sections.count()} sections, "
            f"{claims} claims, {done}."
        )
