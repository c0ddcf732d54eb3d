"""The gunicorn worker coopclf serves with: gthread, a read deadline per request, errors as problem+json.

The worker's main loop reads each request's line and headers as they arrive, and only a complete
head is handed to a thread: a client that sends its request slowly, or nothing at all, holds
neither a worker (as with sync workers) nor a thread, and is cut off once COOPCLF_READ_TIMEOUT has
passed (with a 408 if it had sent part of a request). A thread then reads the body within what is
left of that time. The requests gunicorn cannot parse itself (a request line or headers too long,
a malformed request line, header or chunked encoding) get a problem document like every other
error, instead of gunicorn's HTML page.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time
import uuid
from functools import partial
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http.errors import (
    ConfigurationProblem, ExpectationFailed, InvalidResponseHeader, InvalidResponseHeaderName,
    LimitRequestHeaders, LimitRequestLine, ParseException, UnsupportedTransferCoding,
)
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from coopclf.service.http.problems import typed_document
from coopclf.service.http.settings import Settings

MAX_DETAIL_CHARS = 300  # gunicorn's messages quote what it could not parse, which may be 8 KB of junk
HEAD_CHUNK = 8192
# A head this long goes to a thread even if incomplete; gunicorn's parser then applies its limits.
HEAD_BYTES = 64 * 1024
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class RequestReadTimeout(ParseException):
    """The client did not send its request line, headers and body within the read timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"the request did not arrive within {self.seconds:g} seconds (COOPCLF_READ_TIMEOUT)"


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader, with one deadline for all the reads of a request."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        super().__init__(sock)
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def restart(self) -> None:
        """Give the next request on this connection its own deadline."""
        self.deadline = time.monotonic() + self.seconds

    def chunk(self, size_hint: int | None = None) -> bytes:
        """One read, waiting no later than the deadline; RequestReadTimeout after it."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestReadTimeout(self.seconds)
        self.sock.settimeout(remaining)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            raise RequestReadTimeout(self.seconds) from None
        finally:
            self.sock.settimeout(None)  # blocking again, as gthread writes the response


# The first matching class decides the answer (InvalidResponseHeader is also an InvalidHeader).
_ANSWERS: tuple[tuple[type[BaseException], int, str], ...] = (
    (InvalidResponseHeader, 500, "internal-error"),  # the application's fault, not the client's
    (InvalidResponseHeaderName, 500, "internal-error"),
    (ConfigurationProblem, 500, "internal-error"),
    (LimitRequestLine, 414, "request-line-too-long"),
    (LimitRequestHeaders, 431, "headers-too-large"),
    (UnsupportedTransferCoding, 501, "unsupported-transfer-coding"),
    (ExpectationFailed, 417, "expectation-failed"),
    (RequestReadTimeout, 408, "request-timeout"),
    (ParseException, 400, "malformed-request"),
)


class _Conn(TConn):
    """gthread's connection, reading its requests through a DeadlineUnreader, and closed only once."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any, read_timeout: float) -> None:
        super().__init__(cfg, sock, client, server)
        self.read_timeout = read_timeout
        self.closed = False
        self.head = b""  # what the main loop has read of the first request
        self.reader: DeadlineUnreader | None = None

    def close(self, graceful: bool = False) -> None:
        """Close the socket, the first time only (the worker thread closes it before gthread's main loop)."""
        if not self.closed:
            self.closed = True
            super().close(graceful)

    def init(self) -> None:
        """Set the connection up as gthread does (once data has arrived), then time its reads."""
        fresh = not self.initialized
        super().init()
        reader = getattr(self.parser, "unreader", None)
        if fresh and type(reader) is SocketUnreader:  # HTTP/1; not an HTTP/2 connection
            timed = self.reader or DeadlineUnreader(reader.sock, self.read_timeout)
            timed.sock = reader.sock
            timed.unread(self.head + reader.buf.getvalue())  # the head the main loop read comes first
            self.head = b""
            self.parser.unreader = timed


class CoopclfWorker(ThreadWorker):
    """gunicorn's gthread worker with read deadlines and problem+json answers to unparseable requests."""

    def init_process(self) -> None:
        """Read COOPCLF_READ_TIMEOUT (gunicorn.conf.py has validated the settings) and start."""
        self.read_timeout = Settings.from_env().read_timeout
        self.heads: dict[_Conn, None] = {}  # connections whose request head is arriving, oldest first
        super().init_process()

    def accept(self, listener: Any) -> None:
        """Accept a connection and wait, in the main loop, for its request head."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname(), self.read_timeout)
        conn.reader = DeadlineUnreader(client_sock, self.read_timeout)  # the deadline starts now
        self.heads[conn] = None
        self.poller.register(client_sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: _Conn, _sock: Any) -> None:
        """Take what has arrived of `conn`'s request head; a complete one goes to a thread."""
        try:
            data = conn.sock.recv(HEAD_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.head += data
        if data and not any(end in conn.head for end in HEAD_ENDS) and len(conn.head) < HEAD_BYTES:
            return
        self.poller.unregister(conn.sock)
        del self.heads[conn]
        if not data:  # the client left before its head was complete
            self.nr_conns -= 1
            conn.close()
            return
        conn.data_ready = True  # gthread's handle() need not wait for data
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        """gthread's expiry of waiting connections, and of heads that took over COOPCLF_READ_TIMEOUT."""
        super().murder_pending()
        now = time.monotonic()
        while self.heads:
            conn = next(iter(self.heads))
            if conn.reader is None or conn.reader.deadline > now:
                break
            del self.heads[conn]
            self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            if conn.head:  # part of a request came: say why it is refused (an idle client is just closed)
                self.handle_error(None, conn.sock, conn.client, RequestReadTimeout(self.read_timeout))
            conn.close()

    def handle(self, conn: Any) -> Any:
        """Serve one request of `conn`; a kept-alive connection's next request gets a fresh deadline."""
        reader = getattr(conn.parser, "unreader", None)
        if isinstance(reader, DeadlineUnreader):  # not on a new connection: its deadline began at accept
            reader.restart()
        keep = super().handle(conn)
        if keep is False:
            # A graceful close waits up to 2 s for the client to close its side. gthread does it in
            # its main loop, which meanwhile accepts nobody: 16 slow clients cut off at once stopped
            # a worker for 16 s. Here it only holds this thread.
            conn.close(graceful=True)
        return keep

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """Answer an error gunicorn met outside the app with a problem document, then close."""
        status, slug = next(((status, slug) for kind, status, slug in _ANSWERS if isinstance(exc, kind)),
                            (500, "internal-error"))
        request_id = uuid.uuid4().hex
        if status >= 500 and slug == "internal-error":
            self.log.exception("Error handling request %s (request id %s)", getattr(req, "uri", ""), request_id)
            detail = f"the service failed to handle this request; quote request id {request_id} when reporting it"
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
            detail = str(exc)[:MAX_DETAIL_CHARS]
            if status == 414:
                detail = f"the request line is over {self.cfg.limit_request_line} bytes ({detail})"
            elif status == 431:
                detail = (f"a request may have {self.cfg.limit_request_fields} headers of at most "
                          f"{self.cfg.limit_request_field_size} bytes each ({detail})")
        body, media_type = typed_document(status, slug, detail, getattr(req, "path", None) or "", request_id)
        payload = json.dumps(body).encode()
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nConnection: close\r\n"
                f"Content-Type: {media_type}\r\nContent-Length: {len(payload)}\r\n"
                f"X-Request-ID: {request_id}\r\n\r\n")
        try:
            util.write_nonblock(client, head.encode("latin-1") + payload)
        except Exception:  # the client is gone; there is no one to tell
            self.log.debug("Failed to send error message.")
