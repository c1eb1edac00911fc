"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL.

Installed by migrations. Tests that must tamper with the trail (to prove verification catches
it), or flush committed data, remove them for a moment and put them back.

SQLite's ``REPLACE INTO`` (and ``INSERT OR REPLACE``) deletes the row it conflicts with without
firing delete triggers: an insert that would collide with an event already stored (same id,
same place in a chain, same hash) is refused before it happens. PostgreSQL's upsert runs the
update trigger.

One update is let through: the shown names (``actor_label``, ``object_repr``) of an event whose
names are outside its seal (``names_sealed`` false), when an account is erased — every other
column unchanged. Migrations that install the triggers before ``names_sealed`` existed get the
strict trigger on SQLite (which checks a trigger's columns whenever the table is altered); a new
column of the audit table must be added to ``_KEPT`` below.
"""

from __future__ import annotations

TABLE = "workflows_auditevent"
MESSAGE = "Le journal d'audit est en ajout seul : modification et suppression refusées."
_NAMES = ("actor_label", "object_repr")
_KEPT = (
    "id", "programme_id", "seq", "at", "actor_id", "object_type", "object_id", "action_id",
    "event", "from_state", "to_state", "changes", "comment", "ip", "key_id", "prev_hash", "hash",
    "names_sealed",
)  # fmt: skip
_SQLITE_PSEUDONYM_ONLY = "OLD.names_sealed = 0 AND " + " AND ".join(
    f"NEW.{c} IS OLD.{c}" for c in _KEPT
)

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN NOT ({{pseudonym_only}})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE.replace("'", "''")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE.replace("'", "''")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_replace BEFORE INSERT ON {TABLE}
        WHEN EXISTS (
            SELECT 1 FROM {TABLE} WHERE id = NEW.id OR hash = NEW.hash
            OR (programme_id = NEW.programme_id AND seq = NEW.seq)
        )
        BEGIN SELECT RAISE(ABORT, '{MESSAGE.replace("'", "''")}'); END""",
]
_SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_replace",
]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION coordo_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE'
                AND (to_jsonb(OLD) ->> 'names_sealed') = 'false'
                AND (to_jsonb(NEW) - '{_NAMES[0]}' - '{_NAMES[1]}')
                    = (to_jsonb(OLD) - '{_NAMES[0]}' - '{_NAMES[1]}')
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '% (%)', '{MESSAGE.replace("'", "''")}', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION coordo_audit_append_only()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION coordo_audit_append_only()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
]


def _statements(connection, install: bool) -> list[str]:
    if connection.vendor == "sqlite" and install:
        with connection.cursor() as cursor:
            columns = {
                c.name for c in connection.introspection.get_table_description(cursor, TABLE)
            }
        pseudonym_only = _SQLITE_PSEUDONYM_ONLY if "names_sealed" in columns else "0"
        return [sql.replace("{pseudonym_only}", pseudonym_only) for sql in _SQLITE_INSTALL]
    if connection.vendor == "sqlite":
        return _SQLITE_REMOVE
    if connection.vendor == "postgresql":
        return _PG_INSTALL if install else _PG_REMOVE
    raise NotImplementedError(f"Append-only audit not implemented for {connection.vendor}")


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=False):
            cursor.execute(sql)
