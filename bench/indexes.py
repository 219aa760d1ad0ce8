"""Set a table's secondary indexes and foreign keys aside around a bulk load, then restore them.

Building an index once from sorted data is several times faster than maintaining it row by
row, and adding a foreign key back checks every row in one join instead of one lookup per row.
Indexes backing a constraint (primary key, UNIQUE) stay. Django's conditional UniqueConstraints
are partial unique indexes, not constraints, so they are set aside too; rebuilding them checks
uniqueness once over the loaded rows.
"""

from collections.abc import Callable

SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
WHERE x.indrelid = %s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
ORDER BY c.relname
"""
FOREIGN_KEYS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname
"""


def set_aside(cur, table: str, *, foreign_keys: bool = False) -> list[tuple[str, str]]:
    """Drop the table's secondary indexes (and foreign keys); return (name, SQL) that recreate them."""
    cur.execute(SECONDARY_INDEXES, [table])
    restore = cur.fetchall()
    for name, _ in restore:
        cur.execute(f'DROP INDEX "{name}"')
    if foreign_keys:
        cur.execute(FOREIGN_KEYS, [table])
        for name, definition in cur.fetchall():
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            restore.append((name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
    return restore


def restore(cur, statements: list[tuple[str, str]], progress: Callable[[str], None]) -> None:
    for name, statement in statements:
        cur.execute(statement)
        progress(f"{'foreign key' if statement.startswith('ALTER') else 'index'} {name} built")
