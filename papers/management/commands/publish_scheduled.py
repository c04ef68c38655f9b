from django.core.management.base import BaseCommand, CommandError

from papers import workflow


class Command(BaseCommand):
    help = (
        "Publish approved papers whose publication time has passed. Meant to run every few "
        "minutes from cron or a systemd timer; running it again publishes nothing twice. "
        "Prints a line per published paper, a line per refused one on stderr, and exits "
        "non-zero if any due paper was refused (it stays approved and is tried again)."
    )

    def handle(self, **options):
        published, refused = workflow.publish_due()
        for version in published:
            paper = version.paper
            self.stdout.write(
                f"Published “{paper.title}” ({paper.slug}) as version {version.number}."
            )
        for paper, reason in refused:
            self.stderr.write(f"Refused “{paper.title}” ({paper.slug}): {reason}")
        if refused:
            raise CommandError(f"{len(refused)} due paper(s) could not be published.")
        if not published:
            self.stdout.write("Nothing due.")
