"""Login and token throttling: failed attempts per key (a user from an address, an address) in a sliding window,
and the address a throttle counts (an IPv4 address, an IPv6 /64)."""
import ipaddress
import logging
import math
import threading
from typing import Callable, Dict, List, Tuple

from ..web.http import ApiError

log = logging.getLogger(__name__)


class Throttle:
    """Failed attempts per key within a sliding window.  A key with ``limit`` failures in the last ``window``
    seconds is refused until the oldest of them leaves the window.  Keys (``<kind>:<what>``):
    - ``user:<address>|<name>``: failed logins for one user from one address (5): failures elsewhere never lock a
      user out here, so nobody can lock ``admin`` out everywhere;
    - ``addr:<address>``: failed logins from one address, whatever the user (50): password guessing;
    - ``bearer:<address>``: failed API tokens from one address (50): only their logging stops at the limit, a
      failed token is always a 401 and a valid one always works (tokens are 256-bit: there is nothing to guess).
    An address is the client's IPv4 address, or its IPv6 /64 (one host can hold a whole /64)."""

    def __init__(self, clock: Callable[[], float], window: float = 300.0, user_limit: int = 5,
                 addr_limit: int = 50, max_keys: int = 10000) -> None:
        self._clock = clock
        self.window = window
        # bearer:<ip> counts failed API tokens apart from failed logins, with the same per-address limit
        # restful:<ip> counts failed restful keys (restful/app.py), with the same per-address limit
        self.limits = {'user': user_limit, 'addr': addr_limit, 'bearer': addr_limit, 'restful': addr_limit}
        self._max_keys = max_keys
        self._failures: Dict[str, List[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> List[float]:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def wait(self, keys: Tuple[str, ...]) -> float:
        """Seconds until these keys may try again (0: now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                limit = self.limits[key.split(':', 1)[0]]
                recent = self._recent(key, now)
                if len(recent) >= limit:
                    wait = max(wait, self.window - (now - recent[-limit]))
        return wait

    def failed(self, keys: Tuple[str, ...]) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= self._max_keys:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                limit = self.limits[key.split(':', 1)[0]]
                self._failures[key] = (self._failures.get(key, []) + [now])[-limit:]

    def refuse(self, keys: Tuple[str, ...], what: str, who: str) -> None:
        """Raise 429 (DRF's Throttled body, with Retry-After) if these keys failed too often; log ``what``."""
        wait = self.wait(keys)
        if wait <= 0:
            return
        seconds = max(1, math.ceil(wait))
        log.warning('%s refused for %s: too many failed attempts (retry in %ds)', what, who, seconds)
        plural = '' if seconds == 1 else 's'
        raise ApiError(429, {'detail': f'Request was throttled. Expected available in {seconds} second{plural}.'},
                       headers={'Retry-After': str(seconds)})

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


def client_key(addr: str) -> str:
    """The address a throttle counts: an IPv4 address as it is, an IPv6 one as its /64 (IPv4-mapped: the IPv4)."""
    try:
        ip = ipaddress.ip_address(addr.split('%', 1)[0])
    except ValueError:
        return addr[:64]
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        return str(mapped) if mapped else str(ipaddress.ip_network(f'{ip}/64', strict=False))
    return str(ip)


def login_keys(username: str, addr: str) -> Tuple[str, str]:
    """The throttle keys of a login attempt: this user from this address, and this address."""
    where = client_key(addr)
    return f'user:{where}|{username[:256]}', f'addr:{where}'
