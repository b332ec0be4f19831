"""Writing history rows with plain SQL in tests, sealed into their table's chain as cloudctl seals them."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from cloudctl.db.history_chain import CHAIN_COLUMN, Sealer


def insert_history(connection: Connection, table: str, row: dict) -> dict:
    """Insert one row into a history table; where the schema has the chain, the row is sealed first.

    Returns the row as inserted (with its id, digest and chain hash where sealed).
    """
    names = {column["name"] for column in inspect(connection).get_columns(table)}
    if CHAIN_COLUMN in names:
        row = Sealer.after_head(connection, table).sealed(row)
    # Plain SQL, so values go to the driver as given (a time as text, as another program might write it).
    listed = ", ".join(row)
    connection.execute(
        text(f"INSERT INTO {table} ({listed}) VALUES ({', '.join(':' + name for name in row)})"), row
    )
    return row
