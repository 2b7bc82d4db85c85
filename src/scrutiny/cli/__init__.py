"""The ``scrutiny`` command line.

Exit codes: 0 success, 1 a check or gate failed, 2 usage, configuration or data
errors (a one-line message, no traceback unless ``--debug``).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from scrutiny import __version__
from scrutiny.exceptions import ScrutinyError


class ScrutinyGroup(click.Group):
    """A click group that turns scrutiny errors into one-line messages and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = ctx.params.get("debug") or "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except ScrutinyError as exc:
            if debug:
                raise
            click.echo(f"Error: {_one_line(exc)}", err=True)
            ctx.exit(2)
        except (OSError, UnicodeDecodeError) as exc:
            if debug:
                raise
            click.echo(f"Error: {_one_line(exc)}", err=True)
            ctx.exit(2)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@click.group(cls=ScrutinyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrutiny")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def main(debug: bool) -> None:
    """Scrutiny: assess, explain and govern the fairness of ML models."""


def _register() -> None:
    from scrutiny.cli.assess import assess_command
    from scrutiny.cli.attribute import attribute_command
    from scrutiny.cli.audit import audit_group, demo_command
    from scrutiny.cli.card import card_group
    from scrutiny.cli.hub import push_command, serve_command
    from scrutiny.cli.init import init_command
    from scrutiny.cli.mitigate import mitigate_command

    main.add_command(assess_command)
    main.add_command(attribute_command)
    main.add_command(audit_group)
    main.add_command(card_group)
    main.add_command(demo_command)
    main.add_command(init_command)
    main.add_command(push_command)
    main.add_command(serve_command)
    main.add_command(mitigate_command)


_register()

__all__ = ["main"]
