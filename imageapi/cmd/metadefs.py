"""The metadefs commands of imageapi-manage: load, unload and export catalog files.

Files are JSON namespace documents in Glance's metadefs format, one per file, so a
catalog exported from Glance (or Glance's own etc/metadefs) loads as it is. The
catalog imageapi ships is the default path: etc/metadefs of the source tree, installed
as <prefix>/etc/imageapi/metadefs.
"""

import json
import os
import re
import sys
import sysconfig

from imageapi.common import exception
from imageapi.common import metadef_schemas
from imageapi import context
from imageapi.db.metadefs import catalog

# Glance's files name no owner; Glance loads them as owned by "admin".
DEFAULT_OWNER = 'admin'
_INSTALLED = os.path.join('etc', 'imageapi', 'metadefs')
_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'etc', 'metadefs')


def default_path():
    """Where the shipped catalog is: installed data files, else the checkout."""
    for prefix in (sysconfig.get_path('data'), sys.prefix):
        installed = os.path.join(prefix, _INSTALLED)
        if os.path.isdir(installed):
            return installed
    return _SOURCE


def _files(path):
    if os.path.isfile(path):
        return [path]
    return sorted(os.path.join(path, name) for name in os.listdir(path)
                  if name.endswith('.json')
                  and os.path.isfile(os.path.join(path, name)))


def read_document(filename):
    """A namespace document from a file, checked as the API checks a create.

    :raises ValueError: not JSON, or not a valid namespace document.
    """
    with open(filename, encoding='utf-8') as f:
        document = json.load(f)
    documents = metadef_schemas.documents()
    try:
        metadef_schemas.validate(documents['namespace'], 'namespace',
                                 document)
        for definition in (document.get('properties') or {}).values():
            metadef_schemas.check_property_size('', definition)
        for obj in document.get('objects') or ():
            if 'name' not in obj:
                raise ValueError('an object without a name')
            for definition in (obj.get('properties') or {}).values():
                metadef_schemas.validate_definition(definition)
            metadef_schemas.check_object_size(obj)
        for part in ('tags', 'resource_type_associations'):
            if any('name' not in item for item in document.get(part) or ()):
                raise ValueError('an item of %s without a name' % part)
    except exception.ImageAPIException as exc:
        raise ValueError(exc.msg)
    document.setdefault('owner', DEFAULT_OWNER)
    return document


def load(path=None, merge=False, prefer_new=False, overwrite=False):
    """Load every .json file of ``path`` (or one file); returns an exit status."""
    if (prefer_new or overwrite) and not merge:
        print('--prefer_new and --overwrite need --merge.')
        return 2
    if prefer_new and overwrite:
        print('Use either --prefer_new or --overwrite, not both.')
        return 2
    path = path or default_path()
    try:
        filenames = _files(path)
    except OSError as exc:
        print('Cannot read %s: %s' % (path, exc))
        return 1
    if not filenames:
        print('No .json files in %s.' % path)
        return 1
    admin = context.get_admin_context()
    status = 0
    for filename in filenames:
        try:
            document = read_document(filename)
            outcome = catalog.catalog_namespace_load(
                admin, document, merge=merge, prefer_new=prefer_new,
                overwrite=overwrite)
        except (OSError, ValueError, exception.ImageAPIException) as exc:
            print('%s: not loaded: %s' % (filename, exc))
            status = 1
            continue
        print('%s: namespace %s %s' % (filename, document['namespace'],
                                       outcome))
    return status


def unload():
    count = catalog.catalog_unload(context.get_admin_context())
    print('%d namespaces unloaded' % count)
    return 0


def file_name(namespace, taken):
    """A file name for ``namespace``: its word characters, made unique."""
    stem = re.sub(r'[^\w.-]+', '-', namespace).strip('-.') or 'namespace'
    name, n = stem + '.json', 1
    while name in taken:
        n += 1
        name = '%s-%d.json' % (stem, n)
    taken.add(name)
    return name


def export(path=None):
    """Write every namespace to ``path`` (created if missing), one file each.

    The default is the current directory, not the shipped catalog: an
    export never overwrites installed files unasked.
    """
    path = path or os.curdir
    os.makedirs(path, exist_ok=True)
    taken = set()
    for document in catalog.catalog_export(context.get_admin_context()):
        filename = os.path.join(path, file_name(document['namespace'], taken))
        with open(filename, 'w', encoding='utf-8') as f:
            json.dump(document, f, indent=4, sort_keys=True,
                      ensure_ascii=False)
            f.write('\n')
        print('namespace %s: %s' % (document['namespace'], filename))
    return 0
