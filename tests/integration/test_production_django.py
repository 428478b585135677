"""The acceptance test a Django user would run: examples/django-postgres deployed for real.

PostgreSQL from Debian's package on loopback, DATABASE_URL/SECRET_KEY/ALLOWED_HOSTS as config
vars with DEBUG off, migrations in the release phase, the admin user created by the `setup`
hook in a one-off dyno, and the admin used in headless Chromium: login, the admin index, and a
style that only the admin's stylesheet applies (so the static files really were served).
"""

from __future__ import annotations

import os
import secrets
import shutil

import pytest

from tests.conftest import EXAMPLES, write
from tests.harness import browser
from tests.harness.heroku import Heroku
from tests.harness.heroku_app import HerokuApp
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration

APP = os.path.join(EXAMPLES, "django-postgres")
ADMIN_HEADER_BACKGROUND = "rgb(65, 118, 144)"  # #417690: --header-bg in django/contrib/admin/static/admin/css/base.css


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    server.wait_ready()
    yield server
    server.stop()


def config_for(database, **extra) -> dict[str, str]:
    return {
        "DATABASE_URL": database.url,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_ADMIN_USERNAME": "admin",
        "DJANGO_ADMIN_EMAIL": "admin@example.com",
        "DJANGO_ADMIN_PASSWORD": "correct-horse-battery-staple",
        **extra,
    }


def tables(postgres, database) -> set[str]:
    rows = postgres.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=database.name)
    return set(rows.split())


def login_and_check_style(web, config, screenshot_name: str, path_after_login: str | None = None) -> str:
    with browser.chromium() as driver:
        browser.admin_login(driver, web.url, config["DJANGO_ADMIN_USERNAME"], config["DJANGO_ADMIN_PASSWORD"])
        assert driver.current_url.rstrip("/").endswith("/admin"), driver.current_url
        assert "Site administration" in driver.page_source
        assert browser.computed_style(driver, "#header", "background-color") == ADMIN_HEADER_BACKGROUND
        if path_after_login:
            driver.get(web.url + path_after_login)
        shot = browser.screenshot(driver, screenshot_name)
        return driver.page_source if path_after_login else shot


# The server's program in the generated web command, to check the build ran the one asked for.
SERVER_PROGRAM = {"mod_wsgi": "mod_wsgi-express start-server", "gunicorn": "exec gunicorn "}


@pytest.mark.parametrize("server", ["mod_wsgi", "gunicorn"])
def test_deploy_release_setup_and_admin_in_a_browser(heroku: Heroku, postgres, server):
    database = postgres.create_database()
    config = config_for(database, LAUNCHPACK_SERVER=server)
    app = HerokuApp(heroku, config)
    try:
        deploy = app.deploy(APP)
        assert deploy.built, deploy.slug.compile.output
        assert SERVER_PROGRAM[server] in deploy.slug.process_command("web")
        # The release phase migrated PostgreSQL before the web dyno started.
        assert deploy.release is not None and deploy.release.ok, deploy.release.output
        assert "Applying notes.0001_initial... OK" in deploy.release.output
        assert {"notes_note", "auth_user", "django_migrations"} <= tables(postgres, database)
        # Setup as a one-off (heroku run): creates the admin user from the config vars.
        setup = app.run(".launchpack/action_hooks/setup")
        assert setup.ok, setup.output
        assert postgres.psql("SELECT username FROM auth_user WHERE is_superuser", database=database.name).strip() == "admin"
        # DEBUG is off: Django serves no static files itself; the generated web process does.
        css = deploy.web.get("/static/admin/css/base.css")
        assert css.status == 200 and css.headers["content-type"].startswith("text/css")
        assert deploy.web.get("/nope/").status == 404
        shot = login_and_check_style(deploy.web, config, f"admin-index-{server}")
        assert os.path.getsize(shot) > 10_000
    finally:
        app.stop()


def test_the_same_through_the_local_cli(cli, postgres, app_copy):
    """launchpack build, setup, start on a developer's machine, against the same PostgreSQL."""
    database = postgres.create_database()
    config = config_for(database)
    project = app_copy("django-postgres")
    env = cli.env(**config)  # the developer's shell exports the settings (a .env file works too)
    built = cli.run(["build"], cwd=project, env=env)
    assert built.returncode == 0, built.output
    setup = cli.run(["setup"], cwd=project, env=env)
    assert setup.returncode == 0, setup.output
    assert "Applying notes.0001_initial... OK" in setup.stdout
    assert postgres.psql("SELECT username FROM auth_user WHERE is_superuser", database=database.name).strip() == "admin"
    with cli.start(project, env=env) as server:
        server.wait_until_serving()
        assert server.get("/static/admin/css/base.css").status == 200
        shot = login_and_check_style(server, config, "admin-index-local-cli")
        assert os.path.getsize(shot) > 10_000
        migrate = cli.run(["migrate"], cwd=project, env=env)
        assert migrate.returncode == 0 and "No migrations to apply." in migrate.stdout, migrate.output
        assert server.stop() < 10


def test_a_new_migration_is_applied_by_the_next_release(heroku: Heroku, postgres, tmp_path):
    database = postgres.create_database()
    config = config_for(database)
    source = str(tmp_path / "app")
    shutil.copytree(APP, source)
    app = HerokuApp(heroku, config)
    try:
        first = app.deploy(source)
        assert first.released, (first.slug.compile.output, first.release and first.release.output)
        assert app.run(".launchpack/action_hooks/setup").ok
        # A second push adds a model and its migration.
        with open(os.path.join(source, "notes", "models.py"), "a") as handle:
            handle.write("\n\nclass Tag(models.Model):\n    name = models.CharField(max_length=50)\n\n    def __str__(self):\n        return self.name\n")
        with open(os.path.join(source, "notes", "admin.py"), "a") as handle:
            handle.write("\n\nfrom .models import Tag  # noqa: E402\n\nadmin.site.register(Tag)\n")
        write(
            os.path.join(source, "notes", "migrations", "0002_tag.py"),
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            "    dependencies = [('notes', '0001_initial')]\n"
            "    operations = [migrations.CreateModel(name='Tag', fields=[\n"
            "        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n"
            "        ('name', models.CharField(max_length=50))])]\n",
        )
        second = app.deploy(source)
        assert second.released, (second.slug.compile.output, second.release and second.release.output)
        assert "Applying notes.0002_tag... OK" in second.release.output
        assert "notes_tag" in tables(postgres, database)
        assert first.web.proc.poll() is not None  # the old release's dyno was stopped
        page = login_and_check_style(second.web, config, "admin-tags", path_after_login="/admin/notes/tag/")
        assert "Select tag to change" in page
    finally:
        app.stop()


def test_a_failed_release_leaves_the_previous_release_serving(heroku: Heroku, postgres):
    database = postgres.create_database()
    config = config_for(database)
    app = HerokuApp(heroku, config)
    try:
        first = app.deploy(APP)
        assert first.released
        # The database becomes unreachable: a port nothing listens on.
        broken = config_for(database, DATABASE_URL=database.url.replace(f":{database.port}/", ":1/"))
        second = app.deploy(APP, broken)
        assert second.built, second.slug.compile.output  # building does not need the database
        assert second.release is not None and not second.release.ok
        assert "The release command ./.launchpack/action_hooks/migrate failed with exit status 1" in second.release.output
        assert "must not go live" in second.release.output
        assert second.web is None
        assert app.web is first.web and first.web.proc.poll() is None
        assert first.web.get("/admin/login/").status == 200
    finally:
        app.stop()
