"""The embedded MQTT broker (amqtt), for halls that run without Mosquitto.

It runs in its own thread and event loop inside the server process. Anonymous
clients are refused: amqtt's own anonymous plugin lets in any client that
merely sends a user name, so it is not loaded; DeviceAuthPlugin checks every
user name and password against the device registry (and the server's own
account), and DeviceTopicPlugin applies the same rules as Mosquitto's ACL file.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import MQTTError
from amqtt.mqtt.packet import CONNACK, CONNECT, PUBACK, PUBLISH
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from hallq.core.devices import registry as devices
from hallq.core.devices.credentials import verify_password
from hallq_protocol import topics

from .. import ports
from ..ports import PortTaken  # noqa: F401  (raised by check_port; the CLI catches it from here)
from . import acl
from .inbox import RateLimit

log = logging.getLogger("hallq.mqtt.broker")
SERVER_USER = "hallq-server"
REFUSED = "hallq-refused-"  # the client id a refused connection is given, so it cannot touch the session it named
# The client ids whose sessions a connecting client's CONNECT (clean session) asked to end: ended
# only once that client is admitted (see _Broker). One set per connection, in its own task.
_CLEAN_AFTER_ADMISSION: contextvars.ContextVar[set | None] = contextvars.ContextVar("clean_after_admission", default=None)


def owns_client_id(username: str | None, client_id: str | None) -> bool:
    """A device connects with its user name as client id; the server's processes with
    `hallq-server-…` ids of their own. Nobody may take another's id (and with it its session)."""
    if not username or not client_id:
        return False
    if username == SERVER_USER:
        return client_id.startswith(SERVER_USER + "-")
    return client_id == username


class Directory:
    """Who may connect and what each may touch: the server's account and the registered devices."""

    def __init__(self, db, server_password: str | None = None):
        self.db = db
        self.server_password = server_password or secrets.token_urlsafe(24)
        self._rules: dict[str, list[acl.Rule]] = {}
        self._hashes: dict[str, str] = {}  # device user name → the password hash it signed in with
        self._lock = threading.Lock()

    def authenticate(self, username: str | None, password: str | bytes | None) -> bool:
        """Check a client's credentials; remember its rules for the topic checks."""
        if not username:
            return False
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        if username == SERVER_USER:
            good = secrets.compare_digest((password or "").encode(), self.server_password.encode())
            rules = acl.SERVER_RULES
        else:
            with self.db.read() as session:  # read inside: the session expires its rows on exit
                device = devices.device_by_username(session, username)
                good = device is not None and verify_password(password or "", device.password_hash)
                if good:
                    hall = session.get(devices.Hall, device.hall_id).slug
                    rules = acl.device_rules(hall, device.name, device.role, device.window_number)
                    with self._lock:
                        self._hashes[username] = device.password_hash
        with self._lock:
            if good:
                self._rules[username] = rules
        return good

    def no_longer_valid(self, usernames: set[str]) -> set[str]:
        """Those of these device user names that were revoked or given a new password since they signed in."""
        names = {u for u in usernames if u and u != SERVER_USER}
        if not names:
            return set()
        with self.db.read() as session:
            current = devices.password_hashes(session, names)
        with self._lock:
            gone = {u for u in names if current.get(u) is None or current[u] != self._hashes.get(u)}
            for u in gone:  # refused at once from here on, even before the connection is closed
                self._rules.pop(u, None)
                self._hashes.pop(u, None)
        return gone

    def rules(self, username: str | None) -> list[acl.Rule]:
        with self._lock:
            return self._rules.get(username or "", [])


class DeviceAuthPlugin(BaseAuthPlugin):
    """Admits only the server and registered, unrevoked devices with their own password."""

    @dataclass
    class Config:
        directory: Any = None

    async def authenticate(self, *, session) -> bool:
        directory: Directory = self.config.directory
        loop = asyncio.get_running_loop()
        try:
            good = await loop.run_in_executor(None, directory.authenticate, session.username, session.password)
        except Exception:  # a database hiccup refuses the client; it retries
            log.exception("could not check the credentials of %s", session.username)
            return False
        if not good:
            log.warning("refused %r: wrong user name or password", session.username)
            return False
        if not owns_client_id(session.username, session.client_id):
            log.warning("refused %r: it connected with client id %r, which is not its own", session.username, session.client_id)
            return False
        return True


class DeviceTopicPlugin(BaseTopicPlugin):
    """Each client publishes and subscribes only where its rules allow (what a device publishes
    past its rate never gets this far: _PacketReader drops it unparsed)."""

    @dataclass
    class Config:
        directory: Any = None

    async def topic_filtering(self, *, session=None, topic=None, action=None) -> bool:
        if session is None or topic is None:
            return False
        rules = self.config.directory.rules(session.username)
        if action == Action.PUBLISH:
            allowed = acl.may_publish(rules, topic)
        elif action == Action.SUBSCRIBE:
            allowed = _may_subscribe(rules, topic)
        else:
            allowed = acl.may_receive(rules, topic)
        if not allowed and action != Action.RECEIVE:
            log.warning("refused %s of %s on %s", action, session.username, topic)
        return allowed


def _may_subscribe(rules: list[acl.Rule], topic_filter: str) -> bool:
    """A shared subscription is judged by the filter it shares, and needs a group name of its own."""
    group, real = topics.unshared(topic_filter)
    if group is not None and (not group or "+" in group or "#" in group or not real):
        return False
    return acl.may_subscribe(rules, real)


class _Subscriptions(dict):
    """amqtt's filter → [(session, qos)] map, indexed for the broadcast.

    amqtt 0.12 walks the whole map for every message, asking every filter whether it matches
    the topic: with a thousand devices (several filters each) that is thousands of checks a
    message, and it walked a copy of the map (a client subscribing or leaving while the walk
    awaited the topic plugins made it fail, "dictionary changed size during iteration", losing
    the message for every subscriber after that point). Here a message takes the subscribers of
    its own topic's filter by one look-up, and tests only the few filters with wildcards (the
    server's, and one per hall for the screens). `matching` returns a list of its own, so the
    broadcast that awaits while sending sees one consistent set of subscribers.

    Shared subscriptions (`$share/<group>/<filter>`, MQTT 5, which Mosquitto also grants to
    MQTT 3.1.1 clients) give each message to one subscriber of the group, in turn: the server's
    processes share the devices' requests this way (see topics.shared).
    """

    def __init__(self) -> None:
        super().__init__()
        self._wild: dict[str, str] = {}  # filter (as subscribed) → the filter to match: those with + or #, and shared ones
        self._turn: dict[str, int] = {}  # shared filter → how many messages it has handed out (whose turn is next)

    def __setitem__(self, key: str, value) -> None:
        super().__setitem__(key, value)
        group, real = topics.unshared(key)
        if group is not None or "+" in key or "#" in key:
            self._wild[key] = real

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._wild.pop(key, None)
        self._turn.pop(key, None)

    def clear(self) -> None:
        super().clear()
        self._wild.clear()
        self._turn.clear()

    def __iter__(self):
        return iter(list(super().keys()))  # amqtt deletes filters while walking them (a client leaving)

    def matching(self, topic: str, matches: Callable[[str, str], bool]) -> list[tuple[Any, int]]:
        """Who gets a message on `topic`: every subscriber of each filter that matches it, and one of
        each shared subscription's group (the next connected one in turn)."""
        found = list(self.get(topic, ()))
        for key, real in self._wild.items():
            if not matches(topic, real):
                continue
            subscribers = self[key]
            if key == real:
                found.extend(subscribers)
            elif subscribers:
                found.append(self._next_of(key, subscribers))
        return found

    def _next_of(self, key: str, subscribers: list) -> tuple[Any, int]:
        turn = self._turn.get(key, 0)
        self._turn[key] = turn + 1
        count = len(subscribers)
        for i in range(count):
            candidate = subscribers[(turn + i) % count]
            if candidate[0].transitions.state == "connected":
                return candidate
        return subscribers[turn % count]  # none connected: amqtt keeps it for a persistent session


class _PacketReader(StreamReaderAdapter):
    """Reads a client's stream a whole MQTT packet at a time, and drops two kinds unparsed.

    - A packet over `limit` bytes is read past in small pieces, never held, and dropped, as
      Mosquitto's message_size_limit does (the connection carries on).
    - Once the client is admitted (`sender` set), a PUBLISH from a device past its rate
      (`publish_limit`) is dropped here, before amqtt parses it, starts a task for it or asks
      the topic plugins: a flood costs the broker, which shares the server's interpreter, one
      read and a token-bucket check a message, not amqtt's whole path. A QoS 1 message is still
      acknowledged (as Mosquitto acknowledges a PUBLISH its ACL denies), so the device's client
      does not stall on unacknowledged messages; a QoS 2 one is not (devices publish at QoS 1).

    amqtt then reads each packet from memory, in the pieces it asks for.
    """

    CHUNK = 64 * 1024
    YIELD_EVERY = 16  # dropped packets read from the buffer without yielding to the loop

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int,
                 publish_limit: RateLimit | None = None):
        super().__init__(reader)
        self._stream, self._writer = reader, writer
        self.limit, self.publish_limit = limit, publish_limit
        self.sender: str | None = None  # the admitted client's user name; None until then, and for the server
        self.connect_client_id: str | None = None  # the client id its CONNECT named (read ahead by the broker)
        self._packet, self._at = b"", 0
        self.dropped = 0

    def push_back(self, packet: bytes) -> None:
        """Have the next reads return this whole packet (read ahead by the broker) first."""
        self._packet, self._at = packet, 0

    async def read(self, n: int = -1) -> bytes:
        if self._at >= len(self._packet):
            self._packet, self._at = await self._next_packet(), 0
            if not self._packet:
                return b""  # end of stream
        end = len(self._packet) if n < 0 else self._at + n
        if end > len(self._packet):
            # amqtt wants more than the packet holds: a malformed packet. Drop it (amqtt discards
            # a packet on MQTTError and keeps the connection); the next read starts the next one.
            self._packet, self._at = b"", 0
            raise MQTTError("a packet shorter than its contents say")
        data = self._packet[self._at:end]
        self._at = end
        return data

    async def _next_packet(self) -> bytes:
        drops = 0
        while True:
            try:
                first = await self._stream.readexactly(1)
            except asyncio.IncompleteReadError:
                return b""
            header, length = bytearray(first), 0
            for shift in range(0, 28, 7):
                byte = (await self._stream.readexactly(1))[0]
                header.append(byte)
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
            else:
                return bytes(header)  # a remaining length of over four bytes: amqtt refuses the packet
            if length > self.limit:
                await self._skip(length)
                log.warning("dropped a message of %d bytes (the limit is %d)", length, self.limit)
                continue
            body = await self._stream.readexactly(length) if length else b""
            if not self._over_rate(first[0]):
                return bytes(header) + body
            self._acknowledge_dropped(first[0], body)
            drops += 1
            if drops % self.YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the flood is in the buffer already: let the others in

    async def _skip(self, length: int) -> None:
        left = length
        while left > 0:
            left -= len(await self._stream.readexactly(min(left, self.CHUNK)))

    def _over_rate(self, first: int) -> bool:
        if first >> 4 != PUBLISH or self.sender is None or self.publish_limit is None:
            return False
        return self.publish_limit.take(self.sender) > 0

    def _acknowledge_dropped(self, first: int, body: bytes) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning("%s publishes faster than it may: dropped %d of its messages", self.sender, self.dropped)
        if (first >> 1) & 3 == 1 and len(body) >= 2:
            topic_end = 2 + int.from_bytes(body[:2], "big")
            packet_id = body[topic_end:topic_end + 2]
            if len(packet_id) == 2:
                self._writer.write(bytes((PUBACK << 4, 2)) + packet_id)


class _Broker(Broker):
    """amqtt's Broker, with a message size limit, a way to close a client's
    connection, and without three flaws of amqtt 0.12 (see also _Subscriptions).

    A CONNECT with a clean session ended the session of the client id it named
    *before* the credentials were checked, and a refused client's session then
    replaced the one of that id: anyone who knew a client id (the server's is
    `hallq-server-<host>-<pid>`) could silence it, its TCP link still up, with any
    password. Here that session ends only once the newcomer is admitted (its
    credentials good and the client id its own), and a refused connection is
    renamed so that it touches no one's session.

    On every connect amqtt replays the retained messages of *every* filter anyone
    has subscribed to onto the new client, unchecked by the topic plugins (so a
    device would get other devices' retained topics). Here a client only gets the
    retained messages of its own subscriptions, which were checked when it
    subscribed.
    """

    def __init__(self, *args, max_message_bytes: int = 16384, publish_limit: RateLimit | None = None,
                 max_connections: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self._subscriptions = _Subscriptions()
        self.max_message_bytes = max_message_bytes
        self.publish_limit = publish_limit
        # What a client publishes that the server takes in this process (see EmbeddedBroker.local_sink).
        self.local_sink: Callable[[str, bytes], bool] | None = None
        self.max_connections = max_connections  # 0: no limit
        self.open_connections = 0
        self.refused_full = 0
        self._full_warned = -math.inf

    async def stream_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str) -> None:
        packets = _PacketReader(reader, writer, self.max_message_bytes, self.publish_limit)
        # The CONNECT is read here first: who the newcomer says it is decides whether it gets in past
        # the limit, and which one session it may touch (see _initialize_client_session).
        try:
            connect = await asyncio.wait_for(packets._next_packet(), CONNECT_TIMEOUT)
        except (asyncio.TimeoutError, OSError):
            connect = b""
        client_id, username = _connect_ids(connect)
        full = self.max_connections and self.open_connections >= self.max_connections
        if not connect or (full and username != SERVER_USER):
            # At the limit, the server's own link is let in all the same (its devices must never lock it out).
            await self._turn_away(writer, answer=bool(connect) and bool(full))
            return
        packets.push_back(connect)
        packets.connect_client_id = client_id
        self.open_connections += 1
        try:
            await self._client_connected(listener_name, packets, StreamWriterAdapter(writer))
        finally:
            self.open_connections -= 1

    async def _turn_away(self, writer: asyncio.StreamWriter, *, answer: bool) -> None:
        """Close a connection that sent no CONNECT in time, or (answer) one past the limit, with
        CONNACK 3, "server unavailable", and a log line that says what to do."""
        if not answer:
            writer.close()
            return
        self.refused_full += 1
        now = time.monotonic()
        if now - self._full_warned >= 60:
            self._full_warned = now
            log.warning(FULL_MESSAGE, self.max_connections, self.refused_full)
        try:
            writer.write(bytes((CONNACK << 4, 2, 0, 3)))
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _run_broadcast(self, running_tasks) -> None:
        """amqtt's broadcast of one message, to the subscribers the index finds (see _Subscriptions)."""
        broadcast = await self._broadcast_queue.get()
        topic = broadcast["topic"]
        for target_session, sub_qos in self._subscriptions.matching(topic, self._matches):
            qos = broadcast.get("qos", sub_qos)
            if not await self._topic_filtering(target_session, topic=topic, action=Action.RECEIVE):
                continue
            if target_session.transitions.state != "connected":
                # Kept for a persistent session (clean session off) at QoS 1 or 2 [MQTT 3.1.2.4], as amqtt does.
                if not target_session.clean_session and qos in (1, 2) and not target_session.is_anonymous:
                    await self._retain_broadcast_message(broadcast, qos, target_session)
                continue
            handler = self._get_handler(target_session)
            if handler:
                running_tasks.append(asyncio.ensure_future(handler.mqtt_publish(topic, broadcast["data"], qos, retain=False)))

    def connected_usernames(self) -> set[str]:
        return {s.username for s, _ in self._sessions.values() if s.username and s.transitions.state == "connected"}

    def close_listeners(self) -> None:
        """Stop accepting connections at once (amqtt closes its listeners only after every session ended)."""
        for server in self._servers.values():
            if server.instance is not None:
                server.instance.close()

    async def abort_connections(self) -> None:
        """Drop every client connection now: what a shutdown that hangs leaves behind."""
        for _, handler in list(self._sessions.values()):
            writer = getattr(getattr(handler, "writer", None), "_writer", None)
            if writer is not None:
                writer.transport.abort()
        await asyncio.sleep(0.1)  # the sockets close in callbacks of this loop: let them run

    async def disconnect_users(self, usernames: set[str]) -> int:
        """Close the connections of these users as if they had dropped (their Last Will is published)."""
        closed = 0
        for session, handler in list(self._sessions.values()):
            if session.username in usernames and handler is not None and session.transitions.state == "connected":
                log.warning("closing the connection of %s: its credentials are no longer valid", session.username)
                await handler.handle_connection_closed()
                closed += 1
        return closed

    async def _broadcast_message(self, session, topic, data, force_qos=None) -> None:
        sink = self.local_sink
        if sink is not None and session is not None and topic and data is not None:
            try:
                if sink(topic, bytes(data)):
                    return  # the server took it in this process: it goes to no subscriber
            except Exception:
                log.exception("the server could not take a message on %s", topic)
                return
        await super()._broadcast_message(session, topic, data, force_qos)

    async def deliver_own(self, messages: list[tuple[str, bytes, bool]]) -> None:
        """The server's own messages, handed over inside this process: broadcast (at each
        subscriber's QoS) and, if retained, kept, as amqtt does with a client's PUBLISH."""
        for topic, data, retain in messages:
            await self.internal_message_broadcast(topic, data)
            if retain:
                await self.retain_message(None, topic, data, 1)

    _refused = itertools.count(1)

    async def _initialize_client_session(self, reader, writer, *args, **kwargs):
        # The one session the newcomer's CONNECT names, as it is before amqtt touches it (not every
        # session's: with a thousand devices reconnecting after a restart, that was a million copies).
        named = getattr(reader, "connect_client_id", None)
        before = {named: _connect_fields(self._sessions[named][0])} if named in self._sessions else {}
        token = _CLEAN_AFTER_ADMISSION.set(set())
        try:
            handler, session = await super()._initialize_client_session(reader, writer, *args, **kwargs)
            session.hallq_clean_after_admission = _CLEAN_AFTER_ADMISSION.get()
        finally:
            _CLEAN_AFTER_ADMISSION.reset(token)
        if session.parent == 1 and not await super()._authenticate(session, None):
            # A persistent session (clean_session=0) of that id: amqtt has put the newcomer's
            # credentials on it, and would take it over (closing its owner's connection) even
            # if the newcomer is then refused. Give the owner its session back; close the newcomer.
            newcomer = session.username
            _restore(session, before.get(session.client_id))
            await writer.close()
            raise MQTTError(f"refused {newcomer!r}, which asked for the session of client id {session.client_id!r}")
        return handler, session

    async def _delete_session(self, client_id: str) -> None:
        waiting = _CLEAN_AFTER_ADMISSION.get()
        if waiting is not None:  # asked while a CONNECT is read: not before the client is admitted
            waiting.add(client_id)
            return
        await super()._delete_session(client_id)

    async def _authenticate(self, session, listener) -> bool:
        admitted = await super()._authenticate(session, listener)
        clean = getattr(session, "hallq_clean_after_admission", set())
        session.hallq_clean_after_admission = set()
        if not admitted:
            session.client_id = f"{REFUSED}{next(self._refused)}"
            return False
        for client_id in clean:
            await super()._delete_session(client_id)
        return True

    async def _handle_client_session(self, reader, writer, client_session, *args, **kwargs) -> None:
        if isinstance(reader, _PacketReader) and client_session.username != SERVER_USER:
            reader.sender = client_session.username  # admitted: its publishes count against its rate
        try:
            await super()._handle_client_session(reader, writer, client_session, *args, **kwargs)
        finally:
            if (client_session.client_id or "").startswith(REFUSED):
                self._sessions.pop(client_session.client_id, None)

    async def _publish_retained_messages_for_subscription(self, subscription, session) -> None:
        topic_filter, qos = subscription
        if all(s.client_id != session.client_id for s, _ in self._subscriptions.get(topic_filter, [])):
            return
        if topics.unshared(topic_filter)[0] is not None:
            return  # a shared subscription gets no retained messages [MQTT-4.8.2-6 in MQTT 5]
        if "+" in topic_filter or "#" in topic_filter:
            await super()._publish_retained_messages_for_subscription(subscription, session)
            return
        # One topic: one look-up, not a walk over every retained message of every hall.
        retained = self._retained_messages.get(topic_filter)
        handler = self._get_handler(session)
        if retained is not None and handler is not None:
            await handler.mqtt_publish(retained.topic, retained.data, min(qos, retained.qos or qos), retain=True)


FULL_MESSAGE = (
    "the embedded MQTT broker holds at most %d connections (mqtt_max_connections) and has refused %d past it: "
    "for more devices run Mosquitto (`hallq broker-config --mosquitto DIR` writes its configuration, then set MQTT_URL; "
    "see docs/deployment.md, \"How many devices and browsers\")"
)


CONNECT_TIMEOUT = 10.0  # seconds a new connection has to send its CONNECT


def _connect_ids(packet: bytes) -> tuple[str | None, str | None]:
    """(client id, user name) of a raw MQTT 3.1/3.1.1 CONNECT packet; None for what it lacks, or
    for both when it is not one (amqtt then refuses it as it would have)."""
    def field(at: int) -> tuple[str, int]:
        length = int.from_bytes(packet[at:at + 2], "big")
        value = packet[at + 2:at + 2 + length]
        if len(value) != length:
            raise IndexError("a field longer than the packet")
        return value.decode("utf-8"), at + 2 + length

    try:
        if not packet or packet[0] >> 4 != CONNECT:
            return None, None
        at = 1
        while packet[at] & 0x80:  # the remaining length's bytes
            at += 1
        _, at = field(at + 1)  # protocol name
        flags = packet[at + 1]
        client_id, at = field(at + 4)  # after level, flags and keep alive
        if flags & 0x04:  # will topic and message
            _, at = field(at)
            _, at = field(at)
        return client_id, (field(at)[0] if flags & 0x80 else None)
    except (IndexError, UnicodeDecodeError):
        return None, None


_CONNECT_FIELDS = ("username", "password", "will_flag", "will_message", "will_topic", "will_qos", "keep_alive")


def _connect_fields(session) -> tuple:
    return tuple(getattr(session, name) for name in _CONNECT_FIELDS)


def _restore(session, fields: tuple | None) -> None:
    if fields is not None:
        for name, value in zip(_CONNECT_FIELDS, fields):
            setattr(session, name, value)


def _close_loop(loop: asyncio.AbstractEventLoop, grace: float = 5.0) -> None:
    """Close the broker's loop as asyncio.run() closes its own: cancel what is
    still pending (amqtt leaves tasks behind when a shutdown fails or hangs) and
    let it finish. A task left pending in a closed loop is finalized later by
    the garbage collector, in whatever thread happens to collect, where amqtt
    logs a traceback; on Python 3.11 formatting one parses source, and a parse
    nested in another parse's garbage collection fails with "SystemError: AST
    constructor recursion depth mismatch" in the unlucky caller."""
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=grace))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except Exception:
        log.exception("the embedded MQTT broker's loop did not wind down cleanly")
    finally:
        loop.close()


def check_port(host: str, port: int) -> None:
    """Raise PortTaken with a plain message when the embedded broker's port is taken."""
    ports.check_port(
        host, port, what="MQTT port",
        hint="another broker, such as Mosquitto? choose another with --mqtt-port or HALLQ_MQTT_PORT, or use that broker with MQTT_URL",
    )


def broker_limits(device_rate: float, device_burst: int) -> dict:
    """What the embedded broker lets a device publish: twice what the server will handle (and at
    least 100 a second, bursts of 200), so the server's own `rate_limited` answer, not a silent
    drop, is what a merely eager device meets; only a flood is dropped unread."""
    return {"publish_rate": max(2 * device_rate, 100.0), "publish_burst": max(2 * device_burst, 200)}


class EmbeddedBroker:
    """amqtt in a background thread; start() returns once it listens.

    With a certificate, devices connect over TLS on host:port, and the server's
    own link uses a second, plain listener on a free loopback port (`local_port`).
    """

    def __init__(self, directory: Directory, *, host: str = "127.0.0.1", port: int = 1883,
                 certfile: str | None = None, keyfile: str | None = None,
                 max_message_bytes: int = 16384, recheck_seconds: float = 2.0, local_port: int | None = None,
                 publish_rate: float = 100.0, publish_burst: int = 200, max_connections: int = 0,
                 local_sink: Callable[[str, bytes], bool] | None = None):
        self.directory = directory
        # Past this many connections a newcomer is refused (CONNACK 3) with a log line that says to
        # switch to Mosquitto; the server's own link is always let in. 0: no limit.
        self.max_connections = max_connections
        # The server in this process takes the devices' requests and availability here, as the
        # broker reads them (on the broker's thread, True when taken): each device's request goes
        # straight to the bridge's fair queue instead of waiting behind every other device's in
        # the broker's one stream of messages to the server's link, and costs no packet to write,
        # read and acknowledge. Mirrors deliver(), which takes the server's messages the other way.
        self.local_sink = local_sink
        # What one device may publish: well above what the bridge serves it (inbox.py), so that a
        # device is told `rate_limited` first, and only a flood is dropped at the door.
        self.publish_limit = RateLimit(rate=publish_rate, burst=publish_burst) if publish_rate > 0 else None
        self.host, self.port = host, port
        self.certfile, self.keyfile = certfile, keyfile
        self.max_message_bytes = max_message_bytes
        # How often connected devices are checked against the registry: a device
        # revoked (or given a new password) is cut off within this many seconds,
        # whichever process or command revoked it.
        self.recheck_seconds = recheck_seconds
        self.local_port = port
        if certfile:
            self.local_port = local_port or ports.free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._thread: threading.Thread | None = None
        self._recheck: asyncio.Task | None = None
        self._deliveries: set[asyncio.Task] = set()

    def _listeners(self) -> dict:
        if not self.certfile:
            return {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}
        # amqtt copies unset fields of other listeners from "default", so the plain one is "default".
        return {
            "default": {"type": "tcp", "bind": f"127.0.0.1:{self.local_port}"},
            "tls": {"type": "tcp", "bind": f"{self.host}:{self.port}", "ssl": True,
                    "certfile": self.certfile, "keyfile": self.keyfile},
        }

    def _config(self) -> dict:
        return {
            "listeners": self._listeners(),
            "plugins": {
                f"{__name__}.DeviceAuthPlugin": {"directory": self.directory},
                f"{__name__}.DeviceTopicPlugin": {"directory": self.directory},
            },
        }

    def start(self, timeout: float = 30.0) -> None:
        # A restart on the same port can find it held for a moment: a device's
        # reconnect attempt to a port in the ephemeral range may briefly own it
        # (TCP self-connect). Look again for up to 3 s before calling it taken.
        for attempt in range(30):
            try:
                check_port(self.host, self.port)
                break
            except ports.PortTaken:
                if attempt == 29:
                    raise
                time.sleep(0.1)
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._broker = _Broker(self._config(), loop=loop, max_message_bytes=self.max_message_bytes,
                                       publish_limit=self.publish_limit, max_connections=self.max_connections)
                self._broker.local_sink = self.local_sink
                loop.run_until_complete(self._broker.start())
                if self.recheck_seconds > 0:
                    self._recheck = loop.create_task(self._recheck_loop())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                _close_loop(loop)
                return
            ready.set()
            loop.run_forever()
            _close_loop(loop)

        self._thread = threading.Thread(target=run, name=f"mqtt-broker-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the embedded MQTT broker did not start")
        if failure:
            raise RuntimeError(f"the embedded MQTT broker did not start: {failure[0]}") from failure[0]
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_seconds)
            broker = self._broker
            if broker is None:
                return
            try:
                connected = broker.connected_usernames()
                if connected:
                    gone = await asyncio.get_running_loop().run_in_executor(None, self.directory.no_longer_valid, connected)
                    if gone:
                        await broker.disconnect_users(gone)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, RuntimeError) and "shutdown" in str(exc):  # the process is stopping: its executor takes no more work
                    return
                log.exception("could not recheck the connected devices")  # a database hiccup: look again next time

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the broker down (clients see the connection drop)."""
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        if self._recheck is not None:
            loop.call_soon_threadsafe(self._recheck.cancel)
            self._recheck = None
        # The port is free from here on, however long the sessions take to end:
        # a restart on the same port must not find it held.
        loop.call_soon_threadsafe(broker.close_listeners)
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            future.result(timeout)
        except Exception:
            log.exception("embedded MQTT broker did not shut down cleanly; dropping its connections")
            try:
                asyncio.run_coroutine_threadsafe(broker.abort_connections(), loop).result(5)
            except Exception:
                log.exception("could not drop the embedded broker's connections")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._loop = self._broker = None

    def deliver(self, topic: str, payload: bytes, retain: bool) -> bool:
        """Publish one of the server's own messages without a round trip through a socket: no packet
        to write and parse, no acknowledgement (the broker is in this process). Messages are
        delivered in the order handed in. False when the broker is not running (the message is dropped:
        after a restart the server's link reconnects and republishes everything retained)."""
        loop, broker = self._loop, self._broker
        if loop is None or broker is None:
            return False
        try:
            loop.call_soon_threadsafe(self._deliver_on_loop, broker, topic, payload, retain)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def _deliver_on_loop(self, broker: _Broker, topic: str, payload: bytes, retain: bool) -> None:
        task = asyncio.ensure_future(broker.deliver_own([(topic, payload, retain)]))
        self._deliveries.add(task)  # the loop holds tasks weakly
        task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task) -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("the broker could not take one of the server's messages", exc_info=task.exception())

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"
