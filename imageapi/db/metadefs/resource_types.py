"""Resource types and their associations with metadata definition namespaces.

api/v2/metadefs/resource_types.py calls these. A resource type is created the first
time a namespace is associated with it and stays when the association goes.
"""

from oslo_db import api as oslo_db_api
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db.metadefs import rows
from imageapi.db import records


@db_api.main_context_manager.reader
def resource_type_find(context):
    """Every resource type, by name."""
    table = rows.RESOURCE_TYPES
    found = context.session.connection().execute(
        sa.select(table.c.name, table.c.created_at, table.c.updated_at)
        .order_by(table.c.name)).mappings()
    return [{'name': row['name'],
             'created_at': records.format_time(row['created_at']),
             'updated_at': records.format_time(row['updated_at']
                                               or row['created_at'])}
            for row in found]


@db_api.main_context_manager.reader
def resource_type_association_find(context, namespace):
    """The associations of a visible namespace, by resource type name.

    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, namespace)
    return rows.associations(connection, row['id'])


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
@rows.storable
def resource_type_association_create(context, namespace, values):
    """Associate a namespace with a resource type (created if missing).

    :param values: name, prefix and properties_target.
    :raises MetadefDuplicate: already associated.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, namespace,
                             lock=True)
    rows.insert_association(connection, row['id'], values)
    return next(a for a in rows.associations(connection, row['id'])
                if a['name'] == values['name'])


@db_api._writer
def resource_type_association_delete(context, namespace, name):
    """Remove the association of a namespace with resource type ``name``.

    :raises MetadefResourceTypeNotFound: no resource type ``name``.
    :raises MetadefAssociationNotFound: not associated.
    """
    connection = context.session.connection()
    row = rows.namespace_row(connection, context, namespace,
                             lock=True)
    table = rows.RESOURCE_TYPES
    found = rows.exact(connection.execute(
        sa.select(table.c.id, table.c.name).where(table.c.name == name)),
        'name', name)
    if found is None:
        raise exception.MetadefResourceTypeNotFound(name=name)
    table = rows.ASSOCIATIONS
    result = connection.execute(table.delete().where(
        table.c.namespace_id == row['id'],
        table.c.resource_type_id == found['id']))
    if not result.rowcount:
        raise exception.MetadefAssociationNotFound(name=name,
                                                   namespace=namespace)
