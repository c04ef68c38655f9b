"""The editors' admin, by job: `content` (papers with their outline and claim list, claims),
`catalogue` (tags and sources), `sections` (each section's own page) with `marking` (claims
marked in its text), `desk` (the paper page's outline, claim list and re-attachments), `drafts`
(share links, compare, revert), `workflow` (the workflow panel and actions), `forms` (the forms
that refuse a stale save), `people` (deactivated, never deleted), `records` (read-only
versions, events and reviews) and `tasks` (background tasks, failed ones run again). The admin
site itself is papers/admin_site.py.

Importing a module registers its admins; Django's autodiscovery imports this package.
"""

from papers.admin import (  # noqa: F401
    catalogue,
    content,
    forecasts,
    people,
    records,
    sections,
    tasks,
)
