"""Non-blocking frame transport between the platform's event loop and one instance.

Deliberately below asyncio's streams: a warm invocation is one ``send`` and one readiness
callback, with no tasks or stream objects in between (the Invoke API's 0.3 ms budget).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from skylet.worker import protocol

FrameHandler = Callable[[int, dict[str, Any], bytes], None]


class Channel:
    """Reads frames from ``read_fd`` into ``on_frame`` and writes frames to ``write_fd`` (two
    pipes); calls ``on_close`` once at EOF or error. Owns and closes both descriptors."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        read_fd: int,
        write_fd: int,
        on_frame: FrameHandler,
        on_close: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._on_frame = on_frame
        self._on_close = on_close
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._closed = False
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        loop.add_reader(read_fd, self._readable)

    def send(self, kind: int, meta: dict[str, Any] | None = None, body: bytes = b"") -> None:
        if self._closed:
            return
        data = protocol.encode(kind, meta, body)
        if self._outbox:
            self._outbox += data
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
            self._loop.remove_writer(self._write_fd)

    def _readable(self) -> None:
        try:
            # 64 KiB, not more: a larger read buffer is an mmap/munmap per call in the
            # allocator (18 µs against 1 µs per read, measured); bigger frames take more reads.
            chunk = os.read(self._read_fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        inbox = self._inbox
        inbox += chunk
        header = protocol.HEADER
        while len(inbox) >= header.size:
            kind, meta_len, body_len = header.unpack_from(inbox)
            end = header.size + meta_len + body_len
            if len(inbox) < end:
                return
            meta = protocol.decode_meta(bytes(inbox[header.size : header.size + meta_len]))
            body = bytes(inbox[header.size + meta_len : end])
            del inbox[:end]
            self._on_frame(kind, meta, body)
            if self._closed:
                return

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._read_fd)
        if self._outbox:
            self._loop.remove_writer(self._write_fd)
        os.close(self._read_fd)
        os.close(self._write_fd)
        self._on_close()


class OutputReader:
    """Drains an instance's stdout/stderr pipe, keeping at most ``cap`` bytes per invocation.

    The pipe is always drained, so a function that prints 100 MB never blocks on a full pipe and
    never makes the platform hold 100 MB.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, cap: int) -> None:
        self._loop = loop
        self._fd = fd
        self._cap = cap
        self.buffer = bytearray()
        self.dropped = 0
        os.set_blocking(fd, False)
        loop.add_reader(fd, self.drain)

    def drain(self) -> None:
        """Read what is in the pipe now (called on readiness and before closing a log)."""
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
            room = self._cap - len(self.buffer)
            if room > 0:
                self.buffer += chunk[:room]
            self.dropped += max(len(chunk) - max(room, 0), 0)

    def take(self) -> tuple[bytes, int]:
        """The output captured since the last ``take`` and how many bytes were dropped."""
        self.drain()
        data, dropped = bytes(self.buffer), self.dropped
        self.buffer.clear()
        self.dropped = 0
        return data, dropped

    def close(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
