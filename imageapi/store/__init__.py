"""Image data stores: the drivers of one process, loaded from the configuration.

``Stores(conf)`` is what the API and the reaper use. With ``[DEFAULT] enabled_backends``
(Glance's multi-store) it holds one driver per store id, each configured from the group
named by its id; without it, the one driver named by ``[store] driver``. Drivers are
found by type in the ``imageapi.store.drivers`` entry points (setup.cfg), loaded with
stevedore; the start-up step (imageapi/service.py) builds the Stores once per process.
"""

import dataclasses

from oslo_log import log as logging
from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exc

from imageapi.common import exception
from imageapi.conf import store as store_conf

LOG = logging.getLogger(__name__)

NAMESPACE = 'imageapi.store.drivers'
# Glance keeps its internal stores (staging, tasks) under this prefix.
_RESERVED_PREFIX = 'os_glance_'


def _load(store_type, conf, group=None):
    kwargs = {} if group is None else {'group': group}
    try:
        manager = stevedore_driver.DriverManager(
            NAMESPACE, store_type, invoke_on_load=True, invoke_args=(conf,),
            invoke_kwds=kwargs)
    except stevedore_exc.NoMatches:
        raise exception.BackendUnavailable(
            reason='no store driver is named %r' % store_type)
    return manager.driver


def get_driver(conf):
    """Return a new instance of the driver named by ``[store] driver``.

    :raises imageapi.common.exception.BackendUnavailable: if no driver has
        that name.
    """
    return _load(conf.store.driver, conf)


@dataclasses.dataclass(frozen=True)
class Store:
    """One configured store: its id (None for the single store), its driver."""

    id: str
    type: str
    driver: object
    description: str = ''
    weight: int = 0


class Stores:
    """The stores of this process, by id; see the module docstring."""

    def __init__(self, conf):
        backends = conf.enabled_backends or {}
        self.multi = bool(backends)
        if not self.multi:
            single = Store(None, conf.store.driver, get_driver(conf))
            self._stores = {None: single}
            self.default = single
            return
        self._stores = {}
        for store_id, store_type in backends.items():
            if store_id.startswith(_RESERVED_PREFIX):
                raise exception.BackendUnavailable(
                    reason='store ids starting with %r are reserved: %r'
                           % (_RESERVED_PREFIX, store_id))
            store_conf.register_backend_opts(conf, store_id, store_type)
            group = conf[store_id]
            self._stores[store_id] = Store(
                store_id, store_type, _load(store_type, conf, store_id),
                group.store_description, group.weight)
        default = conf.glance_store.default_backend
        if default not in self._stores:
            raise exception.BackendUnavailable(
                reason='[glance_store] default_backend %r is none of '
                       'enabled_backends' % default)
        self.default = self._stores[default]

    def __iter__(self):
        return iter(self._stores.values())

    def find(self, store_id):
        """The Store ``store_id``, or None."""
        return self._stores.get(store_id) if self.multi else None

    def get(self, store_id):
        """The Store ``store_id``; None gives the default store.

        :raises InvalidStore: no store has that id (400).
        """
        if store_id is None or not self.multi:
            return self.default
        found = self._stores.get(store_id)
        if found is None:
            raise exception.InvalidStore(store_id=store_id)
        return found

    def location_metadata(self, store):
        """What a new location records: its store id, in multi-store."""
        return {'store': store.id} if self.multi else {}

    def of_location(self, location):
        """The Store that holds ``location`` (a repository location dict)."""
        if not self.multi:
            return self.default
        found = self._stores.get(location['metadata'].get('store'))
        return found or self.default

    def by_weight(self, locations):
        """(location, Store) pairs, heaviest store first (downloads)."""
        pairs = [(location, self.of_location(location))
                 for location in locations]
        return sorted(pairs, key=lambda pair: -pair[1].weight)

    def discard(self, store, url):
        """Delete data no record points to any more; never raises.

        Already gone (a purge got there first) is fine; any other failure is
        logged for the operator rather than failing the caller, whose
        records have already moved on.
        """
        try:
            store.driver.delete(url)
        except exception.StoredDataNotFound:
            pass
        except Exception:
            LOG.exception('Could not delete image data at %s', url)

    def purge(self, image_id):
        """Driver.purge in every store; returns how many pieces went."""
        return sum(store.driver.purge(image_id) for store in self)
