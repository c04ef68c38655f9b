"""The editors' admin, by job: `content` (papers with their outline and claim list, claims,
tags, sources), `sections` (each section's own page) with `marking` (claims marked in its
text), `desk` (the paper page's outline, claim list and re-attachments), `drafts` (share
links, compare, revert), `workflow` (the workflow panel and actions), `forms` (the forms that
refuse a stale save), `people` (deactivated, never deleted) and `records` (read-only versions,
events and reviews). The admin site itself is papers/admin_site.py.

Importing a module registers its admins; Django's autodiscovery imports this package.
"""

from papers.admin import content, forecasts, people, records, sections  # noqa: F401
