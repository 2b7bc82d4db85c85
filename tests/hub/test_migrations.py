"""Migrations: an empty database and the previous schema upgrade, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from scrutiny.exceptions import ConfigError
from scrutiny.hub._db import Base, make_engine
from scrutiny.hub._migrate import current_revision, head_revision, upgrade

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
CARD = ("---\nlicense: apache-2.0\npipeline_tag: tabular-classification\n"
        "tags: [Rigorous, not-for-all-audience]\n---\n# Credit model\n\nBody.\n")


@pytest.fixture
def engine(database_url, tmp_path):
    eng = make_engine(database_url or f"sqlite:///{tmp_path / 'm.db'}")
    yield eng
    eng.dispose()


def _differences(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)


@BOTH
def test_an_empty_database_upgrades_to_the_models(engine):
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    assert _differences(engine) == []
    assert upgrade(engine) == head_revision()  # idempotent


@BOTH
def test_the_previous_schema_upgrades_with_its_data(engine):
    assert upgrade(engine, "0001") == "0001"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, username, display_name, password_hash, is_moderator, "
            "created_at) VALUES (1, 'ada', 'Ada', 'x', false, :t)"), {"t": "2026-01-01"})
        conn.execute(sa.text(
            "INSERT INTO organisations (id, name, display_name, description, created_at) "
            "VALUES (1, 'acme', 'Acme', '', :t)"), {"t": "2026-01-01"})
        conn.execute(sa.text(
            "INSERT INTO memberships (id, org_id, user_id, role, created_at) "
            "VALUES (1, 1, 1, 'owner', :t)"), {"t": "2026-01-01"})
        conn.execute(sa.text(
            "INSERT INTO repositories (id, org_id, name, kind, private, created_at, updated_at) "
            "VALUES (1, 1, 'credit', 'model', false, :t, :t)"), {"t": "2026-01-01"})
        for number, card in ((1, "# old"), (2, CARD)):
            conn.execute(sa.text(
                "INSERT INTO revisions (repo_id, number, message, card, files, author_id, "
                "created_at) VALUES (1, :n, 'm', :c, '{}', 1, :t)"),
                {"n": number, "c": card, "t": "2026-01-01"})
    assert upgrade(engine) == head_revision()
    assert _differences(engine) == []
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT title, license, task FROM repositories")).one()
        tags = sorted(conn.execute(sa.text("SELECT tag FROM repo_tags")).scalars())
    assert tuple(row) == ("Credit model", "apache-2.0", "tabular-classification")
    assert tags == ["not-for-all-audience", "rigorous"]


@BOTH
def test_downgrade_then_upgrade_again(engine):
    upgrade(engine)
    from alembic import command

    from scrutiny.hub._migrate import _config

    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    assert not sa.inspect(engine).has_table("activity")
    assert upgrade(engine) == head_revision()


def test_a_database_with_unknown_tables_is_refused(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id integer)"))
    with pytest.raises(ConfigError, match="no migration record"):
        upgrade(eng)
    eng.dispose()


def test_a_newer_schema_is_refused(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(eng)
    with eng.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="newer scrutiny"):
        upgrade(eng)
    eng.dispose()


@BOTH
def test_serve_migrate_only(database_url, tmp_path):
    from scrutiny.cli import main

    args = ["serve", "--migrate-only", "--data-dir", str(tmp_path / "data")]
    if database_url:
        args += ["--database-url", database_url]
    res = CliRunner().invoke(main, args, env={"SCRUTINY_DATABASE_URL": ""})
    assert res.exit_code == 0, res.output
    assert f"schema revision {head_revision()}" in res.output
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
    if database_url is None:
        assert (tmp_path / "data" / "hub.db").is_file()


@BOTH
def test_the_app_works_end_to_end_on_each_backend(app, world, backend):
    owner = world.api("owner")
    assert owner.put(f"/api/repos/{world.public}/card",
                     json={"card": CARD, "message": "v2"}).status_code == 200
    for probe in ("'; DROP TABLE users; --", "ü\u2028ñ", "%_\\"):
        r = world.browser(None).get("/api/search", params={"q": probe, "tag": probe})
        assert r.status_code == 200 and r.json()["data"]["results"] == []
    hits = world.browser(None).get("/api/search?tag=rigorous&license=apache-2.0").json()
    assert [x["full_name"] for x in hits["data"]["results"]] == [world.public]
    r = owner.post(f"/api/repos/{world.public}/deliberation/evidence",
                   json={"kind": "interview", "summary": "Ünïcode ✓ evidence"})
    assert r.status_code == 201
    assert world.browser("outsider").get(f"/api/repos/{world.private}").status_code == 404
    assert world.browser("viewer").get(f"/api/repos/{world.private}").status_code == 200
    r = owner.post("/api/orgs", json={"name": "acme"})
    assert r.status_code == 409
