"""Image data stores: get_driver(conf) returns the configured driver.

The image data controller calls get_driver; drivers are found by name in the
``imageapi.store.drivers`` entry-point namespace.
"""

from importlib import metadata

from imageapi.common import exception
from imageapi.store import filesystem

NAMESPACE = 'imageapi.store.drivers'

# NOTE: a checkout that was never installed (pip install -e) has no entry
# points; these keep unit tests and a laptop setup working there.
_BUILTIN_DRIVERS = {'file': filesystem.FilesystemDriver}


def get_driver(conf):
    """Return a new instance of the driver named by ``[store] driver``.

    :param conf: a ``ConfigOpts`` with imageapi's options registered.
    :returns: an instance of an imageapi.store.driver.Driver subclass.
    :raises imageapi.common.exception.BackendUnavailable: if no driver has
        that name.
    """
    name = conf.store.driver
    found = tuple(metadata.entry_points(group=NAMESPACE, name=name))
    if found:
        driver_class = found[0].load()
    elif name in _BUILTIN_DRIVERS:
        driver_class = _BUILTIN_DRIVERS[name]
    else:
        raise exception.BackendUnavailable(
            reason='no store driver is named %r' % name)
    return driver_class(conf)
