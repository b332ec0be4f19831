"""Running cloudctl in-process with Typer's CliRunner, and snapshots of the database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cloudctl.cli.app import app


class Cli:
    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def run(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None):
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"cloudctl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def fails(self, *args: str, input: str | None = None):
        """Run a command that must be refused: exit 1, a message, no traceback, nothing written."""
        before = self.snapshot()
        result = self.run(*args, input=input)
        assert result.exit_code == 1, (
            f"expected exit 1, got {result.exit_code}:\n{result.stdout}\n{result.stderr}"
        )
        assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
        assert result.stderr.strip(), "a refusal must say why on stderr"
        assert self.snapshot() == before, "a refused command changed the database"
        return result

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def snapshot(self) -> dict[str, list[tuple]]:
        return snapshot(self.url)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal snapshots mean an unchanged database."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            return {
                table: sorted(
                    (tuple(map(repr, row)) for row in connection.execute(text(f'SELECT * FROM "{table}"'))),
                )
                for table in tables
            }
    finally:
        engine.dispose()
