"""CLI commands: serve (placeholder until the capability lands)."""

import typer


def register(app: typer.Typer) -> None:
    return None
