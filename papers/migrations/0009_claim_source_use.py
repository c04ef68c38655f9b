"""How a claim uses each of its sources (CiTO): Claim.sources gets a through model on the table
it always had, so every existing row stays, and the table a `use` column whose default,
"supports", is what attaching a source meant until now."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0008_search_unaccent"),
    ]

    operations = [
        # The model over the existing table: only Django's picture of it changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ClaimSource",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "claim",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="papers.claim"
                            ),
                        ),
                        (
                            "source",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="papers.source"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "source of a claim",
                        "db_table": "papers_claim_sources",
                        "unique_together": {("claim", "source")},
                    },
                ),
                migrations.AlterField(
                    model_name="claim",
                    name="sources",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="claims",
                        through="papers.ClaimSource",
                        to="papers.source",
                    ),
                ),
            ],
            database_operations=[],
        ),
        # The one change to the database: the new column, filled with the default.
        migrations.AddField(
            model_name="claimsource",
            name="use",
            field=models.CharField(
                choices=[
                    ("supports", "supports"),
                    ("disputes", "disputes"),
                    ("qualifies", "qualifies"),
                    ("background", "background"),
                ],
                default="supports",
                help_text="How the claim uses the source: it supports or disputes the claim, "
                "qualifies it, or gives background.",
                max_length=20,
            ),
        ),
    ]
