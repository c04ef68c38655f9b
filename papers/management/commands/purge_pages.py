import re

from django.core.management.base import BaseCommand, CommandError

from papers import cache_tags, purging

KEY = re.compile(r"(all|list:[a-z]+|(paper|tag|claim):[-\w]+)")


class Command(BaseCommand):
    help = (
        "Purge readers' pages from the shared HTTP cache now, by their tags: `all` after a "
        "release that changes how pages look, or keys such as paper:<slug>, claim:<id>, "
        "tag:<slug>, list:papers (papers/cache_tags.py). Exits non-zero if the cache refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="+", metavar="KEY")

    def handle(self, *, keys, **options):
        if not purging.enabled():
            raise CommandError("No shared cache is configured (STANDPOINT_PURGE_BACKEND).")
        if bad := [key for key in keys if not KEY.fullmatch(key)]:
            raise CommandError(f"Not a cache tag: {bad[0]} (see papers/cache_tags.py).")
        if cache_tags.ALL in keys:
            keys = [cache_tags.ALL]
        try:
            purging.backend().purge(sorted(set(keys)))
        except purging.PurgeFailed as error:
            raise CommandError(f"The purge failed: {error}") from None
        self.stdout.write(f"Purged {', '.join(sorted(set(keys)))}.")
