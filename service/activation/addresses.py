"""Where a webhook may be sent: not to the service's own network. A URL naming (or resolving to) a
private, loopback, link-local (cloud metadata), multicast or otherwise reserved address is refused,
both when a destination is configured and before every delivery (a name may resolve elsewhere
later), unless WEBHOOK_PRIVATE_ADDRESSES=true (a receiver on the same network, the tests' own)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from service.config import get_settings
from service.errors import AccountGraphError, ErrorCode

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(AccountGraphError, ValueError):
    """A webhook URL that points into a private network."""

    default_code = ErrorCode.VALIDATION_FAILED


def _internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


async def check_webhook_url(url: str) -> None:
    """Raise AddressRefused when `url`'s host is, or resolves to, an address inside a private network
    (every address the name resolves to is checked); a name that does not resolve is let through
    here: delivery will fail and say so."""
    if get_settings().webhook_private_addresses:
        return
    host = urlsplit(url).hostname
    if not host:
        raise AddressRefused(f"the webhook url {url!r} names no host")
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except socket.gaierror:
            return
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    refused = sorted({str(address) for address in addresses if _internal(address)})
    if refused:
        raise AddressRefused(f"the webhook url {url!r} points into a private network ({', '.join(refused)}): "
                             "webhooks go to public addresses only, unless WEBHOOK_PRIVATE_ADDRESSES=true")
