"""Fixtures of the hub tests: an app on a temporary database, and a factory of users,
organisations, roles, repositories and tokens.

The app runs on a temporary SQLite file by default. Tests parametrised with
``@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)``
also run on PostgreSQL (127.0.0.1:5432, database ``test``,
user ``postgres``; override with ``SCRUTINY_TEST_POSTGRES_URL``), each in a
fresh schema that is dropped afterwards. Where PostgreSQL does not answer,
those runs are skipped with the reason, except with ``CI=true``, where they
fail.

Use :class:`HubFactory` (fixture ``hub``) to build what a test needs, and
:func:`world` for the standard cast: one organisation with a member of every
role, an outsider, a site moderator, and a public and a private repository.

Speed: SQLite tests start from copies of session-wide templates (a migrated
database; for tests that use :func:`world`, a data folder that already holds
the world), and share one FastAPI app whose state each test swaps; PostgreSQL
tests migrate a fresh schema and create the world themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the hub tests need the hub extra: pip install "
                    "'scrutiny[hub]'")

from fastapi.testclient import TestClient

from scrutiny.hub import HubSettings, create_app

ROLES = ("owner", "maintainer", "reviewer", "member", "viewer")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "a long enough password"

_pg_status: dict[str, str | None] = {}


def fast_settings(data_dir: Path, **kw: Any) -> HubSettings:
    """Settings for tests: cheap argon2 parameters (never use these in production)."""
    return HubSettings(data_dir=data_dir, argon2_time_cost=1, argon2_memory_cost=8,
                       argon2_parallelism=1, **kw)


def postgres_url() -> str:
    """The PostgreSQL server of the tests; skip (or fail in CI) when it does not answer."""
    url = os.environ.get("SCRUTINY_TEST_POSTGRES_URL", PG_DEFAULT)
    if url not in _pg_status:
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            _pg_status[url] = None
        except Exception as exc:
            _pg_status[url] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    problem = _pg_status[url]
    if problem is not None:
        msg = (f"PostgreSQL is not reachable at {url} ({problem}). Start it (see .ci/run) or "
               "set SCRUTINY_TEST_POSTGRES_URL.")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of the test (``sqlite`` unless parametrised)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(backend: str) -> Iterator[str | None]:
    """None for SQLite (a file in the data folder), or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield None
        return
    import sqlalchemy as sa

    base = postgres_url()
    schema = f"scrutiny_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (faster than migrating each time)."""
    from scrutiny.hub._db import make_engine
    from scrutiny.hub._migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL into the file
    return path


#: Per-test limits (small, so that the 413 tests stay cheap).
LIMITS = {"max_upload_bytes": 64 * 1024, "max_request_bytes": 512 * 1024}
#: Data folders copied from the seeded world template (:func:`world` finds its cast there).
_SEEDED: set[Path] = set()


@pytest.fixture(scope="session")
def _world_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (database and blobs) holding the standard :func:`world`, built once:
    SQLite tests that use the world get a copy instead of creating it each time."""
    from scrutiny.hub._app import build_hub
    from scrutiny.hub._settings import SECRET_FILE

    data_dir = tmp_path_factory.mktemp("world-template") / "hub"
    data_dir.mkdir()
    shutil.copyfile(_sqlite_template, data_dir / "hub.db")
    shell = _Shell(build_hub(fast_settings(data_dir, auto_migrate=False, **LIMITS)))
    _seed_world(HubFactory(shell))
    shell.state.hub.engine.dispose()  # checkpoints the WAL into the file
    (data_dir / SECRET_FILE).unlink(missing_ok=True)  # each test generates its own key
    return data_dir


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None,
             _sqlite_template: Path) -> HubSettings:
    """Test settings on a temporary data folder (and database).

    On SQLite the database is a copy of a migrated template (so ``auto_migrate``
    is off: there is nothing to upgrade; PostgreSQL schemas start empty and are
    migrated as in production). Tests that use :func:`world` get a copy of a
    template that already holds it.
    """
    data_dir = tmp_path / "hub"
    if database_url is not None:
        return fast_settings(data_dir, database_url=database_url, **LIMITS)
    if "world" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("_world_template"), data_dir)
        _SEEDED.add(data_dir.resolve())
    else:
        data_dir.mkdir()
        shutil.copyfile(_sqlite_template, data_dir / "hub.db")
    return fast_settings(data_dir, auto_migrate=False, **LIMITS)


@pytest.fixture(scope="session")
def _app_shell(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One FastAPI app for the session: FastAPI prepares each route on its first request,
    which costs about half a second per app, so tests swap the app's state instead."""
    return create_app(fast_settings(tmp_path_factory.mktemp("shell")))


@pytest.fixture
def app(_app_shell: Any, settings: HubSettings) -> Iterator[Any]:
    """The hub application on the test's own database and data folder (schema migrated).

    Everything that depends on the settings lives in ``app.state.hub``, so a
    fresh :func:`~scrutiny.hub._app.build_hub` gives each test a fresh hub.
    """
    from scrutiny.hub._app import build_hub

    previous = _app_shell.state.hub
    _app_shell.state.hub = build_hub(settings)
    yield _app_shell
    _app_shell.state.hub.engine.dispose()
    _app_shell.state.hub = previous


@pytest.fixture
def client(app: Any) -> TestClient:
    """An anonymous browser/API client."""
    return TestClient(app)


# ---------------------------------------------------------------------------
# the factory


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no form with a CSRF token on this page"
    return m.group(1)


class Browser(TestClient):
    """A signed-in client: ``post_form`` adds the session's CSRF token."""

    csrf: str = ""
    username: str = ""

    def post_form(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form as a browser would (with the CSRF token, without following redirects)."""
        kw.setdefault("follow_redirects", False)
        return self.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kw)


class HubFactory:
    """Creates users, organisations, memberships, repositories and tokens directly in the
    database (fast: no password hashing per sign-in), and clients acting as them."""

    PASSWORD = PASSWORD
    csrf_from = staticmethod(csrf_from)

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hub = app.state.hub

    def db(self) -> Any:
        """A database session."""
        return self.hub.sessions()

    def user(self, username: str, *, moderator: bool = False,
             display_name: str | None = None) -> Any:
        """A user whose password is :data:`PASSWORD`."""
        from scrutiny.hub._db import User

        with self.db() as db:
            user = User(username=username, display_name=display_name or username.title(),
                        password_hash=self._hash(), is_moderator=moderator)
            db.add(user)
            db.commit()
            return user

    def _hash(self) -> str:
        if not hasattr(self, "_pw"):
            self._pw = self.hub.hasher.hash(PASSWORD)
        return self._pw

    def org(self, name: str, *, members: dict[str, str] | None = None) -> Any:
        """An organisation with ``{username: role}`` members."""
        from scrutiny.hub._db import Organisation

        with self.db() as db:
            org = Organisation(name=name, display_name=name.title(), description="")
            db.add(org)
            db.commit()
        for username, role in (members or {}).items():
            self.member(name, username, role)
        return org

    def member(self, org: str, username: str, role: str) -> None:
        """Give ``username`` a role in ``org``."""
        from sqlalchemy import select

        from scrutiny.hub._db import Membership, Organisation, User

        with self.db() as db:
            o = db.scalar(select(Organisation).where(Organisation.name == org))
            u = db.scalar(select(User).where(User.username == username))
            db.add(Membership(org_id=o.id, user_id=u.id, role=role))
            db.commit()

    def repo(self, org: str, name: str, *, kind: str = "model", private: bool = False,
             card: str = "", by: str | None = None) -> str:
        """A repository with a first revision; returns ``ORG/NAME``."""
        from sqlalchemy import select

        from scrutiny.hub._content import create_repo
        from scrutiny.hub._context import Ctx
        from scrutiny.hub._db import Organisation, User
        from scrutiny.hub._security import Actor

        with self.db() as db:
            o = db.scalar(select(Organisation).where(Organisation.name == org))
            user = db.scalar(select(User).where(User.username == by)) if by else None
            ctx = Ctx(request=None, db=db, hub=self.hub, actor=Actor(user=user))  # type: ignore[arg-type]
            create_repo(ctx, o, name, kind=kind, private=private, card=card)
            db.commit()
        return f"{org}/{name}"

    def token(self, username: str, scope: str = "write") -> str:
        """An API token of ``username``."""
        from sqlalchemy import select

        from scrutiny.hub._db import ApiToken, User
        from scrutiny.hub._security import TOKEN_PREFIX, new_token, sha256

        secret = new_token(TOKEN_PREFIX)
        with self.db() as db:
            u = db.scalar(select(User).where(User.username == username))
            db.add(ApiToken(user_id=u.id, name=f"{scope} token", token_hash=sha256(secret),
                            prefix=secret[:10], scope=scope))
            db.commit()
        return secret

    def browser(self, username: str | None = None) -> Browser:
        """A client signed in as ``username`` (anonymous for None), with its CSRF token."""
        from sqlalchemy import select

        from scrutiny.hub._db import User
        from scrutiny.hub._security import SESSION_COOKIE, csrf_token, sha256, start_session

        client = Browser(self.app)
        if username is None:
            client.csrf = csrf_from(client.get("/signin").text)
            return client
        with self.db() as db:
            user = db.scalar(select(User).where(User.username == username))
            token = start_session(db, user, self.hub.settings, None)
            db.commit()
        client.cookies.set(SESSION_COOKIE, token)
        client.csrf = csrf_token(self.hub.settings.secret_key, sha256(token))
        client.username = username
        return client

    def api(self, username: str, scope: str = "write") -> TestClient:
        """A client sending a bearer token of ``username`` (no cookies, no CSRF)."""
        client = TestClient(self.app)
        client.headers["Authorization"] = f"Bearer {self.token(username, scope)}"
        return client


@pytest.fixture
def hub(app: Any) -> HubFactory:
    """The factory, on the test's app."""
    return HubFactory(app)


@dataclass
class World:
    """The standard cast: org ``acme`` with one user per role, an outsider and a moderator,
    a public repository ``acme/open`` and a private one ``acme/secret``."""

    hub: HubFactory
    org: str = "acme"
    public: str = "acme/open"
    private: str = "acme/secret"
    users: dict[str, str] = field(default_factory=dict)  # role (or outsider/moderator) -> name

    def browser(self, who: str | None) -> Browser:
        """A signed-in client for a role name, ``outsider``, ``moderator`` or None."""
        return self.hub.browser(self.users[who] if who else None)

    def api(self, who: str, scope: str = "write") -> TestClient:
        """A bearer-token client for a role name, ``outsider`` or ``moderator``."""
        return self.hub.api(self.users[who], scope)


class _Shell:
    """Just enough of an app for :class:`HubFactory` to write to a hub."""

    def __init__(self, hub: Any) -> None:
        self.state = type("State", (), {"hub": hub})()


def _cast() -> dict[str, str]:
    return {**{role: f"{role}-user" for role in ROLES}, "outsider": "outsider",
            "moderator": "moderator"}


@pytest.fixture
def world(hub: HubFactory) -> World:
    """See :class:`World`. On SQLite the test's database is a copy of a template that
    already holds it (see :func:`settings`); on PostgreSQL it is created here."""
    if hub.hub.settings.data_dir.resolve() in _SEEDED:
        return World(hub, users=_cast())
    return _seed_world(hub)


def _seed_world(hub: HubFactory) -> World:
    """Create the standard cast and repositories through ``hub``."""
    w = World(hub, users=_cast())
    for role in ROLES:
        hub.user(w.users[role])
    hub.user("outsider")
    hub.user("moderator", moderator=True)
    hub.org("acme", members={w.users[r]: r for r in ROLES})
    hub.repo("acme", "open", private=False, by=w.users["owner"],
             card="---\nlicense: mit\ntags: [rigorous]\npipeline_tag: tabular-classification\n"
                  "---\n# Open credit model\n\nA public model.\n")
    hub.repo("acme", "secret", private=True, by=w.users["owner"],
             card="---\nlicense: apache-2.0\ntags: [consentful]\n---\n# Secret model\n")
    return w


# ---------------------------------------------------------------------------
# an audit folder like the one `scrutiny demo` writes


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit output folder with the files `scrutiny demo` writes, plus attribution results.

    ``scrutiny demo`` itself trains a model and verifies its attribution by
    retraining (about a minute); this builds the same kind of folder from the
    demo's own config in seconds: the bundled data's predictions instead of
    a freshly trained model, fewer bootstrap samples, and an influence
    attribution on a small sample instead of the retraining check. Set
    ``SCRUTINY_HUB_DEMO_DIR`` to the output of a real ``scrutiny demo`` to push
    that instead.
    """
    given = os.environ.get("SCRUTINY_HUB_DEMO_DIR")
    if given:
        return Path(given)
    from sklearn.linear_model import LogisticRegression

    from scrutiny.attribution import attribute
    from scrutiny.audit._config import parse_config
    from scrutiny.audit._demo import DEMO_CONFIG
    from scrutiny.audit._run import build_record, write_outputs
    from scrutiny.datasets import load_adult

    raw = {**DEMO_CONFIG, "assessment": {"seed": 0, "n_boot": 20},
           "data": {"demo": "adult", "y_true": "income", "y_pred": "prediction",
                    "y_score": "score"}}
    raw.pop("training")
    config = parse_config(raw, source="(hub test demo)")
    out = tmp_path_factory.mktemp("demo") / "out"
    write_outputs(build_record(config), config, out)
    train = load_adult(split="train").head(300)
    cols = ["age", "education_num", "hours_per_week"]
    model = LogisticRegression().fit(train[cols], train["income"])
    result = attribute(model, train[cols], train["income"].to_numpy(), train[cols].head(2),
                       train["income"].to_numpy()[:2])
    result.to_json(out / "attribution.json")
    (out / "model.skops").write_bytes(b"not pushed")
    return out
