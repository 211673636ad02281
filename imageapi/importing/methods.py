"""The import methods by name: METHODS, read by the engine and GET /v2/info/import.

A method is an object with:

- ``name``: the name a client sends in ``{"method": {"name": ...}}``;
- ``validate(conf, context, image, body)``: called in the request, before the
  202, with the image dict and the whole request body; raises an
  imageapi.common.exception error (such as BadRequest) to refuse the import.
  The controller has already checked the image's status for the method, its
  formats, the policy and the import lock (Glance's checks, in Glance's order);
- ``open_source(conf, context, image, body)``: called on the engine's thread
  with the caller's RequestContext (its token, for glance-download); returns
  a Source. It raises errors.ImportFailed (or a subclass) when the data
  cannot be had.

A Source is a file-like object with ``read(n) -> bytes`` (b'' at the end),
``close()``, ``size`` (int, or None when unknown) and ``properties`` (a dict of
image fields and properties to set on the image with the data, usually {}).

A method whose ``from_staging`` attribute is true (glance-direct) finds its data
in the staging file already: the engine skips the staging pass and goes straight
to the plugins. Methods register themselves with ``register`` when their module
is imported; this module imports the modules of the methods it does not define
(``_PLUGGED``) at its end, so importing it fills METHODS.
"""

import importlib
import os
import stat

from imageapi.common import exception
from imageapi.importing import errors

GLANCE_DIRECT = 'glance-direct'
WEB_DOWNLOAD = 'web-download'
COPY_IMAGE = 'copy-image'
GLANCE_DOWNLOAD = 'glance-download'

METHODS = {}


def register(method):
    """Make ``method`` known by its name; returns it."""
    METHODS[method.name] = method
    return method


def enabled(conf):
    """Names of the methods this site offers: enabled_import_methods, if known.

    In the order of ``[DEFAULT] enabled_import_methods``; a name no module
    defines is left out (the start-up check logs it).
    """
    return [name for name in conf.enabled_import_methods if name in METHODS]


def get(conf, name):
    """The enabled method ``name``.

    :raises InvalidImportMethod: unknown or not enabled at this site (400,
        as Glance's request schema refuses it).
    """
    if name not in enabled(conf):
        raise exception.InvalidImportMethod(method=name)
    return METHODS[name]


class FileSource:
    """A Source over a local file, such as a staged image.

    A file that is not a regular one (a pipe) has no size: it is read
    until its end.
    """

    properties = {}

    def __init__(self, path):
        self._file = open(path, 'rb')
        status = os.fstat(self._file.fileno())
        self.size = status.st_size if stat.S_ISREG(status.st_mode) else None

    def read(self, n):
        return self._file.read(n)

    def close(self):
        self._file.close()


class ChunksSource:
    """A Source over a store driver's chunk iterator (copy-image)."""

    properties = {}

    def __init__(self, chunks, size):
        self._chunks = chunks
        self._iter = iter(chunks)
        self._buffer = b''
        self.size = size

    def read(self, n):
        while not self._buffer:
            try:
                self._buffer = next(self._iter)
            except StopIteration:
                return b''
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def close(self):
        self._chunks.close()


class GlanceDirect:
    """Import what PUT /v2/images/{id}/stage put in the staging area."""

    name = GLANCE_DIRECT
    from_staging = True

    def validate(self, conf, context, image, body):
        """Nothing beyond the controller's checks: the image is staged."""

    def open_source(self, conf, context, image, body):
        """The staged file; the engine reads it in place."""
        raise errors.ImportFailed(
            'glance-direct reads the staging file in place.')


class CopyImage:
    """Copy an active image's data into further stores (multi-store)."""

    name = COPY_IMAGE
    from_staging = False
    # The engine passes its Stores as ``stores``: the data comes from one.
    needs_stores = True

    def validate(self, conf, context, image, body):
        if not conf.enabled_backends:
            raise exception.MultiStoreDisabled()

    def open_source(self, conf, context, image, body, stores=None):
        """The image's data from the first of its stores that has it."""
        for location, store in stores.by_weight(image['locations']):
            try:
                chunks = store.driver.get(location['url'])
            except (exception.StoredDataNotFound,
                    exception.BackendUnavailable):
                continue
            return ChunksSource(chunks, image['size'])
        raise errors.SourceUnavailable(
            'No store holds the data of image %s any more.' % image['id'])


register(GlanceDirect())
register(CopyImage())

# Methods defined in their own modules (web-download, glance-download).
_PLUGGED = ('imageapi.importing.web_download',
            'imageapi.importing.glance_download')
for _module in _PLUGGED:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise
