"""``scrutiny serve`` (run the hub) and ``scrutiny push`` (send an audit folder to it)."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--database-url", default=None, metavar="URL",
              help="SQLAlchemy URL (default: $SCRUTINY_DATABASE_URL, else SQLite in the data "
              "folder), e.g. postgresql://user@host/db.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="Folder for attachments, the SQLite file and the secret key (default: "
              "$SCRUTINY_HUB_DATA, else ./scrutiny-hub).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each handles requests on its own; rate limits are "
              "counted per worker). Use PostgreSQL for more than a few.")
@click.option("--migrate-only", is_flag=True,
              help="Upgrade the database schema and exit without serving.")
@click.option("--sweep-blobs", is_flag=True,
              help="Delete attachment files no revision or audit refers to (left by failed "
              "uploads) and exit without serving.")
@click.option("--older-than", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="With --sweep-blobs: only files unreferenced and older than this "
              "[default: 3600].")
@click.option("--dry-run", is_flag=True,
              help="With --sweep-blobs: list what would be deleted, delete nothing.")
def serve_command(host: str, port: int, database_url: str | None, data_dir: str | None,
                  workers: int, migrate_only: bool, sweep_blobs: bool,
                  older_than: float | None, dry_run: bool) -> None:
    """Run the hub: models, datasets, audits and their deliberation record on the web.

    The database schema is upgraded at start-up. Settings come from SCRUTINY_*
    variables; the flags override them.
    """
    from scrutiny.hub import HubSettings, _require_extra, create_app, migrate

    if (older_than is not None or dry_run) and not sweep_blobs:
        flag = "--older-than" if older_than is not None else "--dry-run"
        msg = f"{flag} only applies with --sweep-blobs; add --sweep-blobs or drop {flag}."
        raise click.UsageError(msg)
    if sweep_blobs and migrate_only:
        msg = "--sweep-blobs and --migrate-only are separate tasks; run them one at a time."
        raise click.UsageError(msg)
    _require_extra()  # a one-line error naming the extra, before anything imports it
    settings = HubSettings.from_env(database_url=database_url, data_dir=data_dir)
    resolved = settings.resolved()
    from sqlalchemy.engine import make_url

    shown = make_url(resolved.database_url or "").render_as_string(hide_password=True)
    if sweep_blobs:
        from scrutiny.hub import sweep_blobs as sweep

        res = sweep(resolved, older_than=3600.0 if older_than is None else older_than,
                    dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        click.echo(f"{verb} {len(res['removed'])} unreferenced file(s), "
                   f"{res['removed_bytes']:,} bytes, in {resolved.data_dir}; kept "
                   f"{res['kept_referenced']} referenced and {res['kept_recent']} too recent.")
        for name in res["removed"]:
            click.echo(f"  {name}")
        return
    if migrate_only:
        revision = migrate(resolved)
        click.echo(f"Database {shown} is at schema revision {revision}.")
        return
    import uvicorn

    if workers == 1:
        app = create_app(resolved)
        click.echo(f"scrutiny hub on http://{host}:{port} (database {shown}, data in "
                   f"{resolved.data_dir})", err=True)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # several processes: migrate once here, then hand every worker the resolved settings
    # (the same database, data folder and secret key, so sessions and CSRF tokens made by
    # one worker are valid on the others)
    import os

    from scrutiny.hub import ENV_VARS

    migrate(resolved)
    os.environ[ENV_VARS["database_url"]] = str(resolved.database_url)
    os.environ[ENV_VARS["data_dir"]] = str(resolved.data_dir)
    os.environ[ENV_VARS["secret_key"]] = str(resolved.secret_key)
    click.echo(f"scrutiny hub on http://{host}:{port}, {workers} workers (database {shown}, "
               f"data in {resolved.data_dir})", err=True)
    uvicorn.run("scrutiny.hub._app:worker_app", factory=True, host=host, port=port,
                workers=workers, log_level="info")


@click.command("push")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--repo", required=True, metavar="ORG/NAME",
              help="Repository to push to; created if it does not exist.")
@click.option("--hub", "hub_url", default="http://127.0.0.1:8000", show_default=True,
              envvar="SCRUTINY_HUB_URL", metavar="URL",
              help="The hub's address (or $SCRUTINY_HUB_URL).")
@click.option("--token", envvar="SCRUTINY_TOKEN", metavar="TOKEN",
              help="API token with write scope (or $SCRUTINY_TOKEN).")
@click.option("--kind", type=click.Choice(["model", "dataset"]), default="model",
              show_default=True, help="Kind of repository, when the push creates it.")
@click.option("--message", default="", help="What this push changes (the revision message).")
@click.option("--public", is_flag=True,
              help="Create the repository public (default private; an existing repository "
              "keeps its visibility).")
def push_command(directory: str, repo: str, hub_url: str, token: str | None, kind: str,
                 message: str, public: bool) -> None:
    """Send an audit folder (README.md, audit.json, report.html, attribution results) to a hub.

    The files become one new revision of ORG/NAME; the audit is shown as pages and its
    deliberation record becomes editable on the hub.
    """
    from scrutiny.hub._client import push

    data, plan, warnings = push(directory, repo, hub=hub_url, token=token, kind=kind,
                                message=message, public=public)
    for w in warnings:
        click.echo(f"Warning: {w}", err=True)
    created = " (created)" if data["created"] else ""
    click.echo(f"Pushed {len(plan.files)} file(s) to {data['repo']['full_name']}{created} as "
               f"revision {data['revision']}: {', '.join(data['files'])}")
    if plan.skipped:
        click.echo(f"Not sent (not audit artefacts): {', '.join(plan.skipped)}")
    if data.get("audit"):
        rows = ", ".join(f"{n} {k}" for k, n in data["imported"].items() if n) or "no new rows"
        click.echo(f"Audit #{data['audit']} attached; deliberation record: {rows}.")
    for note in data.get("notes", []):
        click.echo(note)
    click.echo(f"{hub_url.rstrip('/')}{data['url']}")
