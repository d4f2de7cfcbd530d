"""Shops' API credentials: encrypted with TONGCANG_ERP_SECRET_KEYS, and no longer copied into
the history rows (the copies there are dropped)."""

from django.db import migrations

import core.crypto


def encrypt_existing(apps, schema_editor):
    from core import crypto

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT id, credentials FROM channels_shop")
        for pk, text in cur.fetchall():
            cur.execute(
                "UPDATE channels_shop SET credentials = %s WHERE id = %s",
                [crypto.encrypt(text or "{}"), pk],
            )


def decrypt_existing(apps, schema_editor):
    from core import crypto

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT id, credentials FROM channels_shop")
        for pk, token in cur.fetchall():
            try:
                text = crypto.decrypt(token) if token else "{}"
            except crypto.InvalidToken:
                text = "{}"
            cur.execute("UPDATE channels_shop SET credentials = %s WHERE id = %s", [text, pk])


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0006_sellablequantity_fillfactor"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="historicalshop",
            name="credentials",
        ),
        migrations.AlterField(
            model_name="shop",
            name="credentials",
            field=core.crypto.EncryptedJSONField(
                blank=True, default=dict, verbose_name="API credentials"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
