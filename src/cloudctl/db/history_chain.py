"""The history chain: every history row is sealed with a digest of its contents, chained to the row before.

Each row of a history table (consent events, what parents were told, risk assessments, UPN
changes) carries two columns:

- `content_digest`: SHA-256 of a canonical encoding of the row's contents, that is every
  column except `id`, `content_digest` and `chain_hash`;
- `chain_hash`: SHA-256 of the previous row's `chain_hash` (in id order; a fixed genesis value
  for the first row of each table), the row's id and its `content_digest`.

A row changed after it was written no longer matches its digest; a row removed, inserted out of
turn or renumbered breaks the chain; a whole chain recomputed by a forger no longer reaches the
head the school wrote in its governors' minutes (`cloudctl db verify --head`).

The chain links the digests, not the contents, so a later lawful redaction (blanking a leaver's
personal fields at the end of the retention period) leaves the chain itself intact: the redaction
is recorded as an event of its own, naming the row and the digest of the row as redacted, and
`db verify` accepts a row whose contents match that digest instead. (Redaction is not built yet;
this is why the design allows it.) The id is in the link, not the digest: it places the row in
its chain, so rows cannot be renumbered (which would re-point a consent event at another version
of what parents were told) without breaking it.

The canonical encoding is a JSON object, keys sorted, of the row's NON-NULL content columns, so
a later migration that adds a nullable column leaves old rows' digests as they were. Values are
normalised by column type, so SQLite (which hands back text and 0/1) and PostgreSQL (which hands
back date, datetime and bool objects) give the same bytes: dates 'YYYY-MM-DD', times naive UTC
'YYYY-MM-DD HH:MM:SS.ffffff', booleans true/false, integers as numbers, text as it is.

Rows are sealed as the ORM inserts them (`seal_on_insert`): the previous row's hash is read once
per table per flush and carried forward through the rows of that flush. Writers queue on the
database's write lock (`Database.write`), so two writers can never chain to the same row. The
row's id is chosen there too, after the head it chains to, so the chain's order is the id order
whatever order the database would have numbered a batch in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    TypeDecorator,
    event,
    text,
)
from sqlalchemy.orm import Session, object_session

# The history tables and what they hold, in the order reports list them.
HISTORY_TABLES: dict[str, str] = {
    "service_version": "what parents were told about each service",
    "consent_event": "consent decisions",
    "risk_assessment": "risk assessments",
    "upn_change": "UPN changes",
    "reply_code": "consent forms issued and their reply codes",
    "service_change": "changes to services that matter to their risk assessments",
    "assessment_event": "risk assessment steps (screening, conditions met, sign-offs)",
    "export_record": "exports sent to providers",
    "export_pupil": "the pupils in each export",
    "deletion_event": "deletions asked of providers and their confirmations",
}
DIGEST_COLUMN = "content_digest"
CHAIN_COLUMN = "chain_hash"
NOT_CONTENT = frozenset({"id", DIGEST_COLUMN, CHAIN_COLUMN})
HASH_LENGTH = 64

_CACHE_KEY = "cloudctl_history_heads"


def genesis(table: str) -> str:
    """The value the first row of `table` chains to."""
    return hashlib.sha256(f"cloudctl history chain: {table}".encode()).hexdigest()


def link(previous: str, row_id: int, digest: str) -> str:
    """The chain hash of the row with this id and digest, after the row whose chain hash is `previous`."""
    return hashlib.sha256(f"{previous}:{row_id}:{digest}".encode()).hexdigest()


# --- canonical values --------------------------------------------------------------------------------


def _text(value: object) -> object:
    return value if isinstance(value, str) else str(value)


def _integer(value: object) -> object:
    if type(value) is int:
        return value
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return value


_BOOLEANS = {0: False, 1: True}


def _boolean(value: object) -> object:
    # SQLite keeps 0/1 (and True == 1 in Python); anything else is kept as it is, so it shows.
    return _BOOLEANS.get(value, value)  # type: ignore[call-overload]


def _date(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _datetime(value: object) -> object:
    if isinstance(value, str):
        # How SQLAlchemy writes a time into SQLite: already canonical.
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return value
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat(sep=" ", timespec="microseconds")
    return str(value)


NORMALISERS: dict[str, Callable[[object], object]] = {
    "text": _text,
    "integer": _integer,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}


def kind_of(column_type: object) -> str:
    """How a column's values are normalised, from its SQLAlchemy type (declared or reflected)."""
    while isinstance(column_type, TypeDecorator):  # SQLModel's AutoString, UTCDateTime
        column_type = column_type.impl_instance
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Integer):
        return "integer"
    return "text"


def canonical(kind: str, value: object) -> object:
    return NORMALISERS[kind](value)


def content_columns(table: Table) -> list[tuple[str, str]]:
    """The content columns of a history table, sorted by name, with how each is normalised."""
    return sorted(
        (column.name, kind_of(column.type)) for column in table.columns if column.name not in NOT_CONTENT
    )


def canonical_json(columns: Sequence[tuple[str, str]], values: Sequence[object]) -> str:
    """The canonical encoding of a row, by its definition: a JSON object of the non-null content
    columns, keys sorted, values normalised. `make_digester` computes the same, faster."""
    content = {
        name: NORMALISERS[kind](value)
        for (name, kind), value in zip(columns, values, strict=False)
        if value is not None
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


# The fast path writes each value's JSON text directly. What it cannot write (a value of an
# unexpected type, which only a hand-made row holds) raises, and the row goes the slow way.
_string = json.encoder.encode_basestring  # JSON text of a str, as the encoder writes it with ensure_ascii off
_BOOLEAN_TEXT = {0: "false", 1: "true"}


def _date_text(value: object) -> str:
    return _string(value if type(value) is str else _date(value))  # type: ignore[arg-type]


def _datetime_text(value: object) -> str:
    return _string(_datetime(value))  # type: ignore[arg-type]


_TEXT_OF: dict[str, Callable[[object], str]] = {
    "text": _string,  # type: ignore[dict-item]
    "integer": int.__repr__,  # type: ignore[dict-item]
    "boolean": _BOOLEAN_TEXT.__getitem__,  # type: ignore[dict-item]
    "date": _date_text,
    "datetime": _datetime_text,
}


def make_digester(columns: Sequence[tuple[str, str]]) -> Callable[[Sequence[object]], str]:
    """A function from a row's content values to its digest.

    `columns` are (name, kind) sorted by name; the row's values come in that order, and anything
    after them (verify reads id and the seals last) is ignored.
    """
    names = [name for name, _ in columns]
    if names != sorted(names):
        raise ValueError("the content columns must be sorted by name")
    columns = list(columns)
    keys = [_string(name) + ":" for name in names]
    texts = [_TEXT_OF[kind] for _, kind in columns]
    sha256 = hashlib.sha256

    def digest(values: Sequence[object]) -> str:
        try:
            encoded = ",".join(
                [
                    key + text_of(value)
                    for key, text_of, value in zip(keys, texts, values, strict=False)
                    if value is not None
                ]
            )
        except (TypeError, KeyError, ValueError, AttributeError):
            return sha256(canonical_json(columns, values).encode()).hexdigest()
        return sha256(("{" + encoded + "}").encode()).hexdigest()

    return digest


def content_digest(columns: Sequence[tuple[str, str]], row: Mapping[str, object]) -> str:
    """The digest of one row given as a mapping of column names to values."""
    return make_digester(columns)([row.get(name) for name, _ in columns])


class Sealer:
    """Seals rows for one table, one after another, starting after the table's current head.

    For bulk inserts with SQLAlchemy Core or a driver cursor, where the ORM's event does not
    run: each row gets the next id, its digest and its chain hash. Use it inside the write
    transaction that inserts the rows, so the head cannot move meanwhile.
    """

    def __init__(
        self, table: str, columns: Sequence[tuple[str, str]], head_id: int | None, head_hash: str | None
    ) -> None:
        self.table = table
        self.columns = list(columns)
        self._digest = make_digester(self.columns)
        self.last_id = head_id or 0
        self.head = head_hash if head_hash is not None else genesis(table)

    @classmethod
    def after_head(cls, connection: Connection, table: str) -> Sealer:
        """A sealer for `table` as it is in the database, starting after its current head."""
        columns = content_columns(Table(table, MetaData(), autoload_with=connection))
        head = connection.execute(
            text(f"SELECT id, {CHAIN_COLUMN} FROM {table} ORDER BY id DESC LIMIT 1")
        ).first()
        return cls(table, columns, *(head or (None, None)))

    def sealed(self, row: Mapping[str, object]) -> dict[str, object]:
        """`row` with its id, content digest and chain hash, ready to insert."""
        row_id, digest, chained = self.seal(row, row.get("id"))  # type: ignore[arg-type]
        return {**row, "id": row_id, DIGEST_COLUMN: digest, CHAIN_COLUMN: chained}

    def seal(self, row: Mapping[str, object], row_id: int | None = None) -> tuple[int, str, str]:
        """The id, content digest and chain hash for the next row."""
        if row_id is None:
            row_id = self.last_id + 1
        elif row_id <= self.last_id:
            raise ValueError(
                f"{self.table} row id {row_id} would not come after the head (id {self.last_id})"
            )
        digest = self._digest([row.get(name) for name, _ in self.columns])
        self.head = link(self.head, row_id, digest)
        self.last_id = row_id
        return row_id, digest, self.head


def chain_of(rows: Iterable[tuple[int, str]], table: str) -> str:
    """The head of a chain of (id, digest) pairs in id order."""
    head = genesis(table)
    for row_id, digest in rows:
        head = link(head, row_id, digest)
    return head


# --- sealing rows as the ORM writes them -------------------------------------------------------------


def seal_on_insert(model: type) -> None:
    """Seal every row of `model` (a history table's model) as the ORM inserts it."""
    event.listen(model, "before_insert", _seal_before_insert)


def _seal_before_insert(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    table: Table = mapper.local_table
    session = object_session(target)
    heads = session.info.setdefault(_CACHE_KEY, {}) if session is not None else {}
    if table.name not in heads:
        heads[table.name] = _read_head(connection, table)
    head_id, head_hash = heads[table.name]
    if target.id is None:
        target.id = _next_id(connection, table, head_id)
    elif target.id <= head_id:
        raise ValueError(
            f"a {table.name} row may not be written with id {target.id}, before the head {head_id}"
        )
    columns = _model_columns(mapper)
    values = {}
    for name, key, _kind, column in columns:
        value = getattr(target, key)
        if value is None and (column.default is not None or column.server_default is not None):
            value = _default_of(column)
            setattr(target, key, value)
        values[name] = value
    digest = make_digester([(name, kind) for name, _, kind, _ in columns])(
        [values[name] for name, *_ in columns]
    )
    chained = link(head_hash, target.id, digest)
    setattr(target, DIGEST_COLUMN, digest)
    setattr(target, CHAIN_COLUMN, chained)
    heads[table.name] = (target.id, chained)


@event.listens_for(Session, "before_flush")
def _forget_heads(session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
    # Each flush reads the heads afresh: rows of an earlier flush are in the database by now, and
    # rows of a failed flush (or a rolled-back savepoint) are not, so nothing stale is chained to.
    session.info.pop(_CACHE_KEY, None)


def _read_head(connection, table: Table) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    row = connection.execute(
        text(f"SELECT id, {CHAIN_COLUMN} FROM {table.name} ORDER BY id DESC LIMIT 1")
    ).first()
    return (row[0], row[1]) if row is not None else (0, genesis(table.name))


def _next_id(connection, table: Table, head_id: int) -> int:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql":
        # Take the id from the table's sequence, as an insert would, so other writers' ids stay unique;
        # after the head, in case the sequence was left behind by rows written with their ids.
        taken = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))"), {"table": table.name}
        ).scalar_one()
        return max(taken, head_id + 1)
    return head_id + 1


_COLUMNS_CACHE: dict[object, list] = {}


def _model_columns(mapper) -> list:  # type: ignore[no-untyped-def]
    columns = _COLUMNS_CACHE.get(mapper)
    if columns is None:
        columns = sorted(
            (column.name, mapper.get_property_by_column(column).key, kind_of(column.type), column)
            for column in mapper.local_table.columns
            if column.name not in NOT_CONTENT
        )
        _COLUMNS_CACHE[mapper] = columns
    return columns


def _default_of(column) -> object:  # type: ignore[no-untyped-def]
    """The value the database would store for a column left unset, so the digest covers exactly that."""
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return default.arg
    server_default = column.server_default
    argument = getattr(server_default, "arg", None)
    if isinstance(argument, str):
        return argument
    raise ValueError(
        f"{column.table.name}.{column.name} has no value, and its default cannot be sealed: set it explicitly"
    )
