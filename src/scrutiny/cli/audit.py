"""``scrutiny audit`` and ``scrutiny demo``: the guided audit from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scrutiny.exceptions import ConfigError


class DefaultRunGroup(click.Group):
    """``scrutiny audit CONFIG`` means ``scrutiny audit run CONFIG``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert ``run`` when the first argument is not a subcommand."""
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _print_summary(record: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    rec = record["recommendation"]
    primary = [i["label"] for i in rec["recommended"] if i["role"] == "primary"]
    console.print(f"[bold]{record['title']}[/]  ({record['data']['n_rows']} rows)")
    if primary:
        console.print(f"Primary criterion: {', '.join(primary)}")
    for row in record["ranking"][:3]:
        ci = row["ci_difference"]
        ci_text = f" (95% interval {ci[0]:.3f} to {ci[1]:.3f})" if ci else ""
        console.print(
            f"  • {row['metric'].replace('_', ' ')} by {', '.join(row['features'])}: gap "
            f"{row['difference']:.3f}{ci_text}"
        )
    for g in record["gates"]:
        console.print(f"  gate {g['metric']}: [bold]{g['status']}[/] — {g['detail']}")
    n = len(record["guardrails"])
    if n:
        console.print(f"{n} guardrail message(s): read them in the report.")
    if out is not None:
        console.print(f"Wrote {out / 'report.html'}, audit.json, audit.md")


@click.group("audit", cls=DefaultRunGroup, invoke_without_command=False)
def audit_group() -> None:
    """Run a guided fairness audit from a config (see `scrutiny init`), or check its gates.

    Usage: scrutiny audit CONFIG --out DIR   |   scrutiny audit check DIR_OR_CONFIG
    """


@audit_group.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for report.html, audit.json, audit.md (replaced when complete).")
@click.option("--trust", is_flag=True,
              help="Allow a pickled model or skops types outside the safe list.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def run_command(config: str, out_dir: str, trust: bool, no_progress: bool) -> None:
    """Run the audit described by CONFIG and write the report into --out."""
    from scrutiny.audit._run import run_audit

    result = run_audit(config, out_dir, trust=trust, progress=not no_progress)
    _print_summary(result.record, Path(out_dir))


@audit_group.command("check")
@click.argument("target", type=click.Path())
@click.option("--trust", is_flag=True, help="As for `scrutiny audit run`.")
def check_command(target: str, trust: bool) -> None:
    """Exit 1 when a gate with severity 'fail' is crossed (gates warn by default).

    TARGET is an audit output folder (its audit.json is read) or a config file (the
    audit is run in memory).
    """
    from rich.console import Console

    path = Path(target)
    if path.is_dir():
        record_path = path / "audit.json"
        if not record_path.is_file():
            msg = f"{target!r} has no audit.json. Pass an audit output folder or a config file."
            raise ConfigError(msg)
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            msg = f"{str(record_path)!r} is not valid JSON ({exc.msg} at line {exc.lineno})."
            raise ConfigError(msg) from None
        gates = record.get("gates")
        if not isinstance(gates, list):
            msg = f"{str(record_path)!r} has no 'gates' list: it is not a scrutiny audit record."
            raise ConfigError(msg)
    else:
        from scrutiny.audit._run import run_audit

        gates = run_audit(target, None, trust=trust).record["gates"]
    console = Console()
    if not gates:
        console.print("No gates are configured: nothing to check.")
    for g in gates:
        console.print(f"{g['metric']}: {g['status']} ({g['severity']}) — {g['detail']}")
    failed = [g for g in gates if g["status"] == "fail"]
    if failed:
        console.print(f"[red]{len(failed)} gate(s) failed.[/]")
        raise SystemExit(1)


@click.command("demo")
@click.option("--out", "out_dir", default="scrutiny-demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the demo report.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def demo_command(out_dir: str, no_progress: bool) -> None:
    """Run the whole audit on the bundled Adult data with a model trained on the fly."""
    from scrutiny.audit._demo import run_demo

    result = run_demo(out_dir, progress=not no_progress)
    _print_summary(result.record, Path(out_dir))
