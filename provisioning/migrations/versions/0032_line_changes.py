"""line changes: a log of what changed on lines, written by triggers, read by the
event listener since its last look

Revision ID: 0032
Revises: 0024
Create Date: 2026-12-06 06:20:00

The listener lights keys FreeSWITCH cannot know (do not disturb, group log-in) and
used to rebuild every user's key states on a timer. Every writer — the service, the
API, the panel, a star code, a hand-written UPDATE — now leaves a row here instead,
through the database's own triggers: (domain, extension) for one line, extension
null for a whole tenant. Only changes the keys or the directory can see are logged
(not panel log-ins, versions or live state).
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0024"
branch_labels = None
depends_on = None

# What a line's keys and directory entry are made of.
_USER_COLUMNS = (
    "tenant_id",
    "extension",
    "display_name",
    "sip_password",
    "voicemail_enabled",
    "voicemail_pin",
    "voicemail_emails",
    "call_handling",
)
_MEMBER_COLUMNS = ("group_id", "user_id", "logged_in")
_TENANT_COLUMNS = ("domain", "timezone")

_LOG = "INSERT INTO line_changes (domain, extension)"


def _line(row: str) -> str:
    """The line of `row` (NEW or OLD of users); nothing when its tenant is gone (the
    tenant's own deletion is logged)."""
    return f"{_LOG} SELECT domain, {row}.extension FROM tenants WHERE id = {row}.tenant_id"


def _member(row: str) -> str:
    return (
        f"{_LOG} SELECT t.domain, u.extension FROM users u JOIN tenants t ON t.id = u.tenant_id"
        f" WHERE u.id = {row}.user_id"
    )


def _whole_tenant(row: str) -> str:
    return f"{_LOG} SELECT domain, NULL FROM tenants WHERE id = {row}.tenant_id"


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


_SQLITE = [
    f"""CREATE TRIGGER users_line_insert AFTER INSERT ON users
    BEGIN {_line("NEW")}; END""",
    f"""CREATE TRIGGER users_line_update AFTER UPDATE ON users
    WHEN {_changed(_USER_COLUMNS)}
    BEGIN {_line("OLD")}; {_line("NEW")}; END""",
    f"""CREATE TRIGGER users_line_delete AFTER DELETE ON users
    BEGIN {_line("OLD")}; END""",
    f"""CREATE TRIGGER group_members_line_insert AFTER INSERT ON group_members
    BEGIN {_member("NEW")}; END""",
    f"""CREATE TRIGGER group_members_line_update AFTER UPDATE ON group_members
    WHEN {_changed(_MEMBER_COLUMNS)}
    BEGIN {_member("OLD")}; {_member("NEW")}; END""",
    f"""CREATE TRIGGER group_members_line_delete AFTER DELETE ON group_members
    BEGIN {_member("OLD")}; END""",
    f"""CREATE TRIGGER hunt_groups_line_update AFTER UPDATE ON hunt_groups
    WHEN NEW.extension IS NOT OLD.extension OR NEW.tenant_id IS NOT OLD.tenant_id
    BEGIN {_whole_tenant("OLD")}; {_whole_tenant("NEW")}; END""",
    f"""CREATE TRIGGER hunt_groups_line_delete AFTER DELETE ON hunt_groups
    BEGIN {_whole_tenant("OLD")}; END""",
    f"""CREATE TRIGGER tenants_line_update AFTER UPDATE ON tenants
    WHEN {_changed(_TENANT_COLUMNS)}
    BEGIN {_LOG} VALUES (OLD.domain, NULL); {_LOG} VALUES (NEW.domain, NULL); END""",
    f"""CREATE TRIGGER tenants_line_delete AFTER DELETE ON tenants
    BEGIN {_LOG} VALUES (OLD.domain, NULL); END""",
]
_SQLITE_TRIGGERS = [
    "users_line_insert",
    "users_line_update",
    "users_line_delete",
    "group_members_line_insert",
    "group_members_line_update",
    "group_members_line_delete",
    "hunt_groups_line_update",
    "hunt_groups_line_delete",
    "tenants_line_update",
    "tenants_line_delete",
]


def _distinct(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)


def _pg_function(name: str, old: str, new: str, changed: str, *, on_insert: bool = True) -> str:
    new_ops = "('INSERT', 'UPDATE')" if on_insert else "('UPDATE')"
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {old};
        END IF;
        IF TG_OP IN {new_ops} THEN
            {new};
        END IF;
        RETURN NULL;
    END $$"""


_POSTGRESQL = [
    # JSON columns have no equality in PostgreSQL: compared as text.
    _pg_function(
        "centrex_user_line_changed",
        _line("OLD"),
        _line("NEW"),
        " OR ".join(
            f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text"
            if c in ("voicemail_emails", "call_handling")
            else f"NEW.{c} IS DISTINCT FROM OLD.{c}"
            for c in _USER_COLUMNS
        ),
    ),
    """CREATE TRIGGER users_line AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION centrex_user_line_changed()""",
    _pg_function(
        "centrex_member_line_changed", _member("OLD"), _member("NEW"), _distinct(_MEMBER_COLUMNS)
    ),
    """CREATE TRIGGER group_members_line AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION centrex_member_line_changed()""",
    _pg_function(
        "centrex_group_line_changed",
        _whole_tenant("OLD"),
        _whole_tenant("NEW"),
        "NEW.extension IS DISTINCT FROM OLD.extension OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id",
        on_insert=False,
    ),
    """CREATE TRIGGER hunt_groups_line AFTER UPDATE OR DELETE ON hunt_groups
    FOR EACH ROW EXECUTE FUNCTION centrex_group_line_changed()""",
    _pg_function(
        "centrex_tenant_line_changed",
        f"{_LOG} VALUES (OLD.domain, NULL)",
        f"{_LOG} VALUES (NEW.domain, NULL)",
        _distinct(_TENANT_COLUMNS),
    ),
    """CREATE TRIGGER tenants_line AFTER UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION centrex_tenant_line_changed()""",
]
_POSTGRESQL_DROP = [
    "DROP TRIGGER users_line ON users",
    "DROP FUNCTION centrex_user_line_changed()",
    "DROP TRIGGER group_members_line ON group_members",
    "DROP FUNCTION centrex_member_line_changed()",
    "DROP TRIGGER hunt_groups_line ON hunt_groups",
    "DROP FUNCTION centrex_group_line_changed()",
    "DROP TRIGGER tenants_line ON tenants",
    "DROP FUNCTION centrex_tenant_line_changed()",
]


def upgrade() -> None:
    op.create_table(
        "line_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_changes")),
        # Ids only grow, also after old rows are pruned: the listener reads past the last.
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_line_changes_at"), "line_changes", ["at"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for statement in _POSTGRESQL_DROP:
            op.execute(statement)
    op.drop_index(op.f("ix_line_changes_at"), table_name="line_changes")
    op.drop_table("line_changes")
