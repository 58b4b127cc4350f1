"""Non-blocking frame transport between the platform's event loop and one instance.

Deliberately below asyncio's streams: a warm invocation is one ``send`` and one readiness
callback, with no tasks or stream objects in between (the Invoke API's 0.3 ms budget).
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from skylet.wire import frames

FrameHandler = Callable[[int, dict[str, Any], bytes], None]
#: Why a channel stopped reading: a frame announced more than its limits, or was not a frame.
Refusal = Literal["too_large", "malformed"]


class Channel:
    """Reads frames from ``read_fd`` into ``on_frame`` and writes frames to ``write_fd`` (two
    pipes); calls ``on_close`` once at EOF or error. Owns and closes both descriptors.

    What is read is bounded: a frame whose header announces a body over ``max_body`` or a
    whole over ``max_frame`` bytes is refused before any more of it is buffered, as is a
    frame whose meta is not JSON; the channel then stops reading, drops what it holds, and
    calls ``on_refused`` once (the owner kills the writer and closes the channel)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        read_fd: int,
        write_fd: int,
        on_frame: FrameHandler,
        on_close: Callable[[], None],
        *,
        max_body: int,
        max_frame: int,
        on_refused: Callable[[Refusal], None],
    ) -> None:
        self._loop = loop
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._on_frame = on_frame
        self._on_close = on_close
        self._max_body = max_body
        self._max_frame = max_frame
        self._on_refused = on_refused
        self._reading = True
        self._inbox = bytearray()
        self._wanted = 0  # the size of the frame the inbox holds the start of
        self._outbox = bytearray()
        self._writing = False  # waiting for room in the pipe
        self._flush_soon = False
        self._closed = False
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        loop.add_reader(read_fd, self._readable)

    def send(
        self,
        kind: int,
        meta: dict[str, Any] | None = None,
        body: bytes = b"",
        *,
        soon: bool = False,
    ) -> None:
        """Write a frame now, or (``soon``) together with the others sent during this turn of
        the loop: one write instead of several, for frames the instance will not read at once
        anyway (invocations written behind a running one)."""
        if self._closed:
            return
        data = frames.encode(kind, meta, body)
        if self._outbox or soon:
            self._outbox += data
            if self._writing:
                return  # the writer callback sends it when the pipe has room
            if not soon:
                self._flush()
            elif not self._flush_soon:
                self._flush_soon = True
                self._loop.call_soon(self._flush)
            return
        try:
            sent = os.write(self._write_fd, data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self._outbox += data[sent:]
            self._wait_for_room()

    def _flush(self) -> None:
        self._flush_soon = False
        if self._closed or self._writing or not self._outbox:
            return
        try:
            sent = os.write(self._write_fd, self._outbox)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close()
            return
        del self._outbox[:sent]
        if self._outbox:
            self._wait_for_room()

    def _wait_for_room(self) -> None:
        self._writing = True
        self._loop.add_writer(self._write_fd, self._writable)

    def _writable(self) -> None:
        try:
            sent = os.write(self._write_fd, self._outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self._outbox[:sent]
        if not self._outbox:
            self._writing = False
            self._loop.remove_writer(self._write_fd)

    def _readable(self) -> None:
        self._read(self._on_frame)

    def drain(self, on_frame: FrameHandler | None = None) -> None:
        """Read and hand over every frame the instance has written so far (to ``on_frame``
        instead of the channel's handler when given)."""
        while self._reading and self._read(on_frame or self._on_frame):
            pass

    def _read(self, on_frame: FrameHandler) -> bool:
        """One read and the frames it completes; False when there was nothing to read."""
        if not self._reading:
            return False
        try:
            # 64 KiB, not more: a larger read buffer is an mmap/munmap per call in the
            # allocator (18 µs against 1 µs per read, measured); bigger frames take more reads.
            chunk = os.read(self._read_fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return False
        if self._inbox:  # the rest of a frame that did not fit in the last read
            self._inbox += chunk
            if len(self._inbox) < self._wanted:
                return True
            chunk = bytes(self._inbox)
            self._inbox.clear()
        rest = self._frames(chunk, on_frame)
        if not self._reading:
            return False
        if rest:
            header = frames.HEADER
            if len(rest) < header.size:
                self._wanted = header.size
            else:
                _, meta_len, body_len = header.unpack_from(rest)
                if body_len > self._max_body or meta_len + body_len > self._max_frame:
                    self._refuse("too_large")
                    return False
                self._wanted = header.size + meta_len + body_len
            self._inbox += rest
        return True

    def _refuse(self, reason: Refusal) -> None:
        """Stop reading for good and drop what is held; the owner decides what follows."""
        self._reading = False
        self._inbox = bytearray()
        if not self._closed:
            self._loop.remove_reader(self._read_fd)
        self._on_refused(reason)

    def _frames(self, data: bytes, on_frame: FrameHandler) -> bytes:
        """Hand over the whole frames at the start of ``data``; returns the rest."""
        header = frames.HEADER
        start = 0
        while len(data) - start >= header.size:
            kind, meta_len, body_len = header.unpack_from(data, start)
            meta_at = start + header.size
            body_at = meta_at + meta_len
            end = body_at + body_len
            if len(data) < end:
                break
            try:
                meta = frames.decode_meta(data[meta_at:body_at])
            except ValueError:  # not JSON, or not an object: nothing after it can be trusted
                self._refuse("malformed")
                return b""
            on_frame(kind, meta, data[body_at:end])
            start = end
            if not self._reading:
                return b""
        return data[start:] if start else data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._read_fd)
        if self._writing:
            self._loop.remove_writer(self._write_fd)
        # Whatever was held goes now, not when the last reference to the channel does.
        self._inbox = bytearray()
        self._outbox = bytearray()
        os.close(self._read_fd)
        os.close(self._write_fd)
        self._on_close()


class OutputReader:
    """Drains an instance's stdout/stderr pipe, keeping at most ``cap`` bytes per invocation.

    The pipe is always drained, so a function that prints 100 MB never blocks on a full pipe and
    never makes the platform hold 100 MB. An instance that printed during an invocation writes
    ``marker`` after that output (RESULT says so), which splits the stream per invocation even
    when the instance has already started the next one by the time RESULT is read.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, cap: int, marker: bytes) -> None:
        self._loop = loop
        self._fd = fd
        self._cap = cap
        self._marker = marker
        self._done: deque[tuple[bytes, int]] = deque()  # output up to each marker, dropped
        self._current = bytearray()
        self._dropped = 0
        self._tail = b""  # the last bytes read, held back: they may begin a marker
        os.set_blocking(fd, False)
        loop.add_reader(fd, self.drain)

    def drain(self) -> None:
        """Read what is in the pipe now (called on readiness and before taking output)."""
        while self._fd >= 0:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                return
            self._feed(chunk)

    def _feed(self, chunk: bytes) -> None:
        marker = self._marker
        data = self._tail + chunk if self._tail else chunk
        start = 0
        while (found := data.find(marker, start)) >= 0:
            self._keep(data[start:found])
            self._done.append((bytes(self._current), self._dropped))
            self._current.clear()
            self._dropped = 0
            start = found + len(marker)
        held = len(marker) - 1
        if len(data) - start > held:
            self._keep(data[start : len(data) - held])
            start = len(data) - held
        self._tail = data[start:]

    def _keep(self, data: bytes) -> None:
        room = self._cap - len(self._current)
        if room > 0:
            self._current += data[:room]
        self._dropped += max(len(data) - max(room, 0), 0)

    def take(self, *, marked: bool, last: bool) -> tuple[bytes, int]:
        """One invocation's output and how many bytes of it were dropped: up to its marker when
        it wrote one (``marked``); otherwise what has been read so far if no invocation follows
        it on this instance (``last``: output written straight to the file descriptors, by a
        child process say, carries no marker), or nothing. Only a marked invocation's output is
        read here, at once: the rest arrives through the loop's reader (no read per result)."""
        if marked:
            self.drain()
        if marked and self._done:
            return self._done.popleft()
        if not last:
            return b"", 0
        self._keep(self._tail)
        self._tail = b""
        parts = [text for text, _ in self._done] + [bytes(self._current)]
        dropped = sum(lost for _, lost in self._done) + self._dropped
        self._done.clear()
        self._current.clear()
        self._dropped = 0
        return b"".join(parts), dropped

    def close(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
