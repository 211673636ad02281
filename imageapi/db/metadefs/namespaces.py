"""Metadata definition namespaces: get, list with keyset paging, create, update, delete.

api/v2/metadefs/namespaces.py calls these. A namespace the caller cannot see
(db/metadefs/rows.py ``visible``) is reported missing; deleting a namespace deletes what
it holds.
"""

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db.metadefs import rows

SORT_KEYS = ('created_at', 'updated_at', 'namespace', 'display_name',
             'visibility', 'owner', 'protected')
PARTS = {'objects': rows.OBJECTS, 'properties': rows.PROPERTIES,
         'tags': rows.TAGS}


@db_api.main_context_manager.reader
def namespace_get(context, name):
    """One visible namespace.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    return rows.namespace_dict(rows.namespace_row(
        context.session.connection(), context, name))


@db_api.main_context_manager.reader
def namespace_get_detail(context, name):
    """A visible namespace with its objects, properties, tags and associations.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, name)
    result = rows.namespace_dict(row)
    for part, table in PARTS.items():
        result[part] = rows.parts(connection, row['id'], table)
    result['resource_type_associations'] = rows.associations(connection,
                                                             row['id'])
    return result


def _sort_value(key, value):
    # display_name may be NULL, which compares with nothing: sort it as ''.
    if key == 'display_name' and value is None:
        value = ''
    # Bound, so that "protected > true" is SQL and not refused by
    # SQLAlchemy, which takes a bare True for IS TRUE.
    return sa.literal(value, rows.NAMESPACES.c[key].type)


def _sort_column(key):
    column = rows.NAMESPACES.c[key]
    return sa.func.coalesce(column, '') if key == 'display_name' else column


def _after(marker, keys, direction):
    """Rows after ``marker`` in the order of ``keys``, all in ``direction``."""
    clauses = []
    for i, key in enumerate(keys):
        column = _sort_column(key)
        value = _sort_value(key, marker[key])
        beyond = column > value if direction == 'asc' else column < value
        equal = [_sort_column(k) == _sort_value(k, marker[k])
                 for k in keys[:i]]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


@db_api.main_context_manager.reader
def namespace_find(context, visibility=None, resource_types=None,
                   marker=None, limit=None, sort_key='created_at',
                   sort_dir='desc'):
    """Visible namespaces, one page of them, each with its associations.

    :param resource_types: names; only namespaces associated with one.
    :param marker: the name of the last namespace of the previous page.
    :raises MetadefNamespaceNotFound: the marker is not a visible namespace.
    """
    table = rows.NAMESPACES
    connection = context.session.connection()
    query = sa.select(table).where(rows.visible(context))
    if visibility is not None:
        query = query.where(table.c.visibility == visibility)
    if resource_types:
        query = query.where(table.c.id.in_(
            sa.select(rows.ASSOCIATIONS.c.namespace_id).join(
                rows.RESOURCE_TYPES,
                rows.RESOURCE_TYPES.c.id ==
                rows.ASSOCIATIONS.c.resource_type_id)
            .where(rows.RESOURCE_TYPES.c.name.in_(resource_types))))
    # created_at and id after the key make the order total, so pages
    # neither repeat nor skip a namespace.
    keys = [sort_key] + [k for k in ('created_at', 'id') if k != sort_key]
    if marker is not None:
        marker_row = rows.namespace_row(connection, context, marker)
        query = query.where(_after(marker_row, keys, sort_dir))
    query = query.order_by(*[
        _sort_column(k).asc() if sort_dir == 'asc' else _sort_column(k).desc()
        for k in keys])
    if limit is not None:
        query = query.limit(limit)
    found = [rows.namespace_dict(row)
             for row in connection.execute(query).mappings()]
    associations = rows.associations_of(connection,
                                        [ns['id'] for ns in found])
    for namespace in found:
        namespace['resource_type_associations'] = associations[
            namespace['id']]
    return found


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def namespace_create(context, values, objects=(), properties=None, tags=(),
                     associations=()):
    """Create a namespace with its content, all or nothing.

    :param values: rows.NAMESPACE_FIELDS; visibility defaults to private.
    :raises MetadefDuplicate: the namespace exists, or the content names
        something twice.
    """
    connection = context.session.connection()
    namespace_id = rows.insert_namespace(connection, values)
    rows.insert_parts(connection, namespace_id, objects, properties, tags)
    for association in associations:
        rows.insert_association(connection, namespace_id, association)
    return namespace_get_detail(context, values['namespace'])


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def namespace_update(context, name, values):
    """Replace the fields of a namespace; it may be renamed.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    :raises MetadefDuplicate: the new name is taken.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, name,
                             lock=True)
    changes = {key: values[key] for key in rows.NAMESPACE_FIELDS
               if key in values}
    changes['updated_at'] = timeutils.utcnow()
    try:
        connection.execute(rows.NAMESPACES.update().where(
            rows.NAMESPACES.c.id == row['id']).values(**changes))
    except db_exc.DBDuplicateEntry:
        raise exception.MetadefDuplicate(kind='namespace',
                                         name=changes['namespace'])
    return rows.namespace_dict(connection.execute(
        sa.select(rows.NAMESPACES).where(
            rows.NAMESPACES.c.id == row['id'])).mappings().one())


@db_api._writer
def namespace_delete(context, name):
    """Delete a namespace and everything in it.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, name,
                             lock=True)
    rows.delete_content(connection, row['id'])
    connection.execute(rows.NAMESPACES.delete().where(
        rows.NAMESPACES.c.id == row['id']))


@db_api._writer
def namespace_empty(context, name, part):
    """Delete every object, property or tag of a namespace.

    :param part: a key of PARTS.
    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, name,
                             lock=True)
    rows.delete_content(connection, row['id'], [PARTS[part]])
