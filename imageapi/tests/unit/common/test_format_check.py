"""Tests for imageapi.common.format_check: streaming format inspection.

Small images are built here byte by byte (raw, qcow2 headers, ISO 9660, MBR);
data/*.gz are empty images made with qemu-img 7.2 and gzipped, e.g.
``qemu-img create -f qcow2 -o cluster_size=512 qcow2-plain.qcow2 16M``, with
``-b base.raw -F raw`` (backing file), ``-o data_file=data.raw``, ``-f vmdk -o
subformat=monolithicSparse|streamOptimized``, ``-f vpc``, ``-f vhdx``, ``-f vdi``.
"""

import gzip
import os
import struct
from unittest import mock

from oslo_utils.imageutils import format_inspector

from imageapi.common import exception
from imageapi.common import format_check
from imageapi.tests import base

_DATA = os.path.join(os.path.dirname(__file__), 'data')
MiB = 1024 * 1024
GiB = 1024 * MiB


def _fixture(name):
    with gzip.open(os.path.join(_DATA, name + '.gz'), 'rb') as f:
        return f.read()


def _raw(size=MiB):
    # A byte pattern no inspector recognises (not zeros, not text).
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def _qcow2(size=GiB, backing_file=None, incompatible=0, version=3,
           length=64 * 1024):
    """A qcow2 header (see qemu docs/interop/qcow2.txt) padded to length."""
    bf_offset, bf_size = (512, len(backing_file)) if backing_file else (0, 0)
    header = struct.pack('>4sIQIIQ', b'QFI\xfb', version, bf_offset, bf_size,
                         16, size)
    header = header.ljust(72, b'\0') + struct.pack('>Q', incompatible)
    data = bytearray(header.ljust(length, b'\0'))
    if backing_file:
        data[512:512 + bf_size] = backing_file
    return bytes(data)


def _iso(blocks=64, block_size=2048, system_area=None):
    """An ISO 9660 image: 32 KiB system area, then a primary descriptor."""
    pvd = bytearray(2048)
    pvd[0:7] = b'\x01CD001\x01'
    pvd[80:88] = struct.pack('<I', blocks) + struct.pack('>I', blocks)
    pvd[128:132] = (struct.pack('<H', block_size) +
                    struct.pack('>H', block_size))
    area = (system_area or b'').ljust(32 * 1024, b'\0')
    return (area + pvd).ljust(blocks * block_size, b'\0')


def _mbr(boot=0x00, ostype=0xEE, start_chs=(0, 2, 0), start_lba=1):
    """A boot sector whose first partition entry is a GPT protective one."""
    sector = bytearray(512)
    sector[446:462] = struct.pack('<B3BB3BII', boot, *start_chs, ostype,
                                  0xFF, 0xFF, 0xFF, start_lba, 2047)
    sector[510:512] = b'\x55\xaa'
    return bytes(sector)


def _vmdk_with_footer(eos_value=0, padding=2 * MiB):
    """The streamOptimized fixture laid out as VMware streams it.

    The grain directory offset in the header says 'see the footer', and the
    stream ends with a footer marker, a copy of the header and an end-of-stream
    marker.
    """
    image = _fixture('vmdk-stream-optimized.vmdk')
    header = bytearray(image[:512])
    header[56:64] = struct.pack('<Q', 0xFFFFFFFFFFFFFFFF)
    footer = (struct.pack('<QII496s', 0, 0, 3, bytes(496)) + image[:512] +
              struct.pack('<QII496s', eos_value, 0, 0, bytes(496)))
    return bytes(header) + image[512:] + bytes(padding) + footer


def _disk(sector, size=MiB):
    return sector + _raw(size - len(sector))


def _feed_all(inspector, data, chunk_size):
    """Feed ``data`` in chunks as streams.UploadStream does; the byte count."""
    for start in range(0, len(data), chunk_size):
        inspector.feed(data[start:start + chunk_size])
    return len(data)


class FormatInspectorTestCase(base.TestCase):

    def _upload(self, data, disk_format, chunk_size=64 * 1024, **kwargs):
        """Inspect ``data`` to its end as an upload does: (bytes, size)."""
        inspector = format_check.FormatInspector(disk_format, **kwargs)
        total = _feed_all(inspector, data, chunk_size)
        return data, inspector.finish(total)

    def _rejected(self, data, disk_format, **kwargs):
        exc = self.assertRaises(exception.ImageFormatMismatch,
                                self._upload, data, disk_format, **kwargs)
        self.assertEqual(415, exc.code)
        return str(exc)

    # ---------------------------------------------------------- matches
    def test_finish_raw_data_declared_raw_gives_byte_size(self):
        data = _raw(3 * MiB + 17)
        out, size = self._upload(data, 'raw')
        self.assertEqual(data, out)
        self.assertEqual(len(data), size)

    def test_finish_raw_data_small_reads_gives_byte_size(self):
        # Chunks of 1000 bytes, none aligned with any header region.
        data = _raw(300 * 1024 + 5)
        _, size = self._upload(data, 'raw', chunk_size=1000)
        self.assertEqual(len(data), size)

    def test_finish_raw_data_one_mib_reads_gives_byte_size(self):
        data = _raw(5 * MiB)
        out, size = self._upload(data, 'raw', chunk_size=MiB)
        self.assertEqual(data, out)
        self.assertEqual(5 * MiB, size)

    def test_finish_qcow2_header_declared_qcow2_gives_header_size(self):
        data = _qcow2(size=10 * GiB, length=2 * MiB)
        out, size = self._upload(data, 'qcow2')
        self.assertEqual(data, out)
        self.assertEqual(10 * GiB, size)

    def test_finish_qemu_img_qcow2_declared_qcow2_gives_header_size(self):
        _, size = self._upload(_fixture('qcow2-plain.qcow2'), 'qcow2')
        self.assertEqual(16 * MiB, size)

    def test_finish_qcow2_version2_declared_qcow2_gives_header_size(self):
        _, size = self._upload(_qcow2(size=GiB, version=2), 'qcow2')
        self.assertEqual(GiB, size)

    def test_finish_qemu_img_formats_declared_as_detected_give_header_size(self):
        cases = [('vmdk-monolithic-sparse.vmdk', 'vmdk', 16 * MiB),
                 ('vmdk-stream-optimized.vmdk', 'vmdk', 16 * MiB),
                 # qemu rounds a VHD up to its CHS geometry.
                 ('vhd-dynamic.vhd', 'vhd', 16781312),
                 ('vhdx-dynamic.vhdx', 'vhdx', 16 * MiB),
                 ('vdi-dynamic.vdi', 'vdi', 16 * MiB)]
        for name, disk_format, expected in cases:
            _, size = self._upload(_fixture(name), disk_format)
            self.assertEqual(expected, size, name)

    def test_finish_vmdk_with_footer_declared_vmdk_gives_header_size(self):
        # Decided only at the end: the footer is checked too.
        _, size = self._upload(_vmdk_with_footer(), 'vmdk')
        self.assertEqual(16 * MiB, size)

    def test_finish_iso_declared_iso_gives_volume_size(self):
        _, size = self._upload(_iso(blocks=64), 'iso')
        self.assertEqual(64 * 2048, size)

    def test_finish_hybrid_iso_with_mbr_declared_iso_is_iso(self):
        # Bootable ISOs carry an MBR too; Glance picks iso over gpt.
        data = _iso(blocks=64, system_area=_mbr())
        _, size = self._upload(data, 'iso')
        self.assertEqual(64 * 2048, size)

    def test_finish_empty_body_declared_raw_gives_none(self):
        # Glance stores no virtual_size when the inspector reports 0.
        out, size = self._upload(b'', 'raw')
        self.assertEqual(b'', out)
        self.assertIsNone(size)

    # ------------------------------------------------- Glance's leniency
    def test_finish_qcow2_data_declared_raw_accepted_as_byte_size(self):
        # glance/location.py set_data: anything may be called raw; the size
        # is the byte count, and only the safety checks of the real format
        # (qcow2 here) apply.
        data = _qcow2(size=10 * GiB)
        _, size = self._upload(data, 'raw')
        self.assertEqual(len(data), size)

    def test_finish_valid_gpt_disk_declared_raw_accepted(self):
        data = _disk(_mbr())
        _, size = self._upload(data, 'raw')
        self.assertEqual(len(data), size)

    def test_finish_raw_data_declared_ami_gives_none(self):
        for disk_format in ('ami', 'ari', 'aki', 'ploop'):
            out, size = self._upload(_raw(), disk_format)
            self.assertEqual(_raw(), out)
            self.assertIsNone(size)

    # -------------------------------------------------------- mismatches
    def test_finish_raw_data_declared_qcow2_rejected(self):
        message = self._rejected(_raw(), 'qcow2')
        self.assertEqual(
            'Image disk_format qcow2 does not match stream data raw', message)

    def test_finish_qcow2_data_declared_vmdk_rejected(self):
        message = self._rejected(_fixture('qcow2-plain.qcow2'), 'vmdk')
        self.assertEqual(
            'Image disk_format vmdk does not match stream data qcow2',
            message)

    def test_finish_qcow2_data_declared_ami_rejected(self):
        message = self._rejected(_qcow2(), 'ami')
        self.assertEqual(
            'Image disk_format ami does not match stream data qcow2', message)

    def test_finish_iso_data_declared_qcow2_rejected(self):
        message = self._rejected(_iso(), 'qcow2')
        self.assertEqual(
            'Image disk_format qcow2 does not match stream data iso', message)

    def test_finish_empty_body_declared_qcow2_rejected(self):
        message = self._rejected(b'', 'qcow2')
        self.assertEqual(
            'Image disk_format qcow2 does not match stream data raw', message)

    def test_finish_two_formats_in_one_stream_rejected(self):
        # A qcow2 header with an ISO descriptor hidden at 32 KiB.
        data = _iso(blocks=64, system_area=_qcow2(length=512))
        message = self._rejected(data, 'qcow2')
        self.assertEqual('Multiple formats detected: iso,qcow2', message)

    # ------------------------------------------------------ safety checks
    def test_finish_qcow2_backing_file_rejected(self):
        message = self._rejected(_fixture('qcow2-backing-file.qcow2'),
                                 'qcow2')
        self.assertEqual('Image failed safety checks: qcow2 backing_file '
                         'check: Image has a backing file', message)

    def test_finish_qcow2_backing_file_declared_raw_rejected(self):
        message = self._rejected(_qcow2(backing_file=b'/etc/passwd'), 'raw')
        self.assertIn('backing_file check: Image has a backing file',
                      message)

    def test_finish_qcow2_data_file_rejected(self):
        message = self._rejected(_fixture('qcow2-data-file.qcow2'), 'qcow2')
        self.assertEqual('Image failed safety checks: qcow2 data_file '
                         'check: Image has data_file set', message)

    def test_finish_qcow2_unknown_feature_rejected(self):
        message = self._rejected(_qcow2(incompatible=1 << 20), 'qcow2')
        self.assertIn('unknown_features check: Unknown QCOW2 features found',
                      message)

    def test_finish_vmdk_flat_descriptor_rejected(self):
        # A text descriptor pointing at another file: only monolithicSparse
        # and streamOptimized are allowed.
        data = (b'# Disk DescriptorFile\nversion=1\n'
                b'createType="monolithicFlat"\n'
                b'RW 2048 FLAT "other-flat.vmdk" 0\n')
        message = self._rejected(data, 'vmdk')
        self.assertEqual('Image failed safety checks: vmdk descriptor check: '
                         'Unsupported subformat', message)

    def test_finish_vmdk_footer_bad_end_marker_rejected(self):
        message = self._rejected(_vmdk_with_footer(eos_value=1), 'vmdk')
        self.assertEqual('Image failed safety checks: vmdk footer check: '
                         'End-of-stream marker is invalid', message)

    def test_finish_malformed_mbr_declared_raw_rejected(self):
        message = self._rejected(_disk(_mbr(boot=0x7F)), 'raw')
        self.assertEqual('Image failed safety checks: gpt mbr check: MBR PTE '
                         '0 has invalid boot flag', message)

    def test_finish_protective_mbr_bad_start_lba_rejected(self):
        message = self._rejected(_disk(_mbr(start_lba=7)), 'raw')
        self.assertIn('GPT MBR has invalid start LBA', message)

    def test_finish_malformed_mbr_nonfatal_accepted(self):
        data = _disk(_mbr(boot=0x7F))
        _, size = self._upload(data, 'raw', nonfatal_checks=['mbr'])
        self.assertEqual(len(data), size)

    def test_finish_qcow2_backing_file_nonfatal_mbr_still_rejected(self):
        # Non-fatal checks apply to gpt only.
        self._rejected(_qcow2(backing_file=b'base'), 'qcow2',
                       nonfatal_checks=['backing_file', 'mbr'])

    # ------------------------------------------ require_image_format_match
    def test_finish_mismatch_not_required_gives_none(self):
        self.flags(require_image_format_match=False, group='image_format')
        require = self.conf.image_format.require_image_format_match
        out, size = self._upload(_raw(), 'qcow2', require_match=require)
        self.assertEqual(_raw(), out)
        self.assertIsNone(size)

    def test_finish_multiple_formats_not_required_gives_none(self):
        data = _iso(blocks=64, system_area=_qcow2(length=512))
        _, size = self._upload(data, 'qcow2', require_match=False)
        self.assertIsNone(size)

    def test_finish_safety_failure_not_required_still_rejected(self):
        # As in Glance, the option covers mismatches, not safety checks.
        self._rejected(_fixture('qcow2-backing-file.qcow2'), 'qcow2',
                       require_match=False)

    def test_finish_inspector_error_required_rejected(self):
        with mock.patch.object(format_check, '_chosen_format',
                               side_effect=RuntimeError('boom')):
            message = self._rejected(_raw(), 'raw')
        self.assertEqual('Image format inspection failed', message)

    def test_finish_inspector_error_not_required_gives_none(self):
        with mock.patch.object(format_check, '_chosen_format',
                               side_effect=RuntimeError('boom')):
            _, size = self._upload(_raw(), 'raw', require_match=False)
        self.assertIsNone(size)

    # ------------------------------------------------------- streaming
    def test_feed_format_decided_mismatch_raises_before_end(self):
        # Every inspector has its header region after 256 KiB, so a 1 GiB
        # upload is refused then, not after storing it.
        inspector = format_check.FormatInspector('qcow2')
        data = _raw(8 * MiB)
        fed = []

        def feed_all():
            for start in range(0, len(data), 64 * 1024):
                fed.append(start)
                inspector.feed(data[start:start + 64 * 1024])
        self.assertRaises(exception.ImageFormatMismatch, feed_all)
        self.assertEqual(4, len(fed))

    def test_finish_end_of_stream_raises_rejection(self):
        # Small images are decided only at the end: finish raises, before a
        # store driver could commit the data.
        data = _fixture('qcow2-backing-file.qcow2')
        inspector = format_check.FormatInspector('qcow2')
        inspector.feed(data)
        self.assertRaises(exception.ImageFormatMismatch, inspector.finish,
                          len(data))

    def test_feed_after_format_decided_stops_inspecting(self):
        inspector = format_check.FormatInspector('raw')
        with mock.patch.object(format_inspector.InspectWrapper, 'read',
                               autospec=True,
                               side_effect=format_inspector.InspectWrapper
                               .read) as inspect:
            total = _feed_all(inspector, _raw(8 * MiB), 64 * 1024)
        self.assertEqual(4, inspect.call_count)
        self.assertEqual(8 * MiB, inspector.finish(total))

    def test_feed_empty_chunk_does_not_finish(self):
        inspector = format_check.FormatInspector('qcow2')
        inspector.feed(b'')
        inspector.feed(_qcow2())
        self.assertEqual(GiB, inspector.finish(64 * 1024))

    def test_finish_called_twice_raises_twice(self):
        inspector = format_check.FormatInspector('qcow2')
        fed = self.assertRaises(exception.ImageFormatMismatch,
                                inspector.feed, _raw())
        first = self.assertRaises(exception.ImageFormatMismatch,
                                  inspector.finish, MiB)
        second = self.assertRaises(exception.ImageFormatMismatch,
                                   inspector.finish, MiB)
        self.assertIs(fed, first)
        self.assertIs(first, second)

    def test_finish_called_twice_returns_size_twice(self):
        inspector = format_check.FormatInspector('raw')
        total = _feed_all(inspector, _raw(), MiB)
        self.assertEqual(MiB, inspector.finish(total))
        self.assertEqual(MiB, inspector.finish(total))

    def test_feed_text_stream_keeps_header_regions_only(self):
        # ASCII text is the worst case: the VMDK inspector keeps up to 1 MiB
        # of it as a possible descriptor, and no more.
        data = b'hello world\n' * (8 * MiB // 12)
        inspector = format_check.FormatInspector('raw')
        peak = 0
        for start in range(0, len(data), MiB):
            inspector.feed(data[start:start + MiB])
            peak = max(peak, sum(sum(i.context_info.values())
                                 for i in inspector._wrapper._inspectors))
        self.assertLess(peak, 1.25 * MiB)
        self.assertEqual(len(data), inspector.finish(len(data)))


class NeedsInspectionTestCase(base.TestCase):

    def test_needs_inspection_bare_true(self):
        self.assertTrue(format_check.needs_inspection('bare'))

    def test_needs_inspection_other_containers_false(self):
        for container_format in ('ami', 'ari', 'aki', 'ovf', 'ova', 'docker',
                                 'compressed'):
            self.assertFalse(format_check.needs_inspection(container_format))
