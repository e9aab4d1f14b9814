import logging
from collections import Counter
from contextlib import contextmanager, nullcontext
from logging.config import fileConfig

from flask import current_app

from alembic import context
from sqlalchemy import event

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def render_item(type_, obj, autogen_context):
    """Write our UTC type as the plain column type it stores."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


class ForeignKeyCheckFailed(RuntimeError):
    """A migration left rows that point at missing rows (SQLite)."""


def check_foreign_keys(ctx, step, heads, run_args):
    """After each step, inside its transaction: SQLite checks no foreign keys while
    migrating (see sqlite_migration_connection), so check them all here; raising
    rolls the step back."""
    rows = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if rows:
        broken = Counter((table, parent) for table, _rowid, parent, _fkid in rows)
        detail = ", ".join(f"{n} in {table} pointing at missing {parent}"
                           for (table, parent), n in sorted(broken.items()))
        raise ForeignKeyCheckFailed(f"rows without their parent row: {detail}")


@contextmanager
def sqlite_migration_connection(connection):
    """Make SQLite migrations keep data and run each in a real transaction.

    Batch mode rebuilds a table (copy, drop, rename). With foreign keys on, the
    drop deletes or refuses the child rows, so they are switched off for the
    run; PRAGMA foreign_keys is a no-op inside a transaction, so this happens
    before the first BEGIN, and check_foreign_keys checks them per step.

    pysqlite begins transactions only before INSERT/UPDATE/DELETE, so DDL would
    commit at once and a failed step would leave half-built tables: the driver's
    own handling is switched off and every SQLAlchemy begin emits a real BEGIN
    (SQLAlchemy's documented pysqlite recipe). The pooled connection is given
    back as it was found.
    """
    dbapi_connection = connection.connection.dbapi_connection
    isolation_level = dbapi_connection.isolation_level
    foreign_keys = dbapi_connection.execute("PRAGMA foreign_keys").fetchone()[0]
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    def emit_begin(conn):
        conn.exec_driver_sql("BEGIN")

    event.listen(connection, "begin", emit_begin)
    try:
        yield {"transactional_ddl": True, "on_version_apply": check_foreign_keys}
    finally:
        event.remove(connection, "begin", emit_begin)
        if connection.in_transaction():
            connection.rollback()
        dbapi_connection.execute(f"PRAGMA foreign_keys={int(foreign_keys)}")
        dbapi_connection.isolation_level = isolation_level


def run_migrations_online():
    """Run migrations in 'online' mode.

    Each migration runs in its own transaction (on SQLite too, see
    sqlite_migration_connection): a failed step is rolled back whole, the
    database stays at the last good revision and a later run continues there.
    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = dict(current_app.extensions['migrate'].configure_args)
    conf_args.setdefault("render_item", render_item)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        with (sqlite_migration_connection(connection) if sqlite else nullcontext({})) as extra:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                transaction_per_migration=True,
                **extra,
                **conf_args
            )

            with context.begin_transaction():
                context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
