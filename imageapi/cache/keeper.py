"""The cache keeper of an API process: pre-fetch, sweep and prune of the node's cache.

The start-up step (imageapi/service.py) starts one daemon thread per process when
``[DEFAULT] image_cache_dir`` is set. It rebuilds the index from the directory first
(ImageCache.clean), then every ``image_cache_interval`` seconds, and at once when the
cache API queues an image, it fetches the queued images, drops entries of images that
are no longer active (deleted or deactivated on any node) and prunes the cache to
``image_cache_max_size``. ``imageapi-manage cache`` runs the same steps once.
"""

import threading

from oslo_log import log as logging

from imageapi.cache import chunks as cache_chunks
from imageapi.common import exception
from imageapi import context as imageapi_context
from imageapi.db import api as db_api
from imageapi.db import images as db_images

LOG = logging.getLogger(__name__)


def cacheable(image):
    """True when ``image`` (a repository dict) may be cached and served from it."""
    return (image['status'] == db_api.ACTIVE and bool(image['locations'])
            and image['size'] is not None and bool(image['os_hash_value']))


def _active_image(ctx, image_id):
    """The image if it exists and is active, else None."""
    try:
        image = db_images.image_get(ctx, image_id)
    except exception.ImageNotFound:
        return None
    return image if image['status'] == db_api.ACTIVE else None


def fetch(cache, stores, image):
    """Fill the cache with ``image`` from its stores; True once cached.

    False when another filler has it, or no store gave the data intact.
    """
    for location, store in stores.by_weight(image['locations']):
        fill = cache.start_fill(image['id'], image['size'],
                                image['os_hash_algo'], image['os_hash_value'])
        if fill is None:
            return False
        try:
            chunks = store.driver.get(location['url'])
        except (exception.StoredDataNotFound,
                exception.BackendUnavailable) as exc:
            fill.abort()
            LOG.warning('Image %s: no data from store %s: %s', image['id'],
                        store.id, exc)
            continue
        filling = cache_chunks.FillingChunks(chunks, fill)
        try:
            for _chunk in filling:
                pass
        except Exception as exc:
            LOG.warning('Image %s: pre-fetch from store %s failed: %s',
                        image['id'], store.id, exc)
            continue
        finally:
            filling.close()
        if cache.is_cached(image['id']):
            return True
    return False


def prefetch(cache, stores):
    """Fetch every queued image; returns the ids cached.

    An image that is missing or not active leaves the queue; one whose
    fetch failed stays queued for the next run.
    """
    ctx = imageapi_context.get_admin_context()
    done = []
    for image_id in cache.queued_images():
        image = _active_image(ctx, image_id)
        if image is None or not cacheable(image):
            LOG.info('Image %s is not active: taken off the cache queue',
                     image_id)
            cache.dequeue(image_id)
            continue
        if cache.is_cached(image_id) or fetch(cache, stores, image):
            cache.dequeue(image_id)
            done.append(image_id)
    return done


def sweep(cache):
    """Remove the entries of images that are gone or no longer active."""
    ctx = imageapi_context.get_admin_context()
    removed = []
    for image_id in cache.cached_ids():
        if _active_image(ctx, image_id) is None:
            cache.delete(image_id)
            removed.append(image_id)
    return removed


def forget_if_gone(cache, image_id):
    """Remove the entry of ``image_id`` if the image is gone or not active.

    A download that got 404 calls it: the image may only be invisible to
    the caller, so the database decides, not the caller's answer.
    """
    if cache.is_cached(image_id) and _active_image(
            imageapi_context.get_admin_context(), image_id) is None:
        cache.delete(image_id)


class CacheKeeper:
    """The daemon thread of one process; see the module docstring."""

    def __init__(self, conf, cache, stores):
        self.conf = conf
        self.cache = cache
        self.stores = stores
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run,
                                            name='image-cache-keeper',
                                            daemon=True)
            self._thread.start()

    def wake(self):
        """Run now (an image was queued)."""
        self._wake.set()

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_once(self, periodic=True):
        """Pre-fetch; with ``periodic``, also sweep and prune."""
        prefetch(self.cache, self.stores)
        if periodic:
            sweep(self.cache)
            self.cache.prune()

    def _run(self):
        self._guarded(self.cache.clean, self.conf.hashing_algorithm)
        interval = self.conf.image_cache_interval or None
        periodic = True
        while not self._stop.is_set():
            self._guarded(self.run_once, periodic)
            woken = self._wake.wait(interval)
            self._wake.clear()
            periodic = not woken

    @staticmethod
    def _guarded(function, *args):
        try:
            function(*args)
        except Exception:
            # The next run tries again; the thread must not die.
            LOG.exception('Image cache keeper run failed')
