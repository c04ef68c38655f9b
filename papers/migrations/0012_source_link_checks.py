"""Reserved in the chain; filled in by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0011_claim_similarity"),
    ]

    operations = []
