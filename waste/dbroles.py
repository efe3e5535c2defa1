"""Two PostgreSQL roles: the owner of the tables, and the application role (README, "Database roles
and limits").

The owner (``DATABASE_OWNER_URL``) runs ``migrate``, ``flush`` and ``import_roads``; the web, worker
and beat processes connect as the application role (``DATABASE_URL``). After every migration the
owner grants the application role SELECT, INSERT, UPDATE and DELETE on its tables (and, through
default privileges, on every table it creates later), but only SELECT and INSERT on the append-only
ledger tables. The trigger of migration waste 0010 refuses UPDATE, DELETE and TRUNCATE on those
tables to any role that is not the owner; no setting lifts that, so the application cannot switch
the guard off from its own session. Without ``DATABASE_OWNER_URL`` (SQLite, or one role for
everything) nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# SELECT and INSERT only for the application role: the ledger and its signed checkpoints. (The
# shard heads and Merkle frontiers are updated on every append and seal; they are derived data that
# verify_ledger checks against the entries and the signed checkpoints.)
APPEND_ONLY_TABLES = ("waste_ledgerentry", "waste_ledgercheckpoint")
# Schemas besides public that the owner creates at run time (import_roads) and the application reads.
EXTRA_SCHEMAS = ("roads",)


def two_roles(using: str = DEFAULT_DB_ALIAS) -> bool:
    return bool(settings.DATABASE_OWNER) and connections[using].vendor == "postgresql"


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Runs the block on a connection of the owner role, then returns to the application role.
    Reconnects, so it refuses to run inside a transaction (whose work the switch would lose)."""
    connection = connections[using]
    owner = settings.DATABASE_OWNER
    if not two_roles(using) or connection.settings_dict["USER"] == owner["USER"]:
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError("the owner role cannot take over a connection inside a transaction")
    saved = {key: connection.settings_dict[key] for key in owner}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grants_apply(using: str = DEFAULT_DB_ALIAS) -> None:
    """As the owner: the application role's privileges, idempotently (run after every migrate)."""
    if not two_roles(using):
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    app = quote(settings.DATABASE_APP_ROLE)
    schemas = ["public"]
    with connection.cursor() as cursor:
        for schema in EXTRA_SCHEMAS:
            cursor.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s AND pg_has_role(nspowner, 'MEMBER')", [schema]
            )
            if cursor.fetchone():
                cursor.execute(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {app}")
                schemas.append(schema)
        # Only the tables this role owns: the public schema also holds PostGIS's, not ours to grant.
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname = ANY(%s) AND pg_has_role(tableowner, 'MEMBER')",
            [schemas],
        )
        tables = [f"{quote(schema)}.{quote(table)}" for schema, table in cursor.fetchall()]
        cursor.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'S' AND n.nspname = ANY(%s) AND pg_has_role(c.relowner, 'MEMBER')",
            [schemas],
        )
        sequences = [f"{quote(schema)}.{quote(name)}" for schema, name in cursor.fetchall()]
        if tables:
            cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(tables)} TO {app}")
        if sequences:
            cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE {', '.join(sequences)} TO {app}")
        for schema in schemas:
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quote(schema)} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
            )
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quote(schema)} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}"
            )
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            [list(APPEND_ONLY_TABLES)],
        )
        append_only = [quote(table) for (table,) in cursor.fetchall()]
        if append_only:
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {', '.join(append_only)} FROM {app}"
            )


def grants_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    grants_apply(using)
