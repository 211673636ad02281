"""The imageapi exception tree: every error a client can see, with its HTTP status.

Controllers, the repository and store drivers raise these; api/middleware/fault.py is the
only place that turns them into responses. Standard library only.
"""

import logging

LOG = logging.getLogger(__name__)

# Tests set this to True so that a msg_fmt/kwargs mismatch fails loudly.
FATAL_FORMAT_ERRORS = False


class ImageAPIException(Exception):
    """Base class: formats ``msg_fmt % kwargs`` and carries an HTTP ``code``."""

    msg_fmt = 'An unknown exception occurred.'
    code = 500
    headers = None

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                if FATAL_FORMAT_ERRORS:
                    raise
                LOG.exception('Exception message format failed for %s '
                              'with %r', type(self).__name__, kwargs)
                message = self.msg_fmt
        self.msg = message
        super().__init__(message)


class BadRequest(ImageAPIException):
    msg_fmt = 'Bad request: %(reason)s'
    code = 400


class InvalidParameterValue(BadRequest):
    msg_fmt = "Invalid value '%(value)s' for parameter '%(param)s': %(reason)s"


class InvalidSortKey(BadRequest):
    msg_fmt = 'Sort key supplied is invalid: %(key)s'


class InvalidSortDir(BadRequest):
    msg_fmt = 'Sort direction supplied is invalid: %(direction)s'


class InvalidFilterOperator(BadRequest):
    msg_fmt = 'Unable to filter using the specified operator.'


class SchemaValidationError(BadRequest):
    msg_fmt = '%(reason)s'


class MissingFormats(BadRequest):
    msg_fmt = '%(reason)s'


class SizeMismatch(BadRequest):
    msg_fmt = 'Size mismatch: expected %(expected)d bytes, got %(actual)d bytes'


class ChecksumMismatch(BadRequest):
    msg_fmt = 'Checksum mismatch: expected %(expected)s, got %(actual)s'


class InvalidImageSize(BadRequest):
    msg_fmt = 'Invalid or missing image size in request headers.'


class ClientDisconnected(BadRequest):
    msg_fmt = ('The client disconnected or sent a malformed body: '
               '%(reason)s')


class InvalidStore(BadRequest):
    """X-Image-Meta-Store names no enabled store; Glance's text."""

    msg_fmt = "Unknown scheme '%(store_id)s' found in URI"


class InvalidImportMethod(BadRequest):
    msg_fmt = "Unknown import method name '%(method)s'."


class InvalidRange(BadRequest):
    msg_fmt = '%(reason)s'


class RequestTimeout(ImageAPIException):
    """The client stopped sending the body ([upload] body_idle_timeout)."""

    msg_fmt = ('The request body stalled: no data arrived for %(seconds)s '
               'seconds.')
    code = 408


class InvalidURL(BadRequest):
    msg_fmt = 'The request %(part)s is not valid UTF-8.'


class InvalidCharacter(BadRequest):
    """A NUL or an unpaired surrogate: no database stores both the same way."""

    msg_fmt = '%(where)s contains %(what)s, which is not allowed.'


class JSONTooDeep(BadRequest):
    msg_fmt = 'The JSON body is nested more than %(limit)d levels deep.'


class PropertyValueTooLong(BadRequest):
    msg_fmt = ("The value of property '%(name)s' is longer than %(limit)d "
               "bytes in UTF-8.")


class URLDenied(BadRequest):
    """A URL fetched on a user's behalf fails [import_filtering_opts]."""

    msg_fmt = 'URI %(url)s does not pass filtering: %(reason)s'


class NotAuthenticated(ImageAPIException):
    msg_fmt = 'Authentication required'
    code = 401


class Forbidden(ImageAPIException):
    msg_fmt = 'You are not authorized to complete %(action)s action.'
    code = 403


class ReadOnlyAttribute(Forbidden):
    msg_fmt = "Attribute '%(attribute)s' is read-only."


class ReservedAttribute(Forbidden):
    msg_fmt = "Attribute '%(attribute)s' is reserved."


class ProtectedImageDelete(Forbidden):
    msg_fmt = 'Image %(image_id)s is protected and cannot be deleted.'


class ProtectedMetadefDelete(Forbidden):
    msg_fmt = ('Metadata definition %(kind)s %(name)s is protected and '
               'cannot be deleted.')


class NotFound(ImageAPIException):
    msg_fmt = 'Resource could not be found.'
    code = 404


class MetadefNamespaceNotFound(NotFound):
    msg_fmt = 'Metadata definition namespace %(namespace)s was not found.'


class MetadefPartNotFound(NotFound):
    """An object, property or tag missing from a namespace."""

    msg_fmt = ('Metadata definition %(kind)s %(name)s was not found in '
               'namespace %(namespace)s.')


class MetadefResourceTypeNotFound(NotFound):
    msg_fmt = 'Metadata definition resource type %(name)s was not found.'


class MetadefAssociationNotFound(NotFound):
    msg_fmt = ('Resource type %(name)s is not associated with metadata '
               'definition namespace %(namespace)s.')


class ImageNotFound(NotFound):
    msg_fmt = 'No image found with ID %(image_id)s'


class MarkerNotFound(BadRequest):
    msg_fmt = 'Marker %(marker)s could not be found.'


class MultiStoreDisabled(NotFound):
    msg_fmt = 'Multi backend is not supported at this site.'


class TaskNotFound(NotFound):
    msg_fmt = 'Task with the given id %(task_id)s was not found'


class TagNotFound(NotFound):
    msg_fmt = 'Tag %(tag)s not found.'


class MemberNotFound(NotFound):
    msg_fmt = ('%(member_id)s not found in the member list of the image '
               '%(image_id)s.')


class MethodNotAllowed(ImageAPIException):
    msg_fmt = 'The method %(method)s is not allowed for this resource.'
    code = 405


class Conflict(ImageAPIException):
    msg_fmt = '%(reason)s'
    code = 409


class Duplicate(Conflict):
    msg_fmt = 'An image with identifier %(image_id)s already exists'


class DuplicateMember(Conflict):
    msg_fmt = 'Member %(member_id)s is duplicated for image %(image_id)s'


class MetadefDuplicate(Conflict):
    """A namespace, or an object, property, tag or association in one, twice."""

    msg_fmt = 'Metadata definition %(kind)s %(name)s already exists.'


class InUseByStore(Conflict):
    """The store keeps the data: others depend on it (RBD clones)."""

    msg_fmt = ('The image cannot be deleted because it is in use through '
               'the backend store: %(reason)s')


class InvalidStatusTransition(Conflict):
    msg_fmt = ('Image status transition from %(current)s to %(target)s is '
               'not allowed')


class InvalidTaskStatusTransition(Conflict):
    msg_fmt = 'Task status transition from %(current)s to %(target)s is not allowed'


class Gone(ImageAPIException):
    msg_fmt = ('Image %(image_id)s could not be found after upload. The '
               'image may have been deleted during the upload.')
    code = 410


class PayloadTooLarge(ImageAPIException):
    msg_fmt = 'Request entity too large: %(reason)s'
    code = 413


class ImageSizeLimitExceeded(PayloadTooLarge):
    msg_fmt = ('The incoming image is too large: the limit is %(limit)d '
               'bytes.')


class StorageQuotaFull(PayloadTooLarge):
    msg_fmt = ('Image exceeds the storage quota: the quota is %(quota)d '
               'bytes and %(used)d are in use.')


class StorageFull(PayloadTooLarge):
    msg_fmt = 'Image storage media is full: %(reason)s'


class LimitExceeded(PayloadTooLarge):
    msg_fmt = '%(reason)s'


class RangeNotSatisfiable(ImageAPIException):
    msg_fmt = 'Invalid start position in Range header. %(reason)s'
    code = 416


class UnsupportedMediaType(ImageAPIException):
    msg_fmt = 'Invalid content type %(content_type)s'
    code = 415


class ImageFormatMismatch(UnsupportedMediaType):
    msg_fmt = '%(reason)s'


class NotImplementedMethod(ImageAPIException):
    msg_fmt = 'The method %(method)s is not implemented.'
    code = 501


class BackendUnavailable(ImageAPIException):
    msg_fmt = 'The image store is unavailable: %(reason)s'
    code = 503


class StorageWriteDenied(BackendUnavailable):
    msg_fmt = 'Insufficient permissions on image storage media: %(reason)s'


class StorageChecksumMismatch(BackendUnavailable):
    """The store kept other bytes than were sent to it (checked by MD5)."""

    msg_fmt = 'Image storage media received corrupted data: %(reason)s'


class URLFetchFailed(ImageAPIException):
    """A remote server could not be reached or did not send the data."""

    msg_fmt = 'Fetching %(url)s failed: %(reason)s'
    code = 502


class ServiceUnavailable(ImageAPIException):
    """Try again later: 503 with ``Retry-After`` (seconds)."""

    msg_fmt = '%(reason)s'
    code = 503

    def __init__(self, message=None, retry_after=30, **kwargs):
        super().__init__(message, **kwargs)
        self.headers = {'Retry-After': str(int(retry_after))}


class DatabaseUnavailable(ServiceUnavailable):
    msg_fmt = 'The image database is unavailable; try again later.'


class UploadLeaseLost(ServiceUnavailable):
    """The upload could not renew its claim on the image in time."""

    msg_fmt = ('The upload could not keep its claim on image %(image_id)s '
               '(the image database was unreachable); the image is queued '
               'again. Retry the upload later.')


class StoredDataNotFound(ImageAPIException):
    """The store has no data at a location; the API answers 204 on download."""

    msg_fmt = 'No image data at %(location)s'
    code = 404
