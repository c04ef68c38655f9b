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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="say what the import would create, and change nothing",
        )

    def handle(self, path, slug, tags, publish, replace, dry_run, **options):
        try:
            # A dry run is the whole import, every check included, rolled back at the end.
            with transaction.atomic():
                imported = importing.import_file(path, slug=slug, tags=tags, replace=replace)
                paper = imported.paper
                version = (
                    workflow.publish_paper(paper, by=None, note="Imported") if publish else None
                )
                done = f"published as version {version.number}" if version else "saved as a draft"
                summary = (
                    f"“{paper.title}” ({paper.slug}): {paper.sections.count()} sections, "
                    f"{paper.claims.count()} claims, {done}."
                )
                if dry_run:
                    report = [
                        f"Dry run, nothing changed. The import would give {summary}",
                        *importing.describe(paper),
                    ]
                    transaction.set_rollback(True)
                else:
                    report = [f"Imported {summary}"]
        except (importing.ImportRefused, workflow.WorkflowError) as error:
            raise CommandError(str(error)) from None
        if imported.renewed:
            report.append(importing.renewed_note(imported.renewed))
        if imported.reopened:
            goes = "would go" if dry_run else "goes"
            report.append(
                f"The paper was approved and the import changes it: it {goes} back in review."
            )
        self.stdout.write("\n".join(report))
