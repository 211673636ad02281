"""The whole catalog at once, for imageapi-manage: load a namespace document, unload, export.

A document is a namespace in Glance's metadefs file format (etc/metadefs/*.json): its
fields, ``resource_type_associations``, ``properties``, ``objects`` and ``tags``.
cmd/metadefs.py reads and writes the files; each namespace loads in one transaction.
"""

import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db.metadefs import rows

CREATED = 'created'
REPLACED = 'replaced'
MERGED = 'merged'
SKIPPED = 'skipped'


def _find(connection, context, name):
    try:
        return rows.namespace_row(connection, context, name,
                                  lock=True)
    except exception.MetadefNamespaceNotFound:
        return None


def _merge_named(connection, table, kind, namespace_id, values_by_name,
                 prefer_new):
    """Insert the rows missing by name; replace the others if ``prefer_new``."""
    existing = dict((row.name, row.id) for row in connection.execute(
        sa.select(table.c.name, table.c.id).where(
            table.c.namespace_id == namespace_id)))
    for name, values in values_by_name.items():
        if name not in existing:
            rows.insert(connection, table, kind,
                        dict(values, namespace_id=namespace_id))
        elif prefer_new:
            connection.execute(table.update().where(
                table.c.id == existing[name]).values(**values))


def _merge(connection, namespace_row, document, prefer_new):
    namespace_id = namespace_row['id']
    if prefer_new:
        connection.execute(rows.NAMESPACES.update().where(
            rows.NAMESPACES.c.id == namespace_id).values(
                **{key: document[key] for key in rows.NAMESPACE_FIELDS
                   if key in document and key != 'namespace'}))
    _merge_named(connection, rows.PROPERTIES, 'property', namespace_id,
                 {name: rows.property_values(name, definition)
                  for name, definition in
                  (document.get('properties') or {}).items()}, prefer_new)
    _merge_named(connection, rows.OBJECTS, 'object', namespace_id,
                 {o['name']: rows.object_values(o)
                  for o in document.get('objects') or ()}, prefer_new)
    _merge_named(connection, rows.TAGS, 'tag', namespace_id,
                 {t['name']: {'name': t['name']}
                  for t in document.get('tags') or ()}, prefer_new)
    known = {a['name'] for a in rows.associations(connection, namespace_id)}
    for association in document.get('resource_type_associations') or ():
        if association['name'] not in known:
            rows.insert_association(connection, namespace_id, association,
                                    protected=True)
        elif prefer_new:
            type_id = rows.resource_type_id(connection, association['name'])
            connection.execute(rows.ASSOCIATIONS.update().where(
                rows.ASSOCIATIONS.c.namespace_id == namespace_id,
                rows.ASSOCIATIONS.c.resource_type_id == type_id).values(
                    prefix=association.get('prefix'),
                    properties_target=association.get('properties_target')))


@db_api._writer
@rows.storable
def catalog_namespace_load(context, document, merge=False, prefer_new=False,
                           overwrite=False):
    """Load one namespace document.

    An existing namespace is skipped, unless ``merge``: then what the
    document adds is inserted, and with ``prefer_new`` what it changes is
    updated too; with ``overwrite`` the namespace is replaced outright.

    :param document: validated against the namespace schema, owner set.
    :returns: CREATED, REPLACED, MERGED or SKIPPED.
    :raises MetadefDuplicate: the document names something twice.
    """
    connection = context.session.connection()
    existing = _find(connection, context, document['namespace'])
    outcome = CREATED
    if existing is not None and merge and overwrite:
        rows.delete_content(connection, existing['id'])
        connection.execute(rows.NAMESPACES.delete().where(
            rows.NAMESPACES.c.id == existing['id']))
        existing, outcome = None, REPLACED
    if existing is None:
        namespace_id = rows.insert_namespace(connection, document)
        rows.insert_parts(connection, namespace_id,
                          document.get('objects') or (),
                          document.get('properties') or {},
                          document.get('tags') or ())
        for association in document.get('resource_type_associations') or ():
            rows.insert_association(connection, namespace_id, association,
                                    protected=True)
        return outcome
    if not merge:
        return SKIPPED
    _merge(connection, existing, document, prefer_new)
    return MERGED


@db_api._writer
def catalog_unload(context):
    """Delete the whole catalog, resource types included.

    :returns: how many namespaces there were.
    """
    connection = context.session.connection()
    count = connection.execute(sa.select(sa.func.count()).select_from(
        rows.NAMESPACES)).scalar()
    for table in (rows.OBJECTS, rows.PROPERTIES, rows.TAGS,
                  rows.ASSOCIATIONS, rows.NAMESPACES, rows.RESOURCE_TYPES):
        connection.execute(table.delete())
    return count


def _document(connection, namespace_row):
    namespace = rows.namespace_dict(namespace_row)
    document = {key: namespace[key] for key in rows.NAMESPACE_FIELDS
                if namespace[key] is not None}
    document['resource_type_associations'] = [
        {key: a[key] for key in ('name', 'prefix', 'properties_target')
         if a[key] is not None}
        for a in rows.associations(connection, namespace['id'])]
    document['properties'] = {
        p['name']: p['definition']
        for p in rows.parts(connection, namespace['id'], rows.PROPERTIES)}
    document['objects'] = [
        {key: o[key] for key in ('name', 'description', 'required',
                                 'properties') if o[key] is not None}
        for o in rows.parts(connection, namespace['id'], rows.OBJECTS)]
    document['tags'] = [{'name': t['name']} for t in
                        rows.parts(connection, namespace['id'], rows.TAGS)]
    return document


@db_api.main_context_manager.reader
def catalog_export(context):
    """Every namespace the caller sees, as documents, by name."""
    connection = context.session.connection()
    found = connection.execute(
        sa.select(rows.NAMESPACES).where(rows.visible(context))
        .order_by(rows.NAMESPACES.c.namespace)).mappings().all()
    return [_document(connection, row) for row in found]
