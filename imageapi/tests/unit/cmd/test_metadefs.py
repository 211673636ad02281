"""imageapi-manage db load_metadefs, unload_metadefs and export_metadefs."""

import io
import json
import os
from unittest import mock

import fixtures as pyfixtures

from imageapi.cmd import manage
from imageapi.cmd import metadefs
from imageapi import context
from imageapi.db.metadefs import catalog
from imageapi.db.metadefs import namespaces as db_namespaces
from imageapi.tests import base
from imageapi.tests import fixtures as imageapi_fixtures

# The catalog of this checkout, which the tests load by default.
SHIPPED = metadefs.default_path()


def _write(directory, name, document):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        if isinstance(document, str):
            f.write(document)
        else:
            json.dump(document, f)
    return path


class MetadefsManageTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(imageapi_fixtures.Database())
        self.config_file = os.path.join(self.state_path, 'empty.conf')
        open(self.config_file, 'w').close()
        self.admin = context.get_admin_context()

    def manage(self, *argv, expect=0):
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out:
            status = manage.main(['--config-file', self.config_file] +
                                 list(argv))
        self.assertEqual(expect, status, out.getvalue())
        return out.getvalue()

    def catalog(self):
        return catalog.catalog_export(self.admin)

    def test_shipped_catalog_is_in_the_source_tree(self):
        names = sorted(os.listdir(SHIPPED))
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            metadefs.read_document(os.path.join(SHIPPED, name))

    def test_default_path_prefers_installed_data_files(self):
        prefix = os.path.join(self.state_path, 'prefix')
        installed = os.path.join(prefix, 'etc', 'imageapi', 'metadefs')
        os.makedirs(installed)
        with mock.patch('sysconfig.get_path', return_value=prefix):
            self.assertEqual(installed, metadefs.default_path())

    def test_default_path_without_install_is_the_checkout(self):
        prefix = os.path.join(self.state_path, 'prefix')
        with mock.patch('sysconfig.get_path', return_value=prefix), \
                mock.patch('sys.prefix', prefix):
            found = metadefs.default_path()
        self.assertTrue(found.endswith(os.path.join('etc', 'metadefs')))
        self.assertTrue(os.path.isdir(found))

    def test_load_default_path_loads_shipped_catalog(self):
        out = self.manage('db', 'load_metadefs')
        self.assertIn('IMAGEAPI::Compute::Hardware created', out)
        names = [d['namespace'] for d in self.catalog()]
        self.assertEqual(len(os.listdir(SHIPPED)), len(names))
        hardware = db_namespaces.namespace_get_detail(
            self.admin, 'IMAGEAPI::Compute::Hardware')
        self.assertTrue(hardware['protected'])
        self.assertEqual('admin', hardware['owner'])

    def test_round_trip_load_export_unload_load(self):
        self.manage('db', 'load_metadefs')
        before = self.catalog()
        export_dir = os.path.join(self.state_path, 'export')
        out = self.manage('db', 'export_metadefs', '--path', export_dir)
        self.assertEqual(len(before), len(os.listdir(export_dir)))
        self.assertIn('IMAGEAPI::OperatingSystem', out)
        self.assertEqual('%d namespaces unloaded\n' % len(before),
                         self.manage('db', 'unload_metadefs'))
        self.assertEqual([], self.catalog())
        self.manage('db', 'load_metadefs', '--path', export_dir)
        self.assertEqual(before, self.catalog())

    def test_export_matches_the_shipped_files(self):
        self.manage('db', 'load_metadefs')
        for document in self.catalog():
            name = metadefs.file_name(document['namespace'], set())
            self.assertTrue(name.endswith('.json'))
        shipped = {}
        for name in os.listdir(SHIPPED):
            with open(os.path.join(SHIPPED, name)) as f:
                doc = json.load(f)
            shipped[doc['namespace']] = doc
        for document in self.catalog():
            source = shipped[document['namespace']]
            self.assertEqual(source.get('properties', {}),
                             document['properties'])
            self.assertEqual(source.get('tags', []), document['tags'])

    def test_load_existing_without_merge_skips(self):
        self.manage('db', 'load_metadefs')
        out = self.manage('db', 'load_metadefs')
        self.assertIn('skipped', out)

    def _tag_doc(self, tags, description='first'):
        return {'namespace': 'OS::Load', 'description': description,
                'tags': [{'name': t} for t in tags],
                'properties': {'p': {'title': description,
                                     'type': 'string'}}}

    def test_merge_adds_missing_and_keeps_existing(self):
        directory = os.path.join(self.state_path, 'in')
        path = _write(directory, 'ns.json', self._tag_doc(['a']))
        self.manage('db', 'load_metadefs', '--path', path)
        _write(directory, 'ns.json', self._tag_doc(['a', 'b'], 'second'))
        self.assertIn('merged', self.manage('db', 'load_metadefs', '--path',
                                            path, '--merge'))
        doc = self.catalog()[0]
        self.assertEqual(['a', 'b'], [t['name'] for t in doc['tags']])
        self.assertEqual('first', doc['description'])
        self.assertEqual('first', doc['properties']['p']['title'])

    def test_merge_prefer_new_updates_existing(self):
        directory = os.path.join(self.state_path, 'in')
        path = _write(directory, 'ns.json', self._tag_doc(['a']))
        self.manage('db', 'load_metadefs', '--path', path)
        _write(directory, 'ns.json', self._tag_doc(['b'], 'second'))
        self.manage('db', 'load_metadefs', '--path', path, '--merge',
                    '--prefer_new')
        doc = self.catalog()[0]
        self.assertEqual(['a', 'b'], [t['name'] for t in doc['tags']])
        self.assertEqual('second', doc['description'])
        self.assertEqual('second', doc['properties']['p']['title'])

    def test_merge_overwrite_replaces_namespace(self):
        directory = os.path.join(self.state_path, 'in')
        path = _write(directory, 'ns.json', self._tag_doc(['a']))
        self.manage('db', 'load_metadefs', '--path', path)
        _write(directory, 'ns.json', self._tag_doc(['b'], 'second'))
        out = self.manage('db', 'load_metadefs', '--path', path, '--merge',
                          '--overwrite')
        self.assertIn('replaced', out)
        doc = self.catalog()[0]
        self.assertEqual(['b'], [t['name'] for t in doc['tags']])

    def test_prefer_new_or_overwrite_without_merge_exits_2(self):
        for flag in ('--prefer_new', '--overwrite'):
            self.manage('db', 'load_metadefs', flag, expect=2)
        self.manage('db', 'load_metadefs', '--merge', '--prefer_new',
                    '--overwrite', expect=2)
        self.assertEqual([], self.catalog())

    def test_bad_files_are_reported_and_others_loaded(self):
        directory = os.path.join(self.state_path, 'in')
        _write(directory, 'a-bad-json.json', '{')
        _write(directory, 'b-bad-schema.json', {'namespace': 'x' * 81})
        _write(directory, 'c-nameless-tag.json', {'namespace': 'OS::T',
                                                  'tags': [{}]})
        _write(directory, 'd-good.json', {'namespace': 'OS::Good'})
        _write(directory, 'notes.txt', 'not a catalog file')
        out = self.manage('db', 'load_metadefs', '--path', directory,
                          expect=1)
        self.assertEqual(3, out.count('not loaded'))
        self.assertEqual(['OS::Good'],
                         [d['namespace'] for d in self.catalog()])

    def test_missing_path_exits_1(self):
        out = self.manage('db', 'load_metadefs', '--path',
                          os.path.join(self.state_path, 'none'), expect=1)
        self.assertIn('Cannot read', out)

    def test_empty_directory_exits_1(self):
        directory = os.path.join(self.state_path, 'empty')
        os.makedirs(directory)
        self.manage('db', 'load_metadefs', '--path', directory, expect=1)

    def test_glance_format_file_loads_as_glance_does(self):
        # The shape of Glance's etc/metadefs files: no owner, resource
        # types that do not exist yet, objects without required.
        document = {
            'namespace': 'OS::Compute::Example', 'display_name': 'Example',
            'description': 'From Glance', 'visibility': 'public',
            'protected': True,
            'resource_type_associations': [
                {'name': 'OS::Nova::Flavor', 'prefix': 'hw:'},
                {'name': 'OS::Glance::Image', 'prefix': 'hw_'}],
            'objects': [{'name': 'Obj', 'description': 'd', 'properties': {
                'x': {'title': 'X', 'type': 'integer', 'minimum': 0}}}],
        }
        path = _write(os.path.join(self.state_path, 'g'), 'ex.json',
                      document)
        self.manage('db', 'load_metadefs', '--path', path)
        loaded = self.catalog()[0]
        self.assertEqual('admin', loaded['owner'])
        self.assertEqual(['OS::Glance::Image', 'OS::Nova::Flavor'], [
            a['name'] for a in loaded['resource_type_associations']])

    def test_export_names_files_after_namespaces(self):
        taken = set()
        self.assertEqual('OS-Compute-Hw.json',
                         metadefs.file_name('OS::Compute::Hw', taken))
        self.assertEqual('OS-Compute-Hw-2.json',
                         metadefs.file_name('OS//Compute::Hw', taken))
        self.assertEqual('namespace.json', metadefs.file_name('::', taken))

    def test_export_default_path_is_current_directory(self):
        self.manage('db', 'load_metadefs')
        cwd = os.path.join(self.state_path, 'cwd')
        os.makedirs(cwd)
        self.useFixture(_Chdir(cwd))
        self.manage('db', 'export_metadefs')
        self.assertEqual(len(os.listdir(SHIPPED)), len(os.listdir(cwd)))

    def test_unload_empty_catalog(self):
        self.assertEqual('0 namespaces unloaded\n',
                         self.manage('db', 'unload_metadefs'))


class _Chdir(pyfixtures.Fixture):
    """Run in ``path``, and go back after."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def _setUp(self):
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.path)
