"""Forecasts: a predictive claim's due date and resolution criteria, the due date frozen into
each published claim, append-only resolutions beside the versions, and the notices sent when a
forecast comes due."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from papers import permissions

# Resolutions are history, like versions and events: raw SQL cannot rewrite them either
# (papers_refuse_change is the function migration 0002 made; PostgreSQL only).
RESOLUTION_TRIGGER = """
CREATE TRIGGER papers_resolution_immutable BEFORE UPDATE OR DELETE ON papers_resolution
    FOR EACH ROW EXECUTE FUNCTION papers_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RESOLUTION_TRIGGER, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER papers_resolution_immutable ON papers_resolution;", params=None
        )


def grant_resolution_permissions(apps, schema_editor):
    # Editors read resolutions in the admin.
    app_config = apps.get_app_config("papers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    permissions.ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0009_claim_source_use"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="due",
            field=models.DateField(
                blank=True,
                help_text="Predictive claims only: the date by which the forecast should have come true. Once it passes, editors are asked to record how it turned out.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="claim",
            name="resolves_when",
            field=models.TextField(
                blank=True,
                help_text="Predictive claims only: what will settle the forecast, in plain text.",
                verbose_name="resolves when",
            ),
        ),
        migrations.AddField(
            model_name="versionclaim",
            name="due",
            field=models.DateField(
                blank=True, help_text="A forecast's due date, if any.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Created"),
                    ("edit", "Edited"),
                    ("delete", "Deleted"),
                    ("import", "Imported"),
                    ("assign", "Reviewer assigned"),
                    ("unassign", "Reviewer unassigned"),
                    ("submit", "Submitted for review"),
                    ("comment", "Commented"),
                    ("resolve", "Thread resolved"),
                    ("assess", "Claim assessed"),
                    ("review", "Review submitted"),
                    ("request_changes", "Changes requested"),
                    ("approve", "Approved"),
                    ("publish", "Published"),
                    ("correct", "Correction published"),
                    ("withdraw", "Withdrawn"),
                    ("override", "Rule overridden"),
                    ("reopen", "Back in review after an edit"),
                    ("confirm", "Carried verdicts confirmed"),
                    ("revert", "Section reverted"),
                    ("share", "Share link created"),
                    ("unshare", "Share link revoked"),
                    ("deactivate", "Person deactivated"),
                    ("reactivate", "Person reactivated"),
                    ("sign_in", "Signed in"),
                    ("sign_in_failed", "Sign-in failed"),
                    ("resolve_forecast", "Forecast resolved"),
                ],
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="Resolution",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_id",
                    models.CharField(
                        db_index=True,
                        help_text="The public id of the forecast resolved.",
                        max_length=20,
                        verbose_name="claim",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("came_true", "Came true"),
                            ("did_not", "Did not come true"),
                            ("partly", "Partly came true"),
                            ("cannot_tell", "Cannot tell"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "note",
                    models.TextField(help_text="Why: what happened, as readers will read it."),
                ),
                (
                    "sources",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="What shows it: [{title, url}], as recorded.",
                    ),
                ),
                (
                    "resolved_by_name",
                    models.CharField(blank=True, max_length=150, verbose_name="resolved by"),
                ),
                ("resolved_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "paper",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resolutions",
                        to="papers.paper",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-resolved_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="DueNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.CharField(max_length=20, verbose_name="claim")),
                ("due", models.DateField()),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "paper",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="papers.paper",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("public_id", "due"), name="one_due_notice_per_forecast"
                    )
                ],
            },
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.RunPython(grant_resolution_permissions, migrations.RunPython.noop),
    ]
