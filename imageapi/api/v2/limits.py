"""Keystone unified limits of service type image, read through oslo.limit.

The controllers call ``KeystoneLimits`` when ``[DEFAULT] use_keystone_limits`` is on: at
create (image_count_total), at upload start (image_size_total with the declared size,
image_count_uploading), at stage and import (image_stage_total, image_count_uploading)
and for GET /v2/info/usage. Usage comes from the database, in MiB
for sizes as Glance counts (glance/quota/keystone.py). The upload also streams against
``size_limit_bytes``, fetched once, so it cannot end over image_size_total.
"""

import importlib

from oslo_log import log as logging
from oslo_utils import units

from imageapi.common import exception
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import uploads as db_uploads

LOG = logging.getLogger(__name__)

IMAGE_SIZE_TOTAL = 'image_size_total'
IMAGE_STAGE_TOTAL = 'image_stage_total'
IMAGE_COUNT_TOTAL = 'image_count_total'
IMAGE_COUNT_UPLOADING = 'image_count_uploading'
RESOURCES = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, IMAGE_COUNT_TOTAL,
             IMAGE_COUNT_UPLOADING)


def _oslo_limit():
    """(oslo_limit.limit, oslo_limit.exception), imported on first use.

    NOTE: oslo_limit.limit imports openstacksdk: 0.4 s and about 20 MB per
    worker that deployments without keystone limits should not pay.
    """
    return (importlib.import_module('oslo_limit.limit'),
            importlib.import_module('oslo_limit.exception'))


def _mib(nbytes):
    return nbytes // units.Mi


class KeystoneLimits:
    """Enforce and report the unified limits of one app; inert when off."""

    def __init__(self, conf):
        # The start-up step (imageapi/service.py) parsed the global cfg.CONF
        # that oslo.limit reads.
        self.enabled = conf.use_keystone_limits

    @staticmethod
    def _usage(context, project_id):
        return {
            IMAGE_SIZE_TOTAL: lambda: _mib(
                db_uploads.storage_used(context, project_id)),
            IMAGE_STAGE_TOTAL: lambda: _mib(
                db_imports.staged_bytes(context, project_id)),
            IMAGE_COUNT_TOTAL: lambda: db_images.image_count(context,
                                                             project_id),
            IMAGE_COUNT_UPLOADING: lambda: db_images.image_count(
                context, project_id, statuses=db_images.UPLOADING_STATUSES),
        }

    def _enforcer(self, context, project_id):
        usage = self._usage(context, project_id)

        def callback(project, resource_names):
            return {name: usage[name]() for name in resource_names}
        limit, limit_exc = _oslo_limit()
        try:
            return limit.Enforcer(callback)
        except limit_exc.SessionInitError:
            # A 500: the server is misconfigured, not the client wrong.
            LOG.exception('oslo.limit cannot reach keystone; check '
                          '[oslo_limit]')
            raise

    def enforce(self, context, project_id, deltas):
        """413 if ``deltas`` (resource name -> amount) pass a limit.

        :raises LimitExceeded: with oslo.limit's text, as Glance sends it.
        """
        if not self.enabled:
            return
        enforcer = self._enforcer(context, project_id)
        _limit, limit_exc = _oslo_limit()
        try:
            enforcer.enforce(project_id, deltas)
        except limit_exc.ProjectOverLimit as exc:
            raise exception.LimitExceeded(reason=str(exc))

    def enforce_image_count_total(self, context, project_id):
        self.enforce(context, project_id, {IMAGE_COUNT_TOTAL: 1})

    def enforce_image_size_total(self, context, project_id, size):
        """Pre-check an upload of ``size`` bytes (None: unknown, delta 0)."""
        self.enforce(context, project_id,
                     {IMAGE_SIZE_TOTAL: _mib(size or 0)})

    def enforce_image_stage_total(self, context, project_id, size):
        """Pre-check a stage of ``size`` bytes (None: unknown, delta 0)."""
        self.enforce(context, project_id,
                     {IMAGE_STAGE_TOTAL: _mib(size or 0)})

    def enforce_image_count_uploading(self, context, project_id):
        """The image being uploaded counts already: delta 0, as in Glance."""
        self.enforce(context, project_id, {IMAGE_COUNT_UPLOADING: 0})

    def size_limit_bytes(self, context, project_id):
        """image_size_total of ``project_id`` in bytes, None when off."""
        if not self.enabled:
            return None
        limits = dict(self._enforcer(context, project_id).get_project_limits(
            project_id, [IMAGE_SIZE_TOTAL]))
        return limits[IMAGE_SIZE_TOTAL] * units.Mi

    def usage(self, context, project_id):
        """{resource: {'limit': L, 'usage': U}}; empty when off, as Glance."""
        if not self.enabled:
            return {}
        usages = self._enforcer(context, project_id).calculate_usage(
            project_id, list(RESOURCES))
        return {name: {'limit': value.limit, 'usage': value.usage}
                for name, value in usages.items()}
