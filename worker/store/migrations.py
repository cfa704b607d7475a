"""The store's schema, as numbered forward-only migrations, one SQL text per dialect.

A database records the number of the last migration applied to it (SQLite in ``PRAGMA
user_version``, PostgreSQL in the ``schema_migrations`` table). At start-up a replica
applies every migration above that number, in order, holding the database's lock for the
whole run (PostgreSQL: ``pg_advisory_lock(MIGRATION_LOCK)`` on one connection; SQLite: one
``BEGIN IMMEDIATE`` transaction), so N replicas starting together migrate once and the
others find the work done. A database whose number is above ``LATEST`` was migrated by a
newer toolpool: the replica refuses to start (``SchemaTooNew``) rather than guess.

Migrations are never edited or removed once released; a change is a new number. Tables
after the latest (every query is keyed by tenant)::

    versions(tenant, version_id, files_json, functions_json, created_ms [, seq])  PK (tenant, version_id)
    aliases(tenant, alias, version_id, updated_ms)                            PK (tenant, alias)
    secrets(tenant, name, plaintext, key_id, wrapped_key, ciphertext, updated_ms) PK (tenant, name)
    egress_policies(tenant, policy_json, updated_ms)                          PK tenant

``secrets.plaintext`` is set only on rows written before migration 3; the store seals
them in place at its next start-up (worker/store/base.py) and new rows never have it.
``versions.seq`` (PostgreSQL) orders versions as SQLite's rowid does: last stored first.
"""

from __future__ import annotations

from dataclasses import dataclass

# Any constant shared by every toolpool replica: the key of PostgreSQL's advisory lock.
MIGRATION_LOCK = 0x746F6F6C706F6F6C  # "toolpool"


class SchemaTooNew(Exception):
    """The database was migrated by a newer toolpool; the message names both versions."""


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sqlite: str
    postgresql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "versions, aliases and secrets",
        # IF NOT EXISTS: databases from before schema_migrations have these tables already.
        sqlite="""
            CREATE TABLE IF NOT EXISTS versions (
                tenant TEXT NOT NULL, version_id TEXT NOT NULL, files_json TEXT NOT NULL,
                functions_json TEXT NOT NULL, created_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, version_id));
            CREATE TABLE IF NOT EXISTS aliases (
                tenant TEXT NOT NULL, alias TEXT NOT NULL, version_id TEXT NOT NULL, updated_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, alias),
                FOREIGN KEY (tenant, version_id) REFERENCES versions (tenant, version_id));
            CREATE TABLE IF NOT EXISTS secrets (
                tenant TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, name));
        """,
        postgresql="""
            CREATE TABLE versions (
                tenant TEXT NOT NULL, version_id TEXT NOT NULL, files_json TEXT NOT NULL,
                functions_json TEXT NOT NULL, created_ms BIGINT NOT NULL, seq BIGSERIAL NOT NULL,
                PRIMARY KEY (tenant, version_id));
            CREATE TABLE aliases (
                tenant TEXT NOT NULL, alias TEXT NOT NULL, version_id TEXT NOT NULL, updated_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, alias),
                FOREIGN KEY (tenant, version_id) REFERENCES versions (tenant, version_id));
            CREATE TABLE secrets (
                tenant TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, name));
        """,
    ),
    Migration(
        2,
        "egress policies",
        sqlite="""
            CREATE TABLE IF NOT EXISTS egress_policies (
                tenant TEXT NOT NULL PRIMARY KEY, policy_json TEXT, updated_ms INTEGER NOT NULL);
        """,
        postgresql="""
            CREATE TABLE egress_policies (
                tenant TEXT NOT NULL PRIMARY KEY, policy_json TEXT, updated_ms BIGINT NOT NULL);
        """,
    ),
    Migration(
        3,
        "secrets sealed with envelope encryption",
        sqlite="""
            ALTER TABLE secrets RENAME TO secrets_plain;
            CREATE TABLE secrets (
                tenant TEXT NOT NULL, name TEXT NOT NULL, plaintext TEXT,
                key_id TEXT, wrapped_key BLOB, ciphertext BLOB, updated_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, name),
                CHECK ((plaintext IS NULL) = (ciphertext IS NOT NULL)));
            INSERT INTO secrets (tenant, name, plaintext, updated_ms)
                SELECT tenant, name, value, updated_ms FROM secrets_plain;
            DROP TABLE secrets_plain;
        """,
        postgresql="""
            ALTER TABLE secrets RENAME COLUMN value TO plaintext;
            ALTER TABLE secrets ALTER COLUMN plaintext DROP NOT NULL;
            ALTER TABLE secrets ADD COLUMN key_id TEXT, ADD COLUMN wrapped_key BYTEA, ADD COLUMN ciphertext BYTEA;
            ALTER TABLE secrets ADD CONSTRAINT secrets_sealed_or_plain
                CHECK ((plaintext IS NULL) = (ciphertext IS NOT NULL));
        """,
    ),
)
LATEST = MIGRATIONS[-1].number
assert [m.number for m in MIGRATIONS] == list(range(1, LATEST + 1)), "migrations are numbered 1, 2, 3, ..."


def pending(current: int, where: str) -> tuple[Migration, ...]:
    """The migrations a database at ``current`` still needs. Raises SchemaTooNew."""
    if current > LATEST:
        raise SchemaTooNew(
            f"{where}: the database's schema is version {current}, newer than this toolpool's {LATEST}; "
            "run a toolpool at least as new as the one that migrated it (schemas only move forward)"
        )
    return tuple(m for m in MIGRATIONS if m.number > current)
