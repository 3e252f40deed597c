"""CLI commands: users (placeholder until the capability lands)."""

import typer


def register(app: typer.Typer) -> None:
    return None
