"""``scrutiny mitigate``: train mitigation candidates and show the trade-off; never pick one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def _print_summary(record: dict[str, Any], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from scrutiny.report._mitigation import _pp
    from scrutiny.report._sentences import pct, points

    console = Console(stderr=True)
    target = record["target"]
    level = f"{record['options']['ci'] * 100:g}%"
    console.print(f"[bold]{record['title']}[/]  ({record['data']['n_test']} held-out rows)")
    console.print(f"Gap compared: {target['label']} ({target['source']})")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("Option", overflow="fold")
    for col in ("Accuracy", "Gap", "Change in gap", f"{level} interval", "Frontier"):
        table.add_column(col)
    for c in record["candidates"]:
        eff = (c.get("effect") or {}).get("gaps", {}).get(target["name"], {})
        ci = eff.get("ci")
        name = c["label"] + (" (control)" if c["role"] == "control" else "")
        table.add_row(
            name, pct(c["accuracy"]["value"]), points(c["gaps"][target["name"]]["value"],
                                                       short=True),
            _pp(eff.get("change"), unit="pts") if eff else "–",
            f"{_pp(ci[0], unit='')} to {_pp(ci[1], unit='')}" if ci else "–",
            "yes" if c.get("pareto") else "",
        )
    console.print(table)
    for g in record["guardrails"]:
        if g["severity"] == "warning":
            console.print(f"[bold yellow]Warning[/]: {g['message']}")
    others = sum(1 for g in record["guardrails"] if g["severity"] != "warning")
    if others:
        console.print(f"{others} more guardrail note(s): read them in the report.")
    choice = record.get("choice")
    if choice:
        console.print(f"Recorded choice: {choice['candidate']} (by {choice['decided_by']}).")
    else:
        console.print("No choice is recorded: scrutiny does not pick one. Record the team's "
                      "choice and rationale under mitigate.choice.")
    console.print(f"Wrote {out / 'mitigation.html'}, mitigation.json, audit.yaml")


@click.command("mitigate")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for mitigation.html, mitigation.json and audit.yaml (replaced "
              "when complete).")
@click.option("--trust", is_flag=True,
              help="Allow a pickled model or skops types outside the safe list.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def mitigate_command(config: str, out_dir: str, trust: bool, no_progress: bool) -> None:
    """Train the mitigation candidates of CONFIG and compare them on held-out data.

    CONFIG is an audit config with a model (data.model), training rows
    (training) and, optionally, a mitigate section. The report shows accuracy
    against the target gap for every candidate, with intervals and the
    trade-off frontier. It never picks a candidate: record the team's choice
    under mitigate.choice.
    """
    from scrutiny.mitigation._run import run_mitigation

    result = run_mitigation(config, out_dir, trust=trust, progress=not no_progress)
    _print_summary(result.record, Path(out_dir))
