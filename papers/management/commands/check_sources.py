import sys

from django.core.management.base import BaseCommand, CommandError

from papers import link_status
from papers.linkcheck import Checker
from papers.models import Paper, Source

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Check now the addresses of the sources cited by published claims, and record on each "
        "source what came back (it also runs as a periodic task). A progress bar on a terminal, "
        "one line per address otherwise, and a summary at the end."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line(message):
            sys.stderr.write(f"check_sources: {message}\n")
            sys.exit(2)

        parser.error = one_line
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--paper",
            action="append",
            default=[],
            metavar="SLUG",
            help="Only the sources of this published paper (may be given more than once).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            help="Seconds to wait for a host to answer (default STANDPOINT_LINKCHECK_TIMEOUT).",
        )

    def handle(self, *, paper, timeout, **options):
        if timeout is not None and not 0 < timeout <= 300:
            raise CommandError("--timeout must be more than 0 and at most 300 seconds.")
        sources = link_status.cited_sources()
        if paper:
            known = set(
                Paper.objects.published().filter(slug__in=paper).values_list("slug", flat=True)
            )
            if unknown := [slug for slug in paper if slug not in known]:
                raise CommandError(f"No published paper has the slug “{unknown[0]}”.")
            sources = sources.filter(claimsource__claim__paper__slug__in=paper)
        on_terminal = self.stdout.isatty()
        progress = self._bar if on_terminal else self._line
        counts = link_status.check_sources(
            sources, checker=Checker(timeout=timeout), progress=progress
        )
        if on_terminal and sum(counts.values()):
            self.stdout.write("")
        labels = dict(Source.LinkStatus.choices)
        summary = ", ".join(
            f"{count} {labels[status]}" for status, count in counts.items() if count
        )
        total = sum(counts.values())
        self.stdout.write(
            f"Checked {total} source{'s' if total != 1 else ''}"
            + (f": {summary}." if total else ".")
        )

    def _bar(self, done, total, url, status):
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} addresses", ending="")
        self.stdout.flush()

    def _line(self, done, total, url, status):
        self.stdout.write(f"{done}/{total} {status} {url}")
