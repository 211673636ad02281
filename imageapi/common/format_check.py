"""Inspect the format of an upload while it streams, as Glance's set_data does.

streams.UploadStream feeds the body of a bare-container image to a
FormatInspector; its verdict (a virtual size, or ImageFormatMismatch: 415)
is reached before the store driver commits the data. See glance/location.py
``ImageProxy.set_data`` (Glance 33) and oslo.utils' imageutils/format_inspector.py.
"""

import logging

from oslo_utils.imageutils import format_inspector

from imageapi.common import exception

LOG = logging.getLogger(__name__)

# Where the virtual size comes from once the format is decided.
_FROM_HEADER = 'header'
_FROM_BYTES = 'bytes'

# Inspectors that must see every byte: LUKS's virtual size is the byte count
# less its header. (raw and gpt report the plain count, which the reader keeps.)
_FEED_TO_END = frozenset(['luks'])


def needs_inspection(container_format):
    """True if uploads of this container format are inspected (bare only).

    Glance inspects every bare upload whatever ``[image_format]
    require_image_format_match`` says: that option only decides whether a
    format mismatch is fatal; failed safety checks always are.
    """
    return container_format == 'bare'


class _Feed:
    """The source InspectWrapper reads: the chunk FormatInspector was fed."""

    chunk = b''

    def read(self, size):
        chunk, self.chunk = self.chunk, b''
        return chunk


class FormatInspector:
    """Checks the bytes of an upload against its disk_format as they stream.

    streams.UploadStream feeds it every chunk and asks for its verdict at the
    end. oslo.utils' InspectWrapper keeps only the header regions its
    inspectors ask for (about 1.2 MiB at worst: a VMDK descriptor, VHDX
    tables, the ISO system area), never the image. Once every inspector has
    its regions the format is decided (after 256 KiB for most images, a few
    MiB for VHDX) and inspection stops, so the rest of the stream costs
    nothing here. A VMDK with a footer, and LUKS, are inspected to the end.

    A rejection is raised from ``feed`` as soon as the format is decided, or
    from ``finish`` at the end of the stream: before the store driver commits,
    so a refused upload keeps nothing (in Glance the data was already stored).
    """

    def __init__(self, disk_format, require_match=True, nonfatal_checks=()):
        """Inspect for ``disk_format``.

        :param disk_format: the image's disk_format.
        :param require_match: ``[image_format] require_image_format_match``;
            when False a mismatch is logged and the upload goes on.
        :param nonfatal_checks: safety check names ('mbr', ...) tolerated
            when the data is detected as gpt, as Glance's
            ``[image_format] gpt_safety_checks_nonfatal``.
        """
        self._disk_format = disk_format
        self._require_match = require_match
        self._nonfatal = frozenset(nonfatal_checks)
        self._feed = _Feed()
        self._wrapper = format_inspector.InspectWrapper(self._feed)
        self._feeding = True
        self._decided = False
        self._finished = False
        self._inspector = None
        self._size_from = None
        self._error = None

    def feed(self, chunk):
        """Inspect the next chunk of the stream.

        :raises ImageFormatMismatch: the data is known not to match
            ``disk_format``, or fails a safety check.
        """
        if self._feeding and chunk:
            self._inspect(chunk)

    def finish(self, total_bytes):
        """Return the virtual size in bytes (None if unknown) after the end.

        :param total_bytes: how many bytes the stream had.
        :raises ImageFormatMismatch: the data does not match ``disk_format``
            (when a match is required), or fails the format's safety checks.
            Calling it again raises the same exception again.
        """
        if not self._finished:
            self._finished = True
            self._feeding = False
            self._wrapper.close()
            if not self._decided:
                self._decide()
        if self._error is not None:
            raise self._error
        return self._virtual_size(total_bytes)

    def _inspect(self, chunk):
        self._feed.chunk = chunk
        self._wrapper.read(len(chunk))
        if not self._decided and self._wrapper.formats is not None:
            self._decide()
            self._feeding = (self._size_from == _FROM_HEADER and
                             str(self._inspector) in _FEED_TO_END)

    def _decide(self):
        self._decided = True
        try:
            self._inspector, self._size_from = self._judge()
        except exception.ImageFormatMismatch as exc:
            self._error = exc
            self._feeding = False
            raise

    def _virtual_size(self, total_bytes):
        inspector = self._inspector
        if self._size_from == _FROM_BYTES or (
                self._size_from == _FROM_HEADER and _counts_bytes(inspector)):
            # NOTE: the inspector stopped counting when inspection stopped.
            size = total_bytes
        elif self._size_from == _FROM_HEADER:
            size = inspector.virtual_size
        else:
            size = None
        # Glance stores no virtual_size when the inspector reports 0.
        return size or None

    def _judge(self):
        """Glance's verdict on the decided format: (inspector, size source)."""
        disk_format = self._disk_format
        inspector = None
        try:
            inspector = _chosen_format(self._wrapper.formats)
            detected = str(inspector)
            if detected == disk_format:
                size_from = _FROM_HEADER
            elif (detected == 'raw' and
                  disk_format not in format_inspector.ALL_FORMATS):
                # ami, ari, aki, ploop: no inspector; unrecognised data passes.
                size_from = None
            elif disk_format == 'raw':
                # Glance lets anything be called raw (a qcow2 too), sized as
                # bytes, but still runs the detected format's safety checks.
                LOG.warning('Image claims disk_format raw but the data is %s',
                            detected)
                size_from = _FROM_BYTES
            else:
                raise format_inspector.ImageFormatError(
                    'Image disk_format %s does not match stream data %s'
                    % (disk_format, detected))
            inspector.safety_check()
        except format_inspector.ImageFormatError as exc:
            return self._mismatch(str(exc))
        except format_inspector.SafetyCheckFailed as exc:
            self._check_failures(inspector, exc)
        except Exception:
            LOG.exception('Unable to determine the format of the image data')
            return self._mismatch('Image format inspection failed')
        return inspector, size_from

    def _mismatch(self, reason):
        if self._require_match:
            raise exception.ImageFormatMismatch(reason=reason)
        LOG.warning('Image format %s not verified, so no virtual size: %s',
                    self._disk_format, reason)
        return None, None

    def _check_failures(self, inspector, exc):
        fatal = exc.failures.keys() - self._nonfatal
        if inspector.NAME == 'gpt' and not fatal:
            LOG.warning('Non-fatal %s', exc)
            return
        details = '; '.join('%s %s check: %s' % (inspector, name, failure)
                            for name, failure in sorted(exc.failures.items()))
        raise exception.ImageFormatMismatch(
            reason='Image failed safety checks: %s' % details)


def _chosen_format(matches):
    """The one format the data is, as Glance picks it; ImageFormatError if not one.

    An ISO that also carries an MBR/GPT (a bootable hybrid) counts as iso.
    """
    names = {str(inspector): inspector for inspector in matches}
    if names.keys() == {'iso', 'gpt'}:
        return names['iso']
    if len(names) != 1:
        # NOTE: InspectWrapper.format says the same in set order; sorted here
        # so that the message a client sees does not vary between runs.
        raise format_inspector.ImageFormatError(
            'Multiple formats detected: %s' % ','.join(sorted(names)))
    return matches[0]


def _counts_bytes(inspector):
    # raw, gpt and qed report the number of bytes they were fed.
    return (type(inspector).virtual_size is
            format_inspector.FileInspector.virtual_size)
