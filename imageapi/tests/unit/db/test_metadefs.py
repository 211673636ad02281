"""db/metadefs/: visibility, paging, content, catalog load and export, on every database."""

from imageapi.common import exception
from imageapi.db.metadefs import catalog
from imageapi.db.metadefs import namespaces as db_namespaces
from imageapi.db.metadefs import parts as db_parts
from imageapi.db.metadefs import resource_types as db_resource_types
from imageapi.tests.unit.db import base


def _values(name, owner=base.PROJECT_A, **fields):
    return dict({'namespace': name, 'owner': owner}, **fields)


class MetadefsTest(base.RepositoryTestCase):

    def test_visibility_admin_owner_public(self):
        db_namespaces.namespace_create(self.admin, _values('OS::A'))
        db_namespaces.namespace_create(self.admin, _values(
            'OS::B', owner=base.PROJECT_B))
        db_namespaces.namespace_create(self.admin, _values(
            'OS::P', owner=base.PROJECT_B, visibility='public'))
        names = [n['namespace'] for n in db_namespaces.namespace_find(
            self.ctx, sort_key='namespace', sort_dir='asc')]
        self.assertEqual(['OS::A', 'OS::P'], names)
        self.assertEqual(3, len(db_namespaces.namespace_find(self.admin)))
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          db_namespaces.namespace_get, self.ctx, 'OS::B')
        no_project = base.make_context(project=None)
        self.assertEqual(['OS::P'], [n['namespace'] for n in
                                     db_namespaces.namespace_find(no_project)])

    def test_find_pages_every_sort_key_both_ways(self):
        for i, (display, visibility) in enumerate((
                ('b', 'public'), (None, 'private'), ('a', 'public'),
                ('a', 'private'))):
            db_namespaces.namespace_create(self.admin, _values(
                'OS::%d' % i, display_name=display, visibility=visibility,
                protected=bool(i % 2)))
        for key in db_namespaces.SORT_KEYS:
            for direction in ('asc', 'desc'):
                whole = [n['namespace'] for n in db_namespaces.namespace_find(
                    self.ctx, sort_key=key, sort_dir=direction)]
                paged, marker = [], None
                while True:
                    page = db_namespaces.namespace_find(
                        self.ctx, marker=marker, limit=1, sort_key=key,
                        sort_dir=direction)
                    if not page:
                        break
                    paged.append(page[0]['namespace'])
                    marker = page[0]['namespace']
                self.assertEqual(whole, paged, (key, direction))
                self.assertEqual(4, len(set(paged)), (key, direction))

    def test_create_with_content_is_all_or_nothing(self):
        self.assertRaises(
            exception.MetadefDuplicate, db_namespaces.namespace_create,
            self.admin, _values('OS::X'), tags=[{'name': 't'}],
            objects=[{'name': 'o'}, {'name': 'o'}])
        self.assertRaises(exception.MetadefNamespaceNotFound,
                          db_namespaces.namespace_get, self.admin, 'OS::X')

    def test_delete_removes_content_and_keeps_resource_types(self):
        db_namespaces.namespace_create(
            self.admin, _values('OS::X'), tags=[{'name': 't'}],
            objects=[{'name': 'o'}],
            properties={'p': {'title': 'P', 'type': 'string'}},
            associations=[{'name': 'R', 'prefix': 'r_'}])
        db_namespaces.namespace_delete(self.admin, 'OS::X')
        db_namespaces.namespace_create(self.admin, _values('OS::X'))
        detail = db_namespaces.namespace_get_detail(self.admin, 'OS::X')
        for part in ('tags', 'objects', 'properties',
                     'resource_type_associations'):
            self.assertEqual([], detail[part], part)
        self.assertEqual(['R'], [r['name'] for r in
                                 db_resource_types.resource_type_find(
                                     self.admin)])

    def test_parts_of_invisible_namespace_are_not_found(self):
        db_namespaces.namespace_create(self.admin, _values(
            'OS::B', owner=base.PROJECT_B), tags=[{'name': 't'}])
        for call, args in ((db_parts.part_find, ('tag', 'OS::B')),
                           (db_parts.part_get, ('tag', 'OS::B', 't')),
                           (db_parts.part_delete, ('tag', 'OS::B', 't')),
                           (db_parts.part_create, ('tag', 'OS::B',
                                                   {'name': 'u'}))):
            self.assertRaises(exception.MetadefNamespaceNotFound, call,
                              self.ctx, *args)

    def test_load_merge_prefer_new_and_export(self):
        document = _values('OS::L', description='one',
                           tags=[{'name': 'a'}],
                           resource_type_associations=[{'name': 'R'}])
        self.assertEqual(catalog.CREATED, catalog.catalog_namespace_load(
            self.admin, document))
        self.assertEqual(catalog.SKIPPED, catalog.catalog_namespace_load(
            self.admin, document))
        changed = dict(document, description='two', tags=[{'name': 'b'}],
                       resource_type_associations=[{'name': 'R',
                                                    'prefix': 'p_'}])
        self.assertEqual(catalog.MERGED, catalog.catalog_namespace_load(
            self.admin, changed, merge=True, prefer_new=True))
        exported = catalog.catalog_export(self.admin)
        self.assertEqual(1, len(exported))
        self.assertEqual('two', exported[0]['description'])
        self.assertEqual([{'name': 'a'}, {'name': 'b'}], exported[0]['tags'])
        self.assertEqual([{'name': 'R', 'prefix': 'p_'}],
                         exported[0]['resource_type_associations'])
        self.assertEqual(1, catalog.catalog_unload(self.admin))
        self.assertEqual([], catalog.catalog_export(self.admin))


class MetadefsMySQLTest(base.MySQLMixin, MetadefsTest):
    pass


class MetadefsPostgreSQLTest(base.PostgreSQLMixin, MetadefsTest):
    pass
