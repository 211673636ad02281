"""The chunk iterators of a download that passes through the node's image cache.

FillingChunks writes a download from the store into a cache fill as it passes;
FollowingChunks serves a download from the file another download is filling. The
download controller (api/v2/image_data.py) and the keeper (cache/keeper.py) use them.
"""

import os
import time

from oslo_log import log as logging

from imageapi.cache import directory

LOG = logging.getLogger(__name__)

# A follower waits this long for its filler to write more before it reads
# the rest from the store itself; it looks again every poll interval.
FOLLOW_IDLE_SECONDS = 10.0
FOLLOW_POLL_SECONDS = 0.01


class FillingChunks:
    """Chunks of a whole-image download, written to a Fill as they pass.

    The download streams to the client and into the cache in the same
    pass. The fill is committed as soon as it holds the image's size, before
    the last chunk is handed to the server: a client that has every byte
    finds the entry made. It is discarded when the iterator is closed early
    (the client went away, the store failed).
    """

    def __init__(self, chunks, fill):
        self._chunks = chunks
        self._iter = iter(chunks)
        self._fill = fill

    def __iter__(self):
        return self

    def __next__(self):
        try:
            chunk = next(self._iter)
        except StopIteration:
            self._fill.commit()
            raise
        except BaseException:
            self._fill.abort()
            raise
        try:
            self._fill.write(chunk)
            if self._fill.complete:
                self._fill.commit()
        except OSError as exc:
            LOG.warning('Image %s not cached: %s', self._fill.image_id, exc)
            self._fill.abort()
        return chunk

    def close(self):
        self._fill.abort()  # a no-op once committed
        close = getattr(self._chunks, 'close', None)
        if close is not None:
            close()


class FollowingChunks:
    """An image read from the file another download of this node is filling.

    So concurrent downloads of an uncached image fetch it from the store
    once: the follower reads what the filler has written and waits for
    more. When the filler stops short (its client went away, the store
    failed, the data did not match) or writes nothing for
    FOLLOW_IDLE_SECONDS, ``rest(offset, length)`` gives the remaining
    bytes from the store.
    """

    def __init__(self, fileobj, size, chunk_size, rest):
        self._file = fileobj
        self._size = size
        self._chunk_size = chunk_size
        self._rest = rest
        self._source = None
        self._rest_chunks = None
        self._offset = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._source is not None:
            return next(self._source)
        if self._file is None or self._offset >= self._size:
            self.close()
            raise StopIteration
        deadline = time.monotonic() + FOLLOW_IDLE_SECONDS
        while True:
            chunk = self._read()
            if chunk:
                return chunk
            if not directory.locked(self._file):
                # Done: what it wrote before it let go, else the store.
                chunk = self._read()
                if chunk:
                    return chunk
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(FOLLOW_POLL_SECONDS)
        self._file.close()
        self._file = None
        self._rest_chunks = self._rest(self._offset,
                                       self._size - self._offset)
        self._source = iter(self._rest_chunks)
        return next(self._source)

    def _read(self):
        want = min(self._chunk_size, self._size - self._offset)
        chunk = os.pread(self._file.fileno(), want, self._offset)
        self._offset += len(chunk)
        return chunk

    def close(self):
        if self._file is not None:
            fileobj, self._file = self._file, None
            fileobj.close()
        close = getattr(self._rest_chunks, 'close', None)
        if close is not None:
            close()
