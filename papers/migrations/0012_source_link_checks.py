"""What the link check found for each source (papers/linkcheck.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0011_claim_similarity"),
    ]

    operations = [
        migrations.AddField(
            model_name="source",
            name="link_status",
            field=models.CharField(
                choices=[
                    ("not_checked", "not checked"),
                    ("ok", "ok"),
                    ("redirected", "redirected"),
                    ("broken", "broken"),
                    ("changed", "changed since cited"),
                    ("refused", "refused"),
                ],
                default="not_checked",
                help_text="What the last check found: refused means the address was not fetched "
                "(a private network address, or robots.txt asks us not to).",
                max_length=20,
                verbose_name="link status",
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="link_code",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="HTTP status"
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="link_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="link check note"),
        ),
        migrations.AddField(
            model_name="source",
            name="link_checked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="link last checked"),
        ),
        migrations.AddField(
            model_name="source",
            name="link_broken_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="link broken since"),
        ),
        migrations.AddField(
            model_name="source",
            name="link_hash",
            field=models.CharField(
                blank=True,
                help_text="SHA-256 of the page as first fetched: a later check that finds other "
                "content reports the source as changed.",
                max_length=64,
                verbose_name="content hash",
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="checked_url",
            field=models.URLField(blank=True, max_length=500, verbose_name="checked URL"),
        ),
    ]
