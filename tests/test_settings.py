"""Production settings pass `manage.py check --deploy` with the documented variables."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env():
    # The checks do not connect: any PostgreSQL URL will do (the embedded server's socket
    # path would not fit in a URL).
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "tongcang.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://tongcang.example.com",
        "DATABASE_URL": "postgres://tongcang@db.example.com:5432/tongcang",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "TONGCANG_Q_WORKERS": "4",
        "TONGCANG_ERP_SECRET_KEYS": secrets.token_urlsafe(32),
    }


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "TONGCANG_ERP_SECRET_KEYS"]
)
def test_production_refuses_to_start_without_its_secret_or_database(missing):
    env = production_env()
    del env[missing]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_session_key_as_the_secrets_key():
    env = production_env()
    env["TONGCANG_ERP_SECRET_KEYS"] = f"{secrets.token_urlsafe(32)},{env['DJANGO_SECRET_KEY']}"
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "must differ from DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_use_redis_and_the_configured_workers():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.Q_CLUSTER.get('redis'), s.Q_CLUSTER['workers'], s.SESSION_COOKIE_SECURE)"
    )
    result = run_manage("shell", "-c", code, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "False",
        "redis://127.0.0.1:6379/0",
        "4",
        "True",
    ]


def test_the_default_language_is_simplified_chinese_with_english_selectable():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ


@pytest.mark.django_db
def test_the_admin_speaks_chinese_by_default_and_english_when_chosen(client, admin_user):
    client.force_login(admin_user)

    chinese = client.get("/admin/").content.decode()
    assert "统仓后台" in chinese and "商品" in chinese

    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    english = client.get("/admin/").content.decode()
    assert "tongcang back office" in english and "Stock ledger" in english


def test_import_errors_are_translated_into_chinese():
    from django.utils import translation

    from config.tabular import parse_decimal

    with translation.override("zh-hans"), pytest.raises(ValueError) as info:
        parse_decimal("1.23456", 4)
    assert str(info.value) == "1.23456 的小数超过 4 位"


@pytest.mark.parametrize("value", ["prod", "Production", "staging", ""])
def test_an_unknown_django_env_refuses_to_start(value):
    env = production_env()
    env["DJANGO_ENV"] = value
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'production' or 'development'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["load_demo"], ["channel_sandbox"], ["erp_simulator", "--once"], ["serve"]],
)
def test_the_demo_commands_refuse_to_run_in_production(command):
    result = run_manage(*command, env=production_env())
    assert result.returncode != 0
    assert "DJANGO_ENV=production" in result.stderr  # "refuses to run in production", 拒绝运行


def test_the_waybill_sender_comes_from_tongcang_sender():
    code = "from orders.pdf.common import sender; print(sender())"
    env = {
        **production_env(),
        "DJANGO_ENV": "development",
        "TONGCANG_SENDER": "杭州仓; 0571-1234567 ;杭州市余杭区仓前街道1号",
    }
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(
        {"name": "杭州仓", "phone": "0571-1234567", "address": "杭州市余杭区仓前街道1号"}
    )


def test_a_first_visit_gets_chinese_whatever_the_browser_asks_and_english_when_chosen(client):
    first = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans"' in first.content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    chosen = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en"' in chosen.content.decode()


def test_the_site_has_an_icon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert 'rel="icon"' in client.get("/admin/login/").content.decode()
