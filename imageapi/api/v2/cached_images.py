"""CacheController: Glance's cache management API, /v2/cache, over this node's cache.

Codes, bodies and policy names are Glance 33's (glance/api/v2/cached_images.py): admin
only by default; with ``[DEFAULT] image_cache_dir`` unset every call answers 404 after
its policy check. Each call acts on the cache of the node that answers it.
"""

from imageapi.api.v2 import images
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images

_CLEAR_TARGET = 'x-image-cache-clear-target'


class CacheController:

    def __init__(self, conf, enforcer, cache, keeper):
        self.conf = conf
        self.enforcer = enforcer
        self.cache = cache
        self.keeper = keeper

    def _enforce(self, ctx, action, target=None):
        """403 by policy, then 404 when this node has no cache (Glance's order)."""
        self.enforcer.authorize(
            ctx, action, {} if target is None else target)
        if self.cache is None:
            raise exception.NotFound(
                message='Caching via API is not supported at this site.')

    def _image_target(self, ctx, image_id):
        image = db_images.image_get(ctx, image_id)
        return image, images.image_target(ctx, image)

    def index(self, req, ctx):
        """GET /v2/cache: the cached and the queued images of this node."""
        self._enforce(ctx, 'cache_list')
        return wsgi.json_response({
            'cached_images': self.cache.cached_images(),
            'queued_images': self.cache.queued_images()})

    def queue(self, req, ctx, image_id):
        """PUT /v2/cache/{image_id}: queue for pre-fetch (202)."""
        image, target = self._image_target(ctx, image_id)
        self._enforce(ctx, 'cache_image', target)
        if image['status'] != db_api.ACTIVE:
            raise exception.BadRequest(
                message='Only images with status active can be targeted '
                        'for queueing')
        if self.cache.queue(image_id) and self.keeper is not None:
            self.keeper.wake()
        return wsgi.empty_response(status=202)

    def delete(self, req, ctx, image_id):
        """DELETE /v2/cache/{image_id}: off the cache and the queue (204)."""
        try:
            target = self._image_target(ctx, image_id)[1]
        except exception.ImageNotFound:
            # Glance: a deleted image may still be cleared from the cache.
            if self.cache is None or not (
                    self.cache.is_cached(image_id)
                    or image_id in self.cache.queued_images()):
                raise
            target = None
        self._enforce(ctx, 'cache_delete', target)
        self.cache.delete(image_id)
        self.cache.dequeue(image_id)
        return wsgi.empty_response()

    def clear(self, req, ctx):
        """DELETE /v2/cache: the cache, the queue or both (204)."""
        self._enforce(ctx, 'cache_delete')
        target = req.headers.get(_CLEAR_TARGET, '').strip().lower()
        if target not in ('', 'cache', 'queue'):
            raise exception.BadRequest(
                message="If provided 'x-image-cache-clear-target' must be "
                        "'cache', 'queue' or empty string.")
        if target in ('', 'cache'):
            self.cache.delete_all()
        if target in ('', 'queue'):
            self.cache.dequeue_all()
        return wsgi.empty_response()

    def clean(self, req, ctx):
        """POST /v2/cache/clean: remove stalled and invalid files (200)."""
        self._enforce(ctx, 'cache_clean')
        self.cache.clean(self.conf.hashing_algorithm)
        return wsgi.empty_response(status=200)

    def prune(self, req, ctx):
        """POST /v2/cache/prune: prune to image_cache_max_size (200)."""
        self._enforce(ctx, 'cache_prune')
        files, size = self.cache.prune()
        return wsgi.json_response({'total_files_pruned': files,
                                   'total_bytes_pruned': size})
