"""The command line: one Typer sub-app per noun, each a thin skin over the domain layer."""
