"""Boots Cartograph exactly as `make run` does on a fresh machine: SQLite, the filesystem broker, file email."""

import json

import pytest

from .processes import PYTHON, Browser, clean_env, free_port, manage, start, stop, wait_for

pytestmark = pytest.mark.e2e


def test_boots_on_embedded_defaults_signs_in_and_lists_assets(tmp_path):
    env = clean_env(CARTOGRAPH_VAR_DIR=str(tmp_path), DJANGO_SUPERUSER_PASSWORD="smoke-test-pw")
    manage("migrate", "--noinput", env=env)
    assert (tmp_path / "cartograph.sqlite3").exists()
    manage("createsuperuser", "--noinput", "--username", "smoke", "--email", "smoke@example.com", env=env)
    manage(
        "shell",
        "-c",
        "from catalog.services import asset_create; from django.contrib.auth.models import User; "
        "asset_create(actor=User.objects.get(username='smoke'), kind='dataset', name='Smoke dataset', "
        "columns=[{'name': 'id'}])",
        env=env,
    )
    port = free_port()
    web = start(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, log=tmp_path / "web.log"
    )
    worker = start(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=INFO", "--without-heartbeat"],
        env=env,
        log=tmp_path / "worker.log",
    )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")

        def up() -> bool:
            try:
                return browser.get("/sign-in/")[0] == 200
            except OSError:
                return False

        wait_for(up, timeout=60, what="the web server")
        status, _ = browser.post_form("/sign-in/", {"username": "smoke", "password": "wrong"})
        assert status == 200  # the form again, with an error
        status, _ = browser.post_form("/sign-in/", {"username": "smoke", "password": "smoke-test-pw"})
        assert status == 200
        status, body = browser.get("/api/v1/assets/")
        assert status == 200, body
        listed = json.loads(body)["results"]
        assert [a["name"] for a in listed] == ["Smoke dataset"]

        # Opening the asset sends a task through the filesystem broker; the worker counts the view.
        asset_id = listed[0]["id"]
        assert browser.get(f"/api/v1/assets/{asset_id}/")[0] == 200

        def counted() -> bool:
            return json.loads(browser.get("/api/v1/assets/?page_size=1")[1])["results"][0]["view_count"] >= 1

        wait_for(counted, timeout=60, what="the worker to record the view")
    finally:
        stop(web)
        stop(worker)
    assert "Traceback" not in (tmp_path / "web.log").read_text()


def test_fresh_settings_point_at_embedded_files(tmp_path):
    env = clean_env(CARTOGRAPH_VAR_DIR=str(tmp_path))
    out = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.MEDIA_ROOT)",
        env=env,
    )
    engine, broker, email, media = out.strip().splitlines()[-1].split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert email == "django.core.mail.backends.filebased.EmailBackend"
    assert media == str(tmp_path / "media")
