"""restful's API keys: HTTP Basic ``<name>:<key>``, each key acting with a role (superuser unless made narrower).

The store keeps a key's SHA-256 only, under ``restful_key/<name>`` with its role and creation time.  Keys the
``restful`` module left in the config-key store (``mgr/restful/keys/<name>``, in clear) are imported: at the
listener's start, and when a client names a key not known yet (at most once every IMPORT_EVERY seconds), so a
restful client keeps working, unchanged, after the upgrade.  A new key is restful's kind (a UUID).  Nothing here
logs a key."""
import errno
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ..auth.users import ROLES, USERNAME_RE

if TYPE_CHECKING:
    from ..store import KVStore

log = logging.getLogger(__name__)

STORE_PREFIX = 'restful_key/'
RESTFUL_PREFIX = 'mgr/restful/keys/'
IMPORT_EVERY = 5.0
NAME_MAX = 128
DEFAULT_ROLE = 'superuser'
QUERY_TIMEOUT = 10.0


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


def check_name(name: Any) -> Optional[str]:
    if not isinstance(name, str) or not name or len(name) > NAME_MAX or not USERNAME_RE.match(name):
        return f'a key name is 1-{NAME_MAX} letters, digits or @.+-_'
    return None


class RestfulKeys:
    """``query(command, timeout)`` runs a mon command: (r, outb, outs)."""

    def __init__(self, store: 'KVStore', query: Callable[[Dict[str, Any], float], Tuple[int, str, str]],
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._query = query
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Dict[str, Dict[str, Any]] = {}
        self._last_import = float('-inf')
        self.load()

    def load(self) -> None:
        with self._lock:
            self._keys = {name: rec for name, rec in self._store.prefix_json(STORE_PREFIX).items()
                          if isinstance(rec, dict) and isinstance(rec.get('hash'), str)}

    # -- restful's keys ---------------------------------------------------------------------------
    def restful_keys(self) -> Optional[Dict[str, str]]:
        """What restful left in the config-key store, {name: key}; None when it cannot be read."""
        r, outb, outs = self._query({'prefix': 'config-key dump', 'key': RESTFUL_PREFIX}, QUERY_TIMEOUT)
        if r != 0:
            log.warning('cannot read restful\'s keys (config-key dump %s): %s', RESTFUL_PREFIX, outs)
            return None
        try:
            dumped = json.loads(outb or '{}')
        except ValueError:
            return None
        return {k[len(RESTFUL_PREFIX):]: v for k, v in dumped.items()
                if k.startswith(RESTFUL_PREFIX) and isinstance(v, str) and v}

    def import_restful(self) -> List[str]:
        """Import the keys restful left that are not known here; the names imported."""
        self._last_import = time.monotonic()
        found = self.restful_keys() or {}
        imported = []
        for name, key in sorted(found.items()):
            if check_name(name) is not None:
                continue
            with self._lock:
                if name in self._keys:
                    continue
                record = {'hash': key_hash(key), 'role': DEFAULT_ROLE, 'created': self._clock(), 'imported': True}
                self._keys[name] = record
            self._store.set_json(STORE_PREFIX + name, record)
            imported.append(name)
        if imported:
            log.info('imported restful keys: %s', ', '.join(imported))
        return imported

    # -- the CLI ----------------------------------------------------------------------------------
    def create(self, name: str, role: str = DEFAULT_ROLE) -> str:
        """A new key (shown once); ValueError (bad name or role), KeyError (the name exists)."""
        problem = check_name(name)
        if problem:
            raise ValueError(problem)
        if role not in ROLES:
            raise ValueError(f'role must be one of {", ".join(ROLES)}')
        key = str(uuid.uuid4())
        record = {'hash': key_hash(key), 'role': role, 'created': self._clock(), 'imported': False}
        with self._lock:
            if name in self._keys:
                raise KeyError(name)
            self._keys[name] = record
        self._store.set_json(STORE_PREFIX + name, record)
        log.info('restful key %r created (role %s)', name, role)
        return key

    def list(self) -> Dict[str, Dict[str, Any]]:
        with self._lock:
            return {name: {'role': rec.get('role', DEFAULT_ROLE), 'created': rec.get('created'),
                           'imported': bool(rec.get('imported'))} for name, rec in sorted(self._keys.items())}

    def delete(self, name: str) -> Tuple[bool, str]:
        """Forget a key, and restful's copy of it (else the next import would bring it back); (existed, warning)."""
        with self._lock:
            existed = self._keys.pop(name, None) is not None
        self._store.delete(STORE_PREFIX + name)
        warning = ''
        r, _outb, outs = self._query({'prefix': 'config-key exists', 'key': RESTFUL_PREFIX + name}, QUERY_TIMEOUT)
        if r == 0:
            existed = True
            r, _outb, outs = self._query({'prefix': 'config-key rm', 'key': RESTFUL_PREFIX + name}, QUERY_TIMEOUT)
            if r != 0:
                warning = f'restful\'s copy ({RESTFUL_PREFIX}{name}) could not be removed: {outs}'
        elif r != -errno.ENOENT:
            warning = f'restful\'s copy ({RESTFUL_PREFIX}{name}) could not be checked: {outs}'
        if existed:
            log.info('restful key %r deleted', name)
        return existed, warning

    # -- authentication ---------------------------------------------------------------------------
    def known(self, name: str) -> bool:
        with self._lock:
            return name in self._keys

    def verify(self, name: str, key: str) -> Optional[str]:
        """The key's role if ``key`` is the key called ``name``, else None.  An unknown name triggers an import of
        restful's keys (rate-limited)."""
        if not self.known(name) and time.monotonic() - self._last_import >= IMPORT_EVERY:
            self.import_restful()
        with self._lock:
            record = self._keys.get(name)
        digest = key_hash(key)
        if record is None or not hmac.compare_digest(digest, record['hash']):
            return None
        return record.get('role') or DEFAULT_ROLE
