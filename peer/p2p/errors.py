"""Errors of the libp2p host and its asyncio facade (``peer.p2p``).

Every libp2p or trio exception is translated here, at the boundary; callers never see a
libp2p type. Exception tree::

    P2PError                         base of everything this package raises on purpose
    ├── HostNotRunningError          the host is not started (or already stopped)
    ├── HostStartError               the host could not start (bad identity file, address in use...)
    ├── IdentityError                the identity key file is unreadable or not an Ed25519 key
    ├── InvalidMultiaddrError        a multiaddr (or peer id) string does not parse
    ├── DialError                    connecting to a peer failed (unreachable, handshake failed)
    │   └── PeerNotFoundError          a peer id given without an address was not found (DHT)
    ├── DhtUnavailableError          a DHT operation on a host whose DHT is off (p2p.dht = off)
    ├── NotConnectedError            the operation needs a connection to a peer we do not have
    ├── MessageTooLargeError         a payload exceeds the configured size limit (names both)
    ├── PublishError                 gossipsub refused to publish (bad topic...)
    └── RequestError                 a request/response exchange failed
        ├── ProtocolNotSupportedError  the remote peer does not serve that protocol
        ├── RequestTimeoutError        no answer within the timeout
        ├── ResponseTooLargeError      the answer exceeds the caller's size limit
        └── RemoteHandlerError         the remote handler raised (its message is passed along)
"""

from __future__ import annotations


class P2PError(Exception):
    """Base class of the p2p layer's own errors; the message is meant for the user."""


class HostNotRunningError(P2PError):
    """The host is not running; start it (``await host.start()``) first."""

    def __init__(self, what: str = "the p2p host") -> None:
        super().__init__(f"{what} is not running; start the peer daemon first")


class HostStartError(P2PError):
    """The host failed to start; the message says why (address in use, bad identity...)."""


class IdentityError(P2PError):
    """The identity key file cannot be used."""


class InvalidMultiaddrError(P2PError):
    """A multiaddr or peer id string is malformed."""


class DialError(P2PError):
    """Connecting to a peer failed."""


class PeerNotFoundError(DialError):
    """A peer given by id alone could not be located through the DHT."""


class DhtUnavailableError(P2PError):
    """The host runs no DHT (``p2p.dht = off``)."""

    def __init__(self, what: str = "this operation") -> None:
        super().__init__(
            f"{what} needs the DHT, which is off; set p2p.dht = server (or client), "
            "or give a full multiaddr"
        )


class NotConnectedError(P2PError):
    """We are not connected to that peer."""


class MessageTooLargeError(P2PError):
    """A payload is larger than the configured limit."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} is {size} bytes, over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class PublishError(P2PError):
    """Publishing on a topic failed."""


class RequestError(P2PError):
    """A request/response exchange failed."""


class ProtocolNotSupportedError(RequestError):
    """The remote peer does not serve the requested protocol."""


class RequestTimeoutError(RequestError):
    """The remote peer did not answer in time."""


class ResponseTooLargeError(RequestError):
    """The response exceeds the caller's size limit."""


class RemoteHandlerError(RequestError):
    """The remote handler failed; ``remote_message`` is what it reported."""

    def __init__(self, protocol: str, remote_message: str) -> None:
        super().__init__(f"the remote handler for {protocol} failed: {remote_message}")
        self.protocol = protocol
        self.remote_message = remote_message
