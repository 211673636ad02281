"""Import plugin ``image_conversion``: qemu-img converts the staged file.

As Glance's plugin does, the data must first be what its disk_format says
(oslo.utils' format inspector and qemu-img info agree, safety checks pass),
and must have no backing file, no data-file and, for VMDK, an allowed
create-type; only then is it converted to ``[image_conversion]
output_format``, into a temp file beside the staged one that replaces it.
"""

import json
import logging
import os
import shutil
import subprocess
import uuid

from oslo_utils.imageutils import format_inspector

from imageapi.importing import errors

LOG = logging.getLogger(__name__)

QEMU_IMG = 'qemu-img'
# qemu-img info parses untrusted headers: Glance bounds it at 2 s of CPU and
# 1 GiB of address space (glance/async_/utils.py QEMU_IMG_PROC_LIMITS).
INFO_LIMITS = ['prlimit', '--cpu=2', '--as=%d' % (1 << 30)]


def inspect(path):
    """The format oslo.utils detects in ``path`` (gpt counts as raw).

    :raises errors.PluginFailed: the data fails a safety check or cannot be
        inspected.
    """
    try:
        inspector = format_inspector.detect_file_format(path)
        inspector.safety_check()
    except format_inspector.SafetyCheckFailed as exc:
        raise errors.PluginFailed(
            'Image has disallowed configuration: %s' % exc)
    except format_inspector.ImageFormatError as exc:
        raise errors.PluginFailed('Image format detection failed: %s' % exc)
    detected = str(inspector)
    return 'raw' if detected == 'gpt' else detected


def _qemu_img(args, limits=()):
    if shutil.which(QEMU_IMG) is None:
        raise errors.PluginFailed(
            'The image_conversion plugin needs qemu-img, which is not '
            'installed (Debian package qemu-utils).')
    result = subprocess.run(list(limits) + [QEMU_IMG] + args,
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise errors.PluginFailed('qemu-img %s failed: %s' % (
            args[0], result.stderr.strip() or 'exit %d' % result.returncode))
    return result.stdout


def _check_info(info, source_format, conf):
    """Refuse what Glance's plugin refuses, from qemu-img info's report."""
    if info.get('format') != source_format:
        raise errors.PluginFailed(
            'Image claiming to be %s is reported as %s by qemu-img.'
            % (source_format, info.get('format', 'unknown')))
    if 'backing-filename' in info:
        raise errors.PluginFailed(
            'QCOW images with backing files are not allowed.')
    specific = info.get('format-specific', {}).get('data', {})
    if specific.get('data-file') is not None:
        raise errors.PluginFailed(
            'QCOW images with data-file set are not allowed.')
    if source_format == 'vmdk':
        create_type = specific.get('create-type')
        if create_type not in conf.image_format.vmdk_allowed_types:
            raise errors.PluginFailed(
                'VMDK create-type %r is not in [image_format] '
                'vmdk_allowed_types.' % create_type)


def _convert(path, source_format, target_format):
    """Convert ``path`` in place: a temp file beside it, then os.replace."""
    temp = '%s.%s.%s' % (path, target_format, uuid.uuid4().hex)
    try:
        _qemu_img(['convert', '-f', source_format, '-O', target_format,
                   path, temp])
        converted = inspect(temp)
        if converted != target_format:
            # Someone may have hidden one format inside another.
            raise errors.PluginFailed(
                'Converted image detected as %s, not %s.'
                % (converted, target_format))
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def run(conf, context, image, staged_path):
    """Check and convert the staged file; returns the new formats and virtual_size."""
    target_format = conf.image_conversion.output_format
    source_format = image['disk_format']
    detected = inspect(staged_path)
    if detected == 'iso' and source_format == 'iso':
        LOG.debug('Not converting ISO image %s', image['id'])
        return {}
    if detected != source_format:
        raise errors.PluginFailed(
            'Image claimed to be %s format but format inspection found %s.'
            % (source_format, detected))
    info = json.loads(_qemu_img(
        ['info', '-f', source_format, '--output=json', staged_path],
        limits=INFO_LIMITS))
    _check_info(info, source_format, conf)
    changes = {'virtual_size': info.get('virtual-size')}
    if source_format == target_format:
        return changes
    _convert(staged_path, source_format, target_format)
    LOG.info('Converted image %s from %s to %s', image['id'], source_format,
             target_format)
    return dict(changes, disk_format=target_format, container_format='bare')
