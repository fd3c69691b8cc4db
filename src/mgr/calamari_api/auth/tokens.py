"""API tokens for scripts and monitoring: ``Authorization: Bearer <token>``, a session-less way in.

``ceph calamari-api token-create <name>`` makes a random token and shows it once; the store keeps only its
SHA-256, under ``token/<name>`` with the role, creation, expiry and last use, so tokens survive a failover and a
leaked store leaks no token.  A token acts with its role exactly as a session of a user with that role would.
A bad token is a 401 with ``WWW-Authenticate: Bearer`` (anonymous requests keep Calamari's 403), always: failures
are counted per address only to stop logging them past a limit, and a valid token is never refused.  "Last use"
is kept in memory and written at most once a minute per token.  Nothing here logs a token.
"""
import logging
import re
import secrets
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..web.http import ApiError, ApiRequest
from ..store import KVStore
from .throttle import Throttle, client_key
from .users import ROLES, USERNAME_RE, Principal, token_hash

log = logging.getLogger(__name__)

TOKEN_PREFIX = 'calapi_'              # recognisable in a leaked script or a secret scanner
NAME_MAX = 64
MAX_TOKENS = 256
SAVE_USE_EVERY = 60.0                 # seconds between two writes of one token's "last use"
B64TOKEN_RE = re.compile(r'^[A-Za-z0-9._~+/-]+=*$')     # RFC 6750's b64token
TOKEN_MAX = 256
REALM = 'Bearer realm="calamari_api"'
# The 401's detail (and error_description) by reason: DRF TokenAuthentication's messages where it has one
FAILURES = {
    'missing': 'Invalid token header. No credentials provided.',
    'spaces': 'Invalid token header. Token string should not contain spaces.',
    'malformed': 'Invalid token.',
    'unknown': 'Invalid token.',
    'expired': 'Token has expired.',
}


def bearer_credentials(request: ApiRequest) -> Optional[str]:
    """The credentials of an ``Authorization: Bearer ...`` header ('' when empty); None without one.  Other
    schemes (Basic, ...) are not ours: such a request is treated as carrying no credentials, as Calamari did."""
    scheme, _, credentials = (request.headers.get('Authorization') or '').strip().partition(' ')
    return credentials.strip() if scheme.lower() == 'bearer' else None


def _unauthorized(reason: str) -> ApiError:
    message = FAILURES[reason]
    challenge = REALM if reason == 'missing' else f'{REALM}, error="invalid_token", error_description="{message}"'
    return ApiError(401, {'detail': message}, headers={'WWW-Authenticate': challenge})


class TokenUser(Principal):
    """A request authenticated by an API token.  Not a user account: ``id`` is None (``user/me`` is a 404)."""
    bearer = True
    id = None

    def __init__(self, name: str, role: str) -> None:
        self.name = name
        self.role = role


class Tokens:
    """The tokens of the module, all in memory (looked up by hash) and each in the store under ``token/<name>``.

    ``_lock`` guards memory and is never held across a store write; ``_write_lock`` orders the store writes of
    records, so a late "last use" write can never bring back a token that was just revoked."""

    def __init__(self, store: KVStore, throttle: Throttle, clock: Callable[[], float] = time.time,
                 save_every: float = SAVE_USE_EVERY) -> None:
        self._store = store
        self._throttle = throttle
        self._clock = clock
        self._save_every = save_every
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._by_name: Dict[str, Dict[str, Any]] = {}
        self._by_hash: Dict[str, str] = {}
        self._saved_use: Dict[str, float] = {}      # name -> the last use as the store has it
        self.load()

    def load(self) -> None:
        records = {name: r for name, r in self._store.prefix_json('token/').items()
                   if isinstance(r, dict) and isinstance(r.get('hash'), str) and r.get('role') in ROLES}
        with self._lock:
            self._by_name = records
            self._by_hash = {r['hash']: name for name, r in records.items()}
            self._saved_use = {name: r.get('last_used') or 0.0 for name, r in records.items()}

    # -- administration (CLI) -------------------------------------------------------------------
    def create(self, name: str, role: str = 'readonly', expires: Optional[float] = None) -> Tuple[str, Dict[str, Any]]:
        """A new token and its record.  Raise ValueError (bad argument, too many tokens) or KeyError (name taken)."""
        if not name or len(name) > NAME_MAX or not USERNAME_RE.match(name):
            raise ValueError(f'a token name is 1 to {NAME_MAX} letters, digits and @/./+/-/_')
        if role not in ROLES:
            raise ValueError(f'role must be one of {", ".join(ROLES)}')
        if expires is not None and expires <= 0:
            raise ValueError('--expires must be a positive number of seconds')
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        record = {'role': role, 'hash': token_hash(token), 'created': now,
                  'expires': now + expires if expires else None, 'last_used': None}
        with self._write_lock:
            with self._lock:
                if name in self._by_name:
                    raise KeyError(name)
                if len(self._by_name) >= MAX_TOKENS:
                    raise ValueError(f'there are {MAX_TOKENS} tokens already: revoke some first')
            self._store.set_json(f'token/{name}', record)
            with self._lock:
                self._by_name[name] = record
                self._by_hash[record['hash']] = name
                self._saved_use[name] = 0.0
        log.info('API token %r created (role %s, %s)', name, role,
                 f'expires in {expires:g}s' if expires else 'no expiry')
        return token, self._public(name, record)

    def revoke(self, name: str) -> bool:
        """Forget a token at once (memory first, then the store); False if there is none by that name."""
        with self._write_lock:
            with self._lock:
                record = self._by_name.pop(name, None)
                if record is not None:
                    self._by_hash.pop(record['hash'], None)
                    self._saved_use.pop(name, None)
            if record is not None:
                self._store.delete(f'token/{name}')
        if record is not None:
            log.info('API token %r revoked', name)
        return record is not None

    def list(self) -> List[Dict[str, Any]]:
        """Name, role, creation, expiry and last use of every token (never the token, nor its hash)."""
        with self._lock:
            return [self._public(name, record) for name, record in sorted(self._by_name.items())]

    @staticmethod
    def _public(name: str, record: Dict[str, Any]) -> Dict[str, Any]:
        return {'name': name, 'role': record['role'], 'created': record['created'],
                'expires': record.get('expires'), 'last_used': record.get('last_used')}

    # -- the check the dispatcher runs ----------------------------------------------------------
    def authenticate(self, request: ApiRequest) -> Optional[TokenUser]:
        """The token's principal for a request with ``Authorization: Bearer``; None without one; 401 when the token
        is missing, malformed, unknown, revoked or expired (however often the address failed before)."""
        credentials = bearer_credentials(request)
        if credentials is None:
            return None
        reason, name, record = self._check(credentials)
        if reason is not None:
            quiet = reason != 'missing' and self._failed(request)
            shown = f' {name!r}' if name else ''
            if not quiet:
                log.warning('API token%s refused from %s (%s): %s %s', shown, request.remote_addr, reason,
                            request.method, request.path)
            raise _unauthorized(reason)
        assert name is not None and record is not None
        due = self._used(name, record)
        # every write, and a token's reads once per save interval, at INFO; each read at DEBUG
        level = logging.INFO if due or request.method not in ('GET', 'HEAD', 'OPTIONS') else logging.DEBUG
        log.log(level, 'API token %r (%s) used from %s: %s %s', name, record['role'], request.remote_addr,
                request.method, request.path)
        if due:
            self._save_use(name, record['hash'])
        return TokenUser(name, record['role'])

    @staticmethod
    def _keys(request: ApiRequest) -> Tuple[str]:
        return (f'bearer:{client_key(request.remote_addr)}',)

    def _failed(self, request: ApiRequest) -> bool:
        """Count a failed token; True when the address is past the throttle's limit, so that this failure goes
        unlogged (a flood of bad tokens must not flood the mgr log; one line says when the logging stops).  Never
        a 429: a bad token is a 401, and a good one from the same address still works."""
        keys = self._keys(request)
        before = self._throttle.wait(keys)
        self._throttle.failed(keys)
        if before <= 0 and self._throttle.wait(keys) > 0:
            log.warning('API token failures from %s: %d in %ds; the next ones are answered 401 without a log line '
                        'until the oldest leaves the window', request.remote_addr,
                        self._throttle.limits['bearer'], int(self._throttle.window))
        return before > 0

    def _check(self, credentials: str) -> Tuple[Optional[str], Optional[str], Optional[Dict[str, Any]]]:
        """(failure reason or None, token name, record)."""
        if not credentials:
            return 'missing', None, None
        if ' ' in credentials:
            return 'spaces', None, None
        if len(credentials) > TOKEN_MAX or not B64TOKEN_RE.match(credentials):
            return 'malformed', None, None
        digest = token_hash(credentials)
        with self._lock:
            name = self._by_hash.get(digest)
            record = self._by_name.get(name) if name is not None else None
        if name is None or record is None:
            return 'unknown', None, None          # never made, or revoked
        if record.get('expires') is not None and record['expires'] <= self._clock():
            return 'expired', name, record
        return None, name, record

    # -- last use: in memory at every request, in the store at most once per interval ----------
    def _used(self, name: str, record: Dict[str, Any]) -> bool:
        """Note a use; True when it is time to store it (the caller then calls ``_save_use``)."""
        now = self._clock()
        with self._lock:
            record['last_used'] = now
            due = now - self._saved_use.get(name, 0.0) >= self._save_every
            if due:
                self._saved_use[name] = now
        return due

    def _save_use(self, name: str, digest: str) -> None:
        with self._write_lock:
            with self._lock:
                record = self._by_name.get(name)
                if record is None or record['hash'] != digest:
                    return                          # revoked (or replaced) meanwhile: write nothing
                snapshot = dict(record)
            try:
                self._store.set_json(f'token/{name}', snapshot)
            except Exception as e:                  # a missed "last use" must not fail the request
                log.warning('could not store the last use of API token %r: %s', name, e)

    def flush(self) -> None:
        """Store the last uses not stored yet (when the module stops)."""
        with self._lock:
            pending = [(name, r['hash']) for name, r in self._by_name.items()
                       if r.get('last_used') and r['last_used'] != self._saved_use.get(name)]
            for name, _ in pending:
                self._saved_use[name] = self._by_name[name]['last_used']
        for name, digest in pending:
            self._save_use(name, digest)
