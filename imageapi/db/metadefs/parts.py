"""Objects, properties and tags inside a metadata definition namespace.

api/v2/metadefs/ objects.py, properties.py and tags.py call these with ``kind`` one of
KINDS; each function finds the visible namespace and acts on it in one block.
"""

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db.metadefs import rows

# kind -> (table, rows to dict)
KINDS = {'object': (rows.OBJECTS, rows.object_dict),
         'property': (rows.PROPERTIES, rows.property_dict),
         'tag': (rows.TAGS, rows.tag_dict)}


def _values(kind, part):
    """The columns of an object, property or tag dict (see rows.*_dict)."""
    if kind == 'object':
        return rows.object_values(part)
    if kind == 'property':
        return rows.property_values(part['name'], part['definition'])
    return {'name': part['name']}


def _row(connection, kind, namespace_row, name):
    table = KINDS[kind][0]
    row = rows.exact(connection.execute(sa.select(table).where(
        table.c.namespace_id == namespace_row['id'],
        table.c.name == name)), 'name', name)
    if row is None:
        raise exception.MetadefPartNotFound(
            kind=kind, name=name, namespace=namespace_row['namespace'])
    return row


def _get(connection, kind, namespace_row, name):
    return KINDS[kind][1](_row(connection, kind, namespace_row, name))


@db_api.main_context_manager.reader
def part_find(context, kind, namespace):
    """The objects, properties or tags of a visible namespace, oldest first.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, namespace)
    return rows.parts(connection, row['id'], KINDS[kind][0])


@db_api.main_context_manager.reader
def part_get(context, kind, namespace, name):
    """One object, property or tag.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    :raises MetadefPartNotFound: none by that name in the namespace.
    """
    connection = context.session.connection()
    return _get(connection, kind,
                rows.namespace_row(connection, context, namespace), name)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def part_create(context, kind, namespace, part):
    """Add an object, property or tag to a namespace.

    :param part: a dict as part_get returns, without the times.
    :raises MetadefDuplicate: the name is taken in the namespace.
    """
    connection = context.session.connection()
    ns_row = rows.namespace_row(connection, context, namespace,
                                lock=True)
    rows.insert(connection, KINDS[kind][0], kind,
                dict(_values(kind, part), namespace_id=ns_row['id']))
    return _get(connection, kind, ns_row, part['name'])


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def part_update(context, kind, namespace, name, part):
    """Replace an object, property or tag; it may be renamed.

    :raises MetadefPartNotFound: none by that name in the namespace.
    :raises MetadefDuplicate: the new name is taken.
    """
    table = KINDS[kind][0]
    connection = context.session.connection()
    ns_row = rows.namespace_row(connection, context, namespace,
                                lock=True)
    row = _row(connection, kind, ns_row, name)
    try:
        connection.execute(
            table.update().where(table.c.id == row['id'])
            .values(updated_at=timeutils.utcnow(), **_values(kind, part)))
    except db_exc.DBDuplicateEntry:
        raise exception.MetadefDuplicate(kind=kind, name=part['name'])
    return _get(connection, kind, ns_row, part['name'])


@db_api._writer
def part_delete(context, kind, namespace, name):
    """Delete an object, property or tag.

    :raises MetadefPartNotFound: none by that name in the namespace.
    """
    table = KINDS[kind][0]
    connection = context.session.connection()
    ns_row = rows.namespace_row(connection, context, namespace,
                                lock=True)
    row = _row(connection, kind, ns_row, name)
    connection.execute(table.delete().where(table.c.id == row['id']))


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def tag_create_many(context, namespace, names, append=False):
    """Add tags to a namespace, replacing its tags unless ``append``.

    :raises MetadefDuplicate: a name twice, or (appending) already there.
    """
    connection = context.session.connection()
    ns_row = rows.namespace_row(connection, context, namespace,
                                lock=True)
    if not append:
        rows.delete_content(connection, ns_row['id'], [rows.TAGS])
    rows.insert_parts(connection, ns_row['id'],
                      tags=[{'name': name} for name in names])
    return [_get(connection, 'tag', ns_row, name) for name in names]
