"""The fake Discord gateway: the websocket a bot connects to for its events.

Speaks gateway v10 with JSON encoding, plain or with `zlib-stream` transport compression (one
zlib stream per connection, each frame ending in a sync flush), which is what discord.py asks for
by default. HELLO, then IDENTIFY gets READY and a GUILD_CREATE per guild; heartbeats get ACKs;
`dispatch` sends an event in the newest session; `stop` and `start` take the gateway away
(connections closed, new ones refused) and bring it back; `reconnect` sends op 7 RECONNECT,
and a RESUME with a known session id replays what the session missed, then RESUMED (an
unknown one gets INVALID_SESSION). Not spoken: zstd-stream, ETF encoding, sharding, presence
and member requests (recorded, never answered).
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)
HEARTBEAT_INTERVAL_MS = 41_250


@dataclass
class Connection:
    """One websocket from a client; `compress` is the transport compression it asked for."""

    ws: web.WebSocketResponse
    compress: str | None
    session: Session | None = None
    compressed: int = 0  # frames sent through the zlib stream
    _stream: Any = None

    def __post_init__(self) -> None:
        if self.compress == "zlib-stream":
            self._stream = zlib.compressobj()

    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        text = json.dumps(frame)
        if self._stream is None:
            await self.ws.send_str(text)
            return
        data = self._stream.compress(text.encode()) + self._stream.flush(zlib.Z_SYNC_FLUSH)
        await self.ws.send_bytes(data)
        self.compressed += 1


@dataclass
class Session:
    """A gateway session: what IDENTIFY said, and every event sent in it (for RESUME)."""

    session_id: str
    identify: dict[str, Any]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None
    resumed: int = 0

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.sent.append(frame)
        if self.connection is not None:
            await self.connection.send(frame)


class Gateway:
    """The websocket endpoint and its sessions; the fake server owns one."""

    def __init__(
        self,
        token: str,
        ready: Callable[[Session], dict[str, Any]],
        guilds: Callable[[], list[dict[str, Any]]],
        changed: asyncio.Condition,
    ) -> None:
        self.token = token
        self.url = ""  # set by the server once it has a port
        self.sessions: list[Session] = []
        self.connections: list[Connection] = []
        self.received: list[dict[str, Any]] = []  # every frame a client sent
        self.close_codes: list[int | None] = []  # how each connection ended, in order
        self._ready = ready
        self._guilds = guilds
        self._changed = changed
        self.down = False  # `stop()`: connections are closed and new ones refused

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="The fake gateway is stopped.")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if request.query.get("v") != "10" or request.query.get("encoding", "json") != "json":
            await ws.close(code=4012, message=b"Invalid API version or encoding.")
            return ws
        if compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"The fake gateway speaks zlib-stream only.")
            return ws
        connection = Connection(ws, compress)
        self.connections.append(connection)
        try:
            await connection.send({"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._received(connection, json.loads(message.data))
        finally:
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            await self._notify(lambda: self.close_codes.append(ws.close_code))
        return ws

    async def _received(self, connection: Connection, frame: dict[str, Any]) -> None:
        await self._notify(lambda: self.received.append(frame))
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await connection.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(connection, data or {})
        elif op == RESUME:
            await self._resume(connection, data or {})

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        session = Session(uuid.uuid4().hex, data, connection=connection)
        connection.session = session
        await session.dispatch("READY", self._ready(session))
        for guild in self._guilds():
            await session.dispatch("GUILD_CREATE", guild)
        await self._notify(lambda: self.sessions.append(session))

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        known = [s for s in self.sessions if s.session_id == data.get("session_id")]
        if not known or data.get("token") != self.token:
            await connection.send({"op": INVALID_SESSION, "d": False})
            return
        session = known[0]
        session.connection = connection
        connection.session = session
        for frame in session.sent:
            if frame["s"] > (data.get("seq") or 0):
                await connection.send(frame)
        session.resumed += 1
        await session.dispatch("RESUMED", {})
        await self._notify(lambda: None)

    async def _notify(self, change: Callable[[], None]) -> None:
        async with self._changed:
            change()
            self._changed.notify_all()

    # -- control -------------------------------------------------------------------------

    def current(self) -> Session | None:
        """The newest session that has a live connection."""
        live = [s for s in self.sessions if s.connection is not None]
        return live[-1] if live else None

    async def dispatch(self, event: str, data: dict[str, Any], *, within: float = 20.0) -> int:
        """Send `event` in the newest live session (waiting for one); returns its sequence."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.current() is not None)
        session = self.current()
        assert session is not None
        await session.dispatch(event, data)
        return session.seq

    async def reconnect(self) -> None:
        """Ask the connected client to reconnect (op 7); it should RESUME its session."""
        session = self.current()
        if session is None or session.connection is None:
            raise RuntimeError("no client is connected to the fake gateway")
        await session.connection.send({"op": RECONNECT, "d": None})

    async def stop(self) -> None:
        """Go away (close code 1001) and refuse new connections until `start()`, as a gateway
        outage: the sessions stay, so a client can RESUME afterwards."""
        self.down = True
        await self.close()

    def start(self) -> None:
        self.down = False

    async def close(self) -> None:
        for connection in self.connections:
            if not connection.ws.closed:
                await connection.ws.close(code=1001, message=b"Going away")
