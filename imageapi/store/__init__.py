"""Image data stores: get_driver(conf) returns the configured driver.

Drivers are found by name in the ``imageapi.store.drivers`` entry-point namespace
(setup.cfg), loaded with stevedore; the start-up step (imageapi/service.py) calls
get_driver once per process.
"""

from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exc

from imageapi.common import exception

NAMESPACE = 'imageapi.store.drivers'


def get_driver(conf):
    """Return a new instance of the driver named by ``[store] driver``.

    :param conf: a ``ConfigOpts`` with imageapi's options registered.
    :returns: an instance of an imageapi.store.driver.Driver subclass.
    :raises imageapi.common.exception.BackendUnavailable: if no driver has
        that name.
    """
    name = conf.store.driver
    try:
        manager = stevedore_driver.DriverManager(
            NAMESPACE, name, invoke_on_load=True, invoke_args=(conf,))
    except stevedore_exc.NoMatches:
        raise exception.BackendUnavailable(
            reason='no store driver is named %r' % name)
    return manager.driver
