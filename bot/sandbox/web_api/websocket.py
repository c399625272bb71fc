"""A small WebSocket server (RFC 6455) on loopback, standard library only, for Socket Mode.

Why not a package: the fake must be able to misbehave exactly as Slack's servers do (drop a
socket with a TCP reset, send a close frame, lose an ack on the way in), and a few frames are
all Socket Mode uses: text both ways, ping/pong, close. The server knows nothing of Slack: it
hands each accepted path to ``accept``, each text message to ``on_text`` and tells ``on_close``
when a connection ends. Frames from the client must be masked, as the RFC requires; an unmasked
or fragmented-control frame closes the connection with 1002 (protocol error).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from collections.abc import Callable

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_TEXT, _CLOSE, _PING, _PONG, _CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0
MAX_HEADER = 16 * 1024
MAX_MESSAGE = 1024 * 1024


class ProtocolError(Exception):
    """The client broke RFC 6455; the connection closes with 1002."""


class WebSocket:
    """One accepted connection: send text, close politely, or drop it like a dead link."""

    def __init__(self, sock: socket.socket, path: str, early: bytes = b"") -> None:
        self.sock, self.path = sock, path
        self.open = True
        self._send_lock = threading.Lock()
        self._unread = early  # frames that came in the same packets as the handshake

    def _exactly(self, count: int) -> bytes:
        data, self._unread = self._unread[:count], self._unread[count:]
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionResetError("connection closed")
            data += chunk
        return data

    def send_text(self, text: str) -> bool:
        """Send one text frame; False when the connection is gone."""
        return self._send(_TEXT, text.encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """A close frame, then the end of the connection (the client hears ``on_close``)."""
        self._send(_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        self._end()

    def reset(self) -> None:
        """Drop the connection with a TCP reset and no close frame, as a failing link does."""
        with self._send_lock:
            if not self.open:
                return
            self.open = False
            try:  # SO_LINGER 0 makes close() send RST, so the client's next recv fails at once;
                # SHUT_RD wakes this side's reader thread without sending anything.
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            self.sock.close()

    def _send(self, opcode: int, data: bytes) -> bool:
        length = len(data)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._send_lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(header + data)  # a server's frames are never masked
                return True
            except OSError:
                self.open = False
                return False

    def _end(self) -> None:
        with self._send_lock:
            self.open = False
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()


Accept = Callable[[str], bool]
OnOpen = Callable[[WebSocket], None]
OnText = Callable[[WebSocket, str], None]
OnClose = Callable[[WebSocket], None]


class WebSocketServer:
    """Listens on 127.0.0.1 (a free port) and runs one daemon thread per connection."""

    def __init__(self, accept: Accept, on_open: OnOpen, on_text: OnText, on_close: OnClose) -> None:
        self.accept, self.on_open, self.on_text, self.on_close = accept, on_open, on_text, on_close
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._stopped = threading.Event()
        self._connections: list[WebSocket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, name="fake-slack-ws", daemon=True).start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):  # wakes accept() on a listening socket
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for ws in connections:
            ws.reset()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()

    def _run(self, sock: socket.socket) -> None:
        ws = self._handshake(sock)
        if ws is None:
            return
        with self._lock:
            self._connections.append(ws)
        self.on_open(ws)
        try:
            self._read(ws)
        except ProtocolError as exc:
            ws.close(1002, str(exc)[:100])
        except OSError:
            pass
        finally:
            if ws.open:
                ws._end()
            with self._lock:
                self._connections.remove(ws)
            self.on_close(ws)

    def _handshake(self, sock: socket.socket) -> WebSocket | None:
        request = b""
        try:
            while b"\r\n\r\n" not in request and len(request) < MAX_HEADER:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                request += chunk
            raw_head, _, early = request.partition(b"\r\n\r\n")
            head = raw_head.decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = [*lines[0].split(" "), "", ""][:3]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:])
            }
            key = headers.get("sec-websocket-key", "")
            upgrade = headers.get("upgrade", "").lower() == "websocket"
            if method != "GET" or not upgrade or not key:
                status = "400 Bad Request"
            elif headers.get("sec-websocket-version") != "13":
                status = "426 Upgrade Required\r\nSec-WebSocket-Version: 13"
            elif not self.accept(path):
                status = "401 Unauthorized"  # a wrong or used ticket: ask apps.connections.open
            else:
                digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
                accept = base64.b64encode(digest).decode("ascii")
                sock.sendall(
                    (
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                    ).encode("ascii")
                )
                return WebSocket(sock, path, early)
            sock.sendall(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode("ascii"))
        except (OSError, UnicodeError):
            pass
        sock.close()
        return None

    def _read(self, ws: WebSocket) -> None:
        message: bytearray | None = None
        while ws.open:
            fin, opcode, data = _frame(ws)
            if opcode in (_CLOSE, _PING, _PONG):
                if not fin or len(data) > 125:
                    raise ProtocolError("fragmented or long control frame")
                if opcode == _CLOSE:
                    code = data[:2] if len(data) >= 2 else struct.pack("!H", 1000)
                    ws.close(struct.unpack("!H", code)[0])
                    return
                if opcode == _PING:
                    ws._send(_PONG, data)
                continue
            if opcode == _TEXT and message is None:
                message = bytearray(data)
            elif opcode == _CONTINUATION and message is not None:
                message += data
            else:
                raise ProtocolError(f"unexpected opcode {opcode}")
            if len(message) > MAX_MESSAGE:
                raise ProtocolError("message too big")
            if fin:
                try:
                    text = bytes(message).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ProtocolError("text frame is not UTF-8") from exc
                message = None
                self.on_text(ws, text)


def _frame(ws: WebSocket) -> tuple[bool, int, bytes]:
    first, second = ws._exactly(2)
    fin, opcode = bool(first & 0x80), first & 0x0F
    if first & 0x70:
        raise ProtocolError("reserved bits set without an extension")
    if not second & 0x80:
        raise ProtocolError("client frames must be masked")
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", ws._exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", ws._exactly(8))[0]
    if length > MAX_MESSAGE:
        raise ProtocolError("frame too big")
    mask = ws._exactly(4)
    data = ws._exactly(length)
    return fin, opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))
