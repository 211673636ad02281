"""Import plugins on real files: qemu-img conversions and injected properties."""

import hashlib
import os
import shutil
import subprocess

import fixtures
from oslo_context import context as oslo_context

from imageapi.importing import errors
from imageapi.importing import plugins
from imageapi.importing.plugins import image_conversion
from imageapi.tests import base

IMAGE_ID = '6c1f2b5e-7f7a-4f55-9a55-2b8f0f3c8a11'
MIB = 1024 * 1024


def _digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _context(*roles):
    return oslo_context.RequestContext(roles=list(roles))


class PluginTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def run_plugins(self, disk_format, path, context=None, names=()):
        self.flags(image_import_plugins=list(names),
                   group='image_import_opts')
        image = {'id': IMAGE_ID, 'disk_format': disk_format,
                 'container_format': 'bare', 'properties': {}}
        return plugins.run_plugins(self.conf, context or _context('member'),
                                   image, path)

    def assertOnlyFiles(self, *names):
        self.assertEqual(sorted(names), sorted(os.listdir(self.dir)))


class RunPluginsTest(PluginTestCase):

    def test_run_plugins_none_configured_changes_nothing(self):
        self.assertEqual({}, self.run_plugins('raw', '/nonexistent'))

    def test_run_plugins_unknown_name_fails(self):
        exc = self.assertRaises(errors.PluginFailed, self.run_plugins, 'raw',
                                '/nonexistent', names=['no_op_typo'])
        self.assertIn('Unknown import plugins no_op_typo', exc.message)

    def test_inject_sets_configured_properties(self):
        self.flags(inject={'os_distro': 'debian', 'owner_team': 'infra'},
                   group='inject_metadata_properties')
        changes = self.run_plugins('raw', '/nonexistent',
                                   names=['inject_image_metadata'])
        self.assertEqual({'os_distro': 'debian', 'owner_team': 'infra'},
                         changes)

    def test_inject_ignored_role_default_admin_gets_nothing(self):
        self.assertEqual(['admin'],
                         self.conf.inject_metadata_properties.ignore_user_roles)
        self.flags(inject={'k': 'v'}, group='inject_metadata_properties')
        self.assertEqual({}, self.run_plugins(
            'raw', '/nonexistent', context=_context('admin', 'member'),
            names=['inject_image_metadata']))

    def test_inject_configured_ignore_roles(self):
        self.flags(inject={'k': 'v'}, ignore_user_roles=['member'],
                   group='inject_metadata_properties')
        self.assertEqual({}, self.run_plugins(
            'raw', '/nonexistent', names=['inject_image_metadata']))
        self.assertEqual({'k': 'v'}, self.run_plugins(
            'raw', '/nonexistent', context=_context('admin'),
            names=['inject_image_metadata']))


class ImageConversionTest(PluginTestCase):
    """qemu-img from Debian's qemu-utils (tools/ensure-qemu-img.sh)."""

    def setUp(self):
        super().setUp()
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed and could not be '
                          '(tools/ensure-qemu-img.sh)')
        self.raw = os.path.join(self.dir, 'source.raw')
        with open(self.raw, 'wb') as f:
            for i in range(4):
                f.write(bytes([i + 1]) * MIB)
        self.original = _digest(self.raw)

    def qemu_img(self, *args):
        subprocess.run(('qemu-img',) + args, check=True, capture_output=True)

    def make_qcow2(self, name='staged', *options):
        path = os.path.join(self.dir, name)
        self.qemu_img('convert', '-f', 'raw', '-O', 'qcow2', *options,
                      self.raw, path)
        return path

    def convert(self, disk_format, path):
        return self.run_plugins(disk_format, path, names=['image_conversion'])

    def test_default_output_format_is_raw(self):
        self.assertEqual('raw', self.conf.image_conversion.output_format)

    def test_convert_qcow2_to_raw_in_place(self):
        staged = self.make_qcow2()
        self.assertNotEqual(self.original, _digest(staged))
        changes = self.convert('qcow2', staged)
        self.assertEqual({'disk_format': 'raw', 'container_format': 'bare',
                          'virtual_size': 4 * MIB}, changes)
        self.assertEqual(self.original, _digest(staged))
        self.assertOnlyFiles('source.raw', 'staged')

    def test_convert_raw_to_qcow2_when_configured(self):
        self.flags(output_format='qcow2', group='image_conversion')
        staged = os.path.join(self.dir, 'staged')
        shutil.copy(self.raw, staged)
        changes = self.convert('raw', staged)
        self.assertEqual('qcow2', changes['disk_format'])
        self.assertEqual('qcow2', image_conversion.inspect(staged))
        self.assertOnlyFiles('source.raw', 'staged')

    def test_convert_same_format_leaves_file(self):
        staged = os.path.join(self.dir, 'staged')
        shutil.copy(self.raw, staged)
        self.assertEqual({'virtual_size': 4 * MIB},
                         self.convert('raw', staged))
        self.assertEqual(self.original, _digest(staged))

    def test_convert_format_mismatch_refused(self):
        staged = self.make_qcow2()
        before = _digest(staged)
        exc = self.assertRaises(errors.PluginFailed, self.convert, 'raw',
                                staged)
        self.assertIn('claimed to be raw format but format inspection found '
                      'qcow2', exc.message)
        self.assertEqual(before, _digest(staged))
        self.assertOnlyFiles('source.raw', 'staged')

    def test_convert_qcow2_with_backing_file_refused(self):
        base_path = self.make_qcow2('base')
        staged = os.path.join(self.dir, 'staged')
        self.qemu_img('create', '-f', 'qcow2', '-b', base_path, '-F',
                      'qcow2', staged)
        before = _digest(staged)
        exc = self.assertRaises(errors.PluginFailed, self.convert, 'qcow2',
                                staged)
        self.assertIn('disallowed configuration', exc.message)
        self.assertIn('backing', exc.message.lower())
        self.assertEqual(before, _digest(staged))
        self.assertOnlyFiles('source.raw', 'base', 'staged')

    def test_convert_qcow2_with_data_file_refused(self):
        staged = os.path.join(self.dir, 'staged')
        self.qemu_img('create', '-f', 'qcow2', '-o',
                      'data_file=%s' % os.path.join(self.dir, 'data'),
                      staged, '4M')
        before = _digest(staged)
        exc = self.assertRaises(errors.PluginFailed, self.convert, 'qcow2',
                                staged)
        self.assertIn('data_file', exc.message)
        self.assertEqual(before, _digest(staged))
        self.assertOnlyFiles('source.raw', 'data', 'staged')

    def test_info_report_with_backing_file_refused(self):
        # qemu-img's own report is checked too, whatever the inspector said.
        info = {'format': 'qcow2', 'backing-filename': '/etc/passwd'}
        exc = self.assertRaises(errors.PluginFailed,
                                image_conversion._check_info, info, 'qcow2',
                                self.conf)
        self.assertIn('backing files are not allowed', exc.message)

    def test_info_report_with_data_file_refused(self):
        info = {'format': 'qcow2',
                'format-specific': {'data': {'data-file': '/dev/sda'}}}
        exc = self.assertRaises(errors.PluginFailed,
                                image_conversion._check_info, info, 'qcow2',
                                self.conf)
        self.assertIn('data-file set are not allowed', exc.message)

    def test_info_report_other_format_refused(self):
        exc = self.assertRaises(errors.PluginFailed,
                                image_conversion._check_info,
                                {'format': 'vmdk'}, 'qcow2', self.conf)
        self.assertIn('reported as vmdk by qemu-img', exc.message)

    def test_convert_vmdk_type_not_allowed_refused(self):
        staged = os.path.join(self.dir, 'staged')
        self.qemu_img('convert', '-f', 'raw', '-O', 'vmdk', '-o',
                      'subformat=monolithicSparse', self.raw, staged)
        self.flags(vmdk_allowed_types=['streamOptimized'],
                   group='image_format')
        exc = self.assertRaises(errors.PluginFailed, self.convert, 'vmdk',
                                staged)
        self.assertIn("create-type 'monolithicSparse'", exc.message)

    def test_convert_allowed_vmdk_to_raw(self):
        staged = os.path.join(self.dir, 'staged')
        self.qemu_img('convert', '-f', 'raw', '-O', 'vmdk', '-o',
                      'subformat=monolithicSparse', self.raw, staged)
        self.assertEqual('raw', self.convert('vmdk', staged)['disk_format'])
        self.assertEqual(self.original, _digest(staged))

    def test_convert_without_qemu_img_fails(self):
        self.useFixture(fixtures.MockPatchObject(
            image_conversion, 'QEMU_IMG', 'qemu-img-not-installed'))
        staged = self.make_qcow2()
        exc = self.assertRaises(errors.PluginFailed, self.convert, 'qcow2',
                                staged)
        self.assertIn('needs qemu-img', exc.message)

    def test_conversion_then_injection_changes_combined(self):
        self.flags(inject={'k': 'v'}, group='inject_metadata_properties')
        staged = self.make_qcow2()
        changes = self.run_plugins(
            'qcow2', staged,
            names=['image_conversion', 'inject_image_metadata'])
        self.assertEqual({'disk_format': 'raw', 'container_format': 'bare',
                          'virtual_size': 4 * MIB, 'k': 'v'}, changes)
