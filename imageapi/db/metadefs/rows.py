"""Rows the metadefs repository modules share: the tables, visibility, rows as dicts.

namespaces.py, parts.py, resource_types.py and catalog.py call these inside their own
reader or writer blocks; nothing here opens a transaction.
"""

import functools
import json

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import models
from imageapi.db import records

NAMESPACES = models.MetadefNamespace.__table__
OBJECTS = models.MetadefObject.__table__
PROPERTIES = models.MetadefProperty.__table__
TAGS = models.MetadefTag.__table__
RESOURCE_TYPES = models.MetadefResourceType.__table__
ASSOCIATIONS = models.MetadefNamespaceResourceType.__table__

NAMESPACE_FIELDS = ('namespace', 'display_name', 'description', 'visibility',
                    'protected', 'owner')


def storable(fn):
    """Make a value the database connection refuses a 400, not a 500.

    The API checks lengths and refuses NUL before the database; what is
    left is a character the connection cannot carry, such as a 4-byte
    UTF-8 character on a MariaDB connection left at oslo.db's default
    ``charset=utf8`` (set ``?charset=utf8mb4`` in [database] connection to
    store them).
    """
    @functools.wraps(fn)
    def wrapped(context, *args, **kwargs):
        # Named: oslo.db's decorators read the first argument's name.
        try:
            return fn(context, *args, **kwargs)
        except db_exc.DBError as exc:
            if not isinstance(exc.inner_exception, sa.exc.DataError):
                raise
            raise exception.BadRequest(
                reason='The database cannot store a value of the request; '
                       'it may hold characters its connection does not '
                       'take.')
    return wrapped


def visible(context):
    """The WHERE clause of the namespaces the caller may see.

    As in Glance: an admin sees every namespace, anyone else the public
    ones and those their project owns.
    """
    if context.is_admin:
        return sa.true()
    public = NAMESPACES.c.visibility == 'public'
    if context.project_id is None:
        return public
    return sa.or_(public, NAMESPACES.c.owner == context.project_id)


def _times(row, result):
    result['created_at'] = records.format_time(row['created_at'])
    result['updated_at'] = records.format_time(row['updated_at']
                                               or row['created_at'])
    return result


def namespace_dict(row):
    """A namespaces row: NAMESPACE_FIELDS, id and the times."""
    result = {name: row[name] for name in NAMESPACE_FIELDS}
    result['id'] = row['id']
    return _times(row, result)


def object_dict(row):
    result = {'name': row['name'], 'description': row['description'],
              'required': (None if row['required'] is None
                           else json.loads(row['required'])),
              'properties': json.loads(row['json_schema'])}
    return _times(row, result)


def property_dict(row):
    result = {'name': row['name'],
              'definition': json.loads(row['json_schema'])}
    return _times(row, result)


def tag_dict(row):
    return _times(row, {'name': row['name']})


def association_dict(row):
    """A join of associations and resource_types rows."""
    result = {'name': row['name'], 'prefix': row['prefix'],
              'properties_target': row['properties_target']}
    return _times(row, result)


def exact(result, column, name):
    """The row of ``result`` whose ``column`` is exactly ``name``, or None.

    MariaDB compares with PAD SPACE: 'a' = 'a ' in SQL, even in a binary
    collation. The other databases do not; so the SQL match only narrows,
    and Python picks.
    """
    return next((row for row in result.mappings() if row[column] == name),
                None)


def namespace_row(connection, context, name, lock=False):
    """The namespaces row ``name``, if the caller may see it.

    :param lock: SELECT ... FOR UPDATE, in a writer: changes to one
        namespace and its content queue on its row, so a delete cannot
        slip between a lookup and an insert that refers to the row.
    :raises MetadefNamespaceNotFound: no such namespace, or not visible.
    """
    query = sa.select(NAMESPACES).where(NAMESPACES.c.namespace == name,
                                        visible(context))
    if lock:
        query = query.with_for_update()
    row = exact(connection.execute(query), 'namespace', name)
    if row is None:
        raise exception.MetadefNamespaceNotFound(namespace=name)
    return row


def object_values(obj):
    """The metadef_objects columns of an API or file object."""
    required = obj.get('required')
    return {'name': obj['name'], 'description': obj.get('description'),
            'required': None if required is None else json.dumps(required),
            'json_schema': json.dumps(obj.get('properties') or {})}


def property_values(name, definition):
    return {'name': name, 'json_schema': json.dumps(definition)}


def insert(connection, table, kind, row):
    """Insert one named row, timestamps set.

    :raises MetadefDuplicate: the name is taken.
    """
    now = timeutils.utcnow()
    row = dict(row, created_at=now, updated_at=now)
    try:
        return connection.execute(table.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.MetadefDuplicate(kind=kind, name=row['name'])


def insert_parts(connection, namespace_id, objects=(), properties=None,
                 tags=()):
    """Insert objects, properties and tags into a namespace.

    :raises MetadefDuplicate: a name twice in one kind.
    """
    for obj in objects:
        insert(connection, OBJECTS, 'object',
               dict(object_values(obj), namespace_id=namespace_id))
    for name, definition in (properties or {}).items():
        insert(connection, PROPERTIES, 'property',
               dict(property_values(name, definition),
                    namespace_id=namespace_id))
    for tag in tags:
        insert(connection, TAGS, 'tag',
               {'name': tag['name'], 'namespace_id': namespace_id})


def insert_namespace(connection, values):
    """Insert a namespaces row; returns its id.

    :raises MetadefDuplicate: the name is taken.
    """
    row = {name: values.get(name) for name in NAMESPACE_FIELDS}
    row['visibility'] = row['visibility'] or 'private'
    row['protected'] = bool(row['protected'])
    now = timeutils.utcnow()
    row.update(created_at=now, updated_at=now)
    try:
        result = connection.execute(NAMESPACES.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.MetadefDuplicate(kind='namespace',
                                         name=row['namespace'])
    return result.inserted_primary_key[0]


def resource_type_id(connection, name, protected=False):
    """The id of resource type ``name``, created if missing."""
    table = RESOURCE_TYPES
    found = exact(connection.execute(sa.select(table.c.id, table.c.name).where(
        table.c.name == name)), 'name', name)
    if found is not None:
        return found['id']
    return insert(connection, table, 'resource type',
                  {'name': name, 'protected': protected}
                  ).inserted_primary_key[0]


def insert_association(connection, namespace_id, values, protected=False):
    """Associate a namespace with a resource type, created if missing.

    :raises MetadefDuplicate: already associated.
    """
    type_id = resource_type_id(connection, values['name'], protected)
    now = timeutils.utcnow()
    row = {'namespace_id': namespace_id, 'resource_type_id': type_id,
           'prefix': values.get('prefix'),
           'properties_target': values.get('properties_target'),
           'created_at': now, 'updated_at': now}
    try:
        connection.execute(ASSOCIATIONS.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.MetadefDuplicate(kind='resource type association',
                                         name=values['name'])


def associations_of(connection, namespace_ids):
    """The resource type associations of namespaces, as dicts by namespace id."""
    found = {namespace_id: [] for namespace_id in namespace_ids}
    if not found:
        return found
    rows = connection.execute(
        sa.select(ASSOCIATIONS.c.namespace_id, RESOURCE_TYPES.c.name,
                  ASSOCIATIONS.c.prefix, ASSOCIATIONS.c.properties_target,
                  ASSOCIATIONS.c.created_at, ASSOCIATIONS.c.updated_at)
        .join(RESOURCE_TYPES,
              RESOURCE_TYPES.c.id == ASSOCIATIONS.c.resource_type_id)
        .where(ASSOCIATIONS.c.namespace_id.in_(list(found)))
        .order_by(RESOURCE_TYPES.c.name)).mappings()
    for row in rows:
        found[row['namespace_id']].append(association_dict(row))
    return found


def associations(connection, namespace_id):
    """The resource type associations of a namespace, as dicts."""
    return associations_of(connection, [namespace_id])[namespace_id]


_PART_DICTS = ((OBJECTS, object_dict), (PROPERTIES, property_dict),
               (TAGS, tag_dict))


def parts(connection, namespace_id, table):
    """The objects, properties or tags of a namespace, as dicts, oldest first."""
    to_dict = dict(_PART_DICTS)[table]
    rows = connection.execute(sa.select(table).where(
        table.c.namespace_id == namespace_id).order_by(
            table.c.id)).mappings()
    return [to_dict(row) for row in rows]


def delete_content(connection, namespace_id, tables=None):
    """Delete what a namespace holds: ``tables`` of it, or everything."""
    for table in tables or (OBJECTS, PROPERTIES, TAGS, ASSOCIATIONS):
        connection.execute(table.delete().where(
            table.c.namespace_id == namespace_id))
