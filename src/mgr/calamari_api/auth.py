"""Users, roles, sessions, CSRF and login throttling, Calamari-compatible and kept in the mgr KV store.

Calamari used Django sessions: a ``calamari_sessionid`` cookie (HttpOnly) and an ``XSRF-TOKEN`` cookie
that JavaScript reads and echoes in ``X-XSRF-TOKEN`` (or ``X-CSRFToken``) on unsafe methods.  Here a
session is a random id whose SHA-256 is the store key (``session/<hash>``), so a leaked store does not
leak live sessions; its CSRF token is bound to it and rotated at login.  Users are ``user/<id>`` records
with scrypt hashes.  Everything is loaded at start, so sessions and users survive a mgr failover.
Nothing here logs a password, a session id or a CSRF token.
"""
import hashlib
import hmac
import ipaddress
import logging
import math
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from .http import ApiError, ApiRequest, detail, permission_denied
from .store import KVStore

log = logging.getLogger(__name__)

SESSION_COOKIE = 'calamari_sessionid'
CSRF_COOKIE = 'XSRF-TOKEN'
CSRF_HEADERS = ('X-Xsrf-Token', 'X-Csrftoken')      # AngularCSRFRename: X-XSRF-TOKEN wins over X-CSRFToken
ROLES = ('readonly', 'read/write', 'superuser')
NO_ROLE = 'none'                                     # CLI spelling of "in no group": 403 everywhere
USERNAME_RE = re.compile(r'^[\w.@+-]+$', re.ASCII)
USERNAME_MAX = 30
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
EMAIL_MAX = 75
NOT_AUTHENTICATED = 'Authentication credentials were not provided.'
# OWASP's Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1, or an equal-cost variant; N=2^14, r=8, p=5 is
# the one listed with the least memory (16 MiB a hash, 128 MiB for N=2^17), which matters inside ceph-mgr.  Hashes
# made with other parameters (2^14/8/1 before) are made again at the user's next successful login.
SCRYPT = {'n': 2 ** 14, 'r': 8, 'p': 5}
SCRYPT_AT_ONCE = threading.BoundedSemaphore(2)      # hashes computed at the same time (each takes 128*r*N bytes)
DEFAULT_SESSION_EXPIRE = 1209600.0                   # two weeks, Django's SESSION_COOKIE_AGE
DEFAULT_SESSION_IDLE = 3600.0                        # option session_idle_timeout (0: off)
DEFAULT_PASSWORD_MIN_LENGTH = 8                      # option password_min_length
MAX_SESSIONS_PER_USER = 64                           # oldest sessions of a user are ended beyond this


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


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # hashlib's default maxmem (32 MiB) is below what larger N need: 128*r*(N+p+2) bytes, plus room
    with SCRYPT_AT_ONCE:
        return hashlib.scrypt(password.encode('utf-8'), salt=salt, n=n, r=r, p=p, dklen=dklen,
                              maxmem=128 * r * (n + p + 2) + (1 << 20))


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


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64encode(salt).decode()}${b64encode(digest).decode()}"


def check_password(password: str, encoded: str) -> bool:
    try:
        algo, n, r, p, salt, digest = encoded.split('$')
        if algo != 'scrypt' or int(n) > 2 ** 20 or int(r) > 32 or int(p) > 64:
            return False
        expected = b64decode(digest)
        actual = _scrypt(password, b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str) -> bool:
    """Whether a stored hash was made with other parameters than SCRYPT's."""
    return encoded.split('$')[:4] != ['scrypt', str(SCRYPT['n']), str(SCRYPT['r']), str(SCRYPT['p'])]


def username_errors(username: Any) -> List[str]:
    """Django 1.5 ``User.username`` validation, in DRF's list form."""
    if not isinstance(username, str) or not username:
        return ['This field is required.']
    errors = []
    if len(username) > USERNAME_MAX:
        errors.append(f'Ensure this value has at most {USERNAME_MAX} characters (it has {len(username)}).')
    if not USERNAME_RE.match(username):
        errors.append('Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ '
                      'characters.')
    return errors


def email_errors(email: Any) -> List[str]:
    if email is None or email == '':
        return []
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        return ['Enter a valid email address.']
    if len(email) > EMAIL_MAX:
        return [f'Ensure this value has at most {EMAIL_MAX} characters (it has {len(email)}).']
    return []


def same_origin(url: str, origin: str) -> bool:
    """Django's ``same_origin``: scheme, host and port equal."""
    try:
        a, b = urlsplit(url), urlsplit(origin)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.hostname is not None
    except ValueError:
        return False


class Principal:
    """Who a request runs as: a user (session) or an API token.  The role checks read only ``role``."""
    role: Optional[str] = None
    bearer = False                # authenticated by an API token: no cookie, so no CSRF check
    readonly = property(lambda self: self.role == 'readonly')
    superuser = property(lambda self: self.role == 'superuser')


class User(Principal):
    def __init__(self, record: Dict[str, Any]) -> None:
        self.record = record

    id = property(lambda self: self.record['id'])
    username = property(lambda self: self.record['username'])
    email = property(lambda self: self.record.get('email', ''))
    role = property(lambda self: self.record.get('role'))

    def to_api(self) -> Dict[str, Any]:
        return {'id': self.id, 'username': self.username, 'email': self.email}


def token_hash(token: str) -> str:
    """What the store keeps of a secret (session id, API token): its SHA-256."""
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class Auth:
    """All authentication state of the module.  ``store`` is a KVStore; ``options`` reads module options;
    ``clock`` is injectable for tests; ``secure_cookies`` says whether cookies get ``Secure`` even when
    the request itself did not arrive over TLS."""

    def __init__(self, store: KVStore, options: Callable[[str], Any], clock: Callable[[], float] = time.time,
                 secure_cookies: Callable[[], bool] = lambda: False, throttle: Optional[Throttle] = None) -> None:
        self._store = store
        self._option = options
        self._clock = clock
        self._secure = secure_cookies
        self._lock = threading.RLock()
        self._users: Dict[int, Dict[str, Any]] = {}
        self._sessions: Dict[str, Dict[str, Any]] = {}
        self._next_id = 1
        self._dummy_hash: Optional[str] = None
        self.throttle = throttle or Throttle(clock)
        self.load()

    # -- persistence ----------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            self._users = {int(k): v for k, v in self._store.prefix_json('user/').items() if k.isdigit()}
            self._sessions = self._store.prefix_json('session/')
            self._next_id = max([int(self._store.get_json('user_next_id', 1) or 1)] +
                                [i + 1 for i in self._users])
            self.expire_sessions()

    def session_expire(self) -> float:
        try:
            value = float(self._option('session_expire') or DEFAULT_SESSION_EXPIRE)
        except (TypeError, ValueError):
            value = DEFAULT_SESSION_EXPIRE
        return value if value > 0 else DEFAULT_SESSION_EXPIRE

    def session_idle_timeout(self) -> float:
        """Seconds a session may go unused (0: no idle timeout)."""
        try:
            value = float(self._option('session_idle_timeout') if self._option('session_idle_timeout') is not None
                          else DEFAULT_SESSION_IDLE)
        except (TypeError, ValueError):
            value = DEFAULT_SESSION_IDLE
        return max(value, 0.0)

    def password_errors(self, password: str) -> List[str]:
        """The password length rule (option password_min_length), in Django's validator words."""
        try:
            minimum = int(self._option('password_min_length') or DEFAULT_PASSWORD_MIN_LENGTH)
        except (TypeError, ValueError):
            minimum = DEFAULT_PASSWORD_MIN_LENGTH
        if len(password) < minimum:
            return [f'Ensure this value has at least {minimum} characters (it has {len(password)}).']
        return []

    def _idle(self, session: Dict[str, Any], now: float) -> bool:
        idle = self.session_idle_timeout()
        return idle > 0 and now - session.get('last_used', session.get('created', now)) > idle

    def expire_sessions(self) -> int:
        """Drop expired sessions and sessions of deleted users (memory and store); return how many."""
        now = self._clock()
        with self._lock:
            dead = self._pop_sessions([key for key, s in self._sessions.items()
                                       if s.get('expires', 0) <= now or s.get('user_id') not in self._users
                                       or self._idle(s, now)])
        self._delete_stored(dead)
        return len(dead)

    def _pop_sessions(self, keys: List[str]) -> List[str]:
        """Forget these sessions in memory (the caller holds the lock); return the keys that were live."""
        return [key for key in keys if self._sessions.pop(key, None) is not None]

    def _delete_stored(self, keys: List[str]) -> None:
        """Delete sessions from the store: a mon commit each, so never while holding the lock."""
        for key in keys:
            self._store.delete(f'session/{key}')

    def _save_user(self, record: Dict[str, Any]) -> None:
        self._store.set_json(f'user/{record["id"]}', record)
        self._users[record['id']] = record

    # -- users ----------------------------------------------------------------------------------
    def users(self) -> List[User]:
        with self._lock:
            return [User(dict(r)) for _, r in sorted(self._users.items())]

    def user_by_id(self, user_id: int) -> Optional[User]:
        with self._lock:
            record = self._users.get(user_id)
            return User(dict(record)) if record else None

    def user_by_name(self, username: str) -> Optional[User]:
        with self._lock:
            for record in self._users.values():
                if record['username'] == username:
                    return User(dict(record))
        return None

    @staticmethod
    def _check_role(role: Optional[str]) -> Optional[str]:
        if role == NO_ROLE or role is None:
            return None
        if role not in ROLES:
            raise ValueError(f'role must be one of {", ".join(ROLES + (NO_ROLE,))}')
        return role

    def create_user(self, username: str, password: str, email: str = '', role: Optional[str] = 'read/write') -> User:
        """Raise ValueError (bad field) or KeyError (username taken)."""
        role = self._check_role(role)
        errors = username_errors(username) or email_errors(email) or self.password_errors(password)
        if errors:
            raise ValueError(errors[0])
        password_hash = hash_password(password)     # slow: outside the lock
        with self._lock:
            if self.user_by_name(username):
                raise KeyError(username)
            user_id = self._next_id
            self._next_id += 1
            self._store.set_json('user_next_id', self._next_id)
            record = {'id': user_id, 'username': username, 'email': email or '', 'role': role,
                      'password': password_hash, 'password_changed': self._clock()}
            self._save_user(record)
        log.info('user %r created (id %d, role %s)', username, user_id, role or NO_ROLE)
        return User(dict(record))

    def update_user(self, user_id: int, keep_session: Optional[str] = None, **changes: Any) -> User:
        """Change ``username``, ``email``, ``password`` or ``role`` (a ``role`` key, even None, is applied).
        A new password ends the user's sessions except ``keep_session`` (a session key).
        Raise KeyError (no such user), ValueError (bad value) or FileExistsError (username taken)."""
        password = changes.pop('password', None)
        if 'role' in changes:
            changes['role'] = self._check_role(changes['role'])
        username = changes.get('username')
        if username is not None:
            errors = username_errors(username)
            if errors:
                raise ValueError(errors[0])
        if changes.get('email'):
            errors = email_errors(changes['email'])
            if errors:
                raise ValueError(errors[0])
        if password is not None and self.password_errors(password):
            raise ValueError(self.password_errors(password)[0])
        password_hash = hash_password(password) if password is not None else None
        with self._lock:
            record = dict(self._users[user_id])
            if username is not None and username != record['username'] and self.user_by_name(username):
                raise FileExistsError(username)
            record.update({k: v for k, v in changes.items() if v is not None or k == 'role'})
            if password_hash is not None:
                record['password'] = password_hash
                record['password_changed'] = self._clock()
            self._save_user(record)
            ended = self._end_user_sessions(user_id, keep=keep_session) if password_hash is not None else []
        self._delete_stored(ended)
        return User(dict(record))

    def delete_user(self, user_id: int) -> None:
        with self._lock:
            record = self._users.pop(user_id, None)
            self._store.delete(f'user/{user_id}')
            ended = self._end_user_sessions(user_id)
        self._delete_stored(ended)
        if record:
            log.info('user %r deleted', record['username'])

    def _end_user_sessions(self, user_id: int, keep: Optional[str] = None) -> List[str]:
        return self._pop_sessions([key for key, session in self._sessions.items()
                                   if session.get('user_id') == user_id and key != keep])

    def sessions_of(self, user_id: int) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.get('user_id') == user_id)

    # -- login / logout -------------------------------------------------------------------------
    def _verify(self, username: str, password: str) -> Optional[User]:
        """The user if the password is right.  An unknown user costs one scrypt too (no timing oracle)."""
        user = self.user_by_name(username)
        if user is None:
            if self._dummy_hash is None:
                self._dummy_hash = hash_password(secrets.token_urlsafe(16))
            check_password(password, self._dummy_hash)
            return None
        return user if check_password(password, user.record.get('password', '')) else None

    def login(self, request: ApiRequest, username: str, password: str) -> Tuple[str, str]:
        """Check credentials; return a new (session id, csrf token) or raise 401/429."""
        shown = username[:64]
        keys = login_keys(username, request.remote_addr)
        self.throttle.refuse(keys, 'login', f'{shown!r} from {request.remote_addr}')
        user = self._verify(username, password)
        if user is None:
            self.throttle.failed(keys)
            log.warning('failed login for %r from %s', shown, request.remote_addr)
            raise ApiError(401, {'message': 'User authentication failed'})
        self.throttle.succeeded(keys[0])
        self._rehash(user, password)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            self.logout(old)
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self._clock()
        session = {'user_id': user.id, 'csrf': csrf, 'created': now, 'expires': now + self.session_expire(),
                   'last_used': now}
        key = token_hash(session_id)
        self.expire_sessions()
        with self._lock:
            self._sessions[key] = session
            mine = sorted((s['created'], k) for k, s in self._sessions.items() if s.get('user_id') == user.id)
            dropped = self._pop_sessions([old_key for _, old_key in mine[:-MAX_SESSIONS_PER_USER]])
        self._store.set_json(f'session/{key}', session)
        self._delete_stored(dropped)
        log.info('user %r logged in from %s', shown, request.remote_addr)
        return session_id, csrf

    def _rehash(self, user: User, password: str) -> None:
        """After a successful login: a hash made with older scrypt parameters is made again with SCRYPT's."""
        if not needs_rehash(user.record.get('password', '')):
            return
        password_hash = hash_password(password)     # slow: outside the lock
        with self._lock:
            record = self._users.get(user.id)
            if record is None or record.get('password') != user.record.get('password'):
                return                              # deleted or changed meanwhile
            self._save_user(dict(record, password=password_hash))
        log.info('password hash of user %r upgraded to scrypt N=%d r=%d p=%d', user.username, SCRYPT['n'],
                 SCRYPT['r'], SCRYPT['p'])

    def logout(self, session_id: Optional[str]) -> None:
        if not session_id:
            return
        key = token_hash(session_id)
        with self._lock:
            ended = self._pop_sessions([key])
        self._delete_stored(ended)

    def session_key(self, request: ApiRequest) -> Optional[str]:
        session_id = request.cookies.get(SESSION_COOKIE)
        return token_hash(session_id) if session_id else None

    def _session(self, request: ApiRequest) -> Optional[Dict[str, Any]]:
        key = self.session_key(request)
        if key is None:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if session['expires'] > now and session['user_id'] in self._users and not self._idle(session, now):
                persist = self._note_use(session, now)
                if persist is None:
                    return session
            else:
                persist = None
                ended = self._pop_sessions([key])
        if persist is not None:
            self._store.set_json(f'session/{key}', persist)
            return session
        self._delete_stored(ended)
        return None

    def _note_use(self, session: Dict[str, Any], now: float) -> Optional[Dict[str, Any]]:
        """Record a session's use (the caller holds the lock); what to write to the store when the stored last use
        is older than a quarter of the idle timeout (1 to 15 minutes), else None: a KV write is a mon commit."""
        session['last_used'] = now
        idle = self.session_idle_timeout()
        if idle <= 0:
            return None
        stored = session.get('stored_use', session.get('created', now))
        if now - stored < min(max(idle / 4, 60.0), 900.0):
            return None
        session['stored_use'] = now
        return dict(session)

    def session_csrf(self, request: ApiRequest) -> Optional[str]:
        session = self._session(request)
        return session['csrf'] if session else None

    # -- the checks the dispatcher runs ---------------------------------------------------------
    def current_user(self, request: ApiRequest) -> Optional[User]:
        session = self._session(request)
        return self.user_by_id(session['user_id']) if session else None

    def authenticate(self, request: ApiRequest) -> User:
        user = self.current_user(request)
        if user is None:
            raise detail(403, NOT_AUTHENTICATED)
        return user

    def check_csrf(self, request: ApiRequest) -> None:
        """Django 1.5's CsrfViewMiddleware for an authenticated session (same order and messages), with
        the token also bound to the session: the cookie must be this session's token."""
        if request.scheme == 'https':
            referer = request.headers.get('Referer')
            if not referer:
                raise detail(403, 'CSRF Failed: Referer checking failed - no Referer.')
            good = f'{request.base_url}/'
            if not same_origin(referer, good):
                raise detail(403, f'CSRF Failed: Referer checking failed - {referer} does not match {good}.')
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie:
            raise detail(403, 'CSRF Failed: CSRF cookie not set.')
        header = next((request.headers[h] for h in CSRF_HEADERS if request.headers.get(h)), '')
        session = self._session(request)
        expected = session['csrf'] if session else cookie
        if not (hmac.compare_digest(header.encode(), cookie.encode())
                and hmac.compare_digest(cookie.encode(), expected.encode())):
            raise detail(403, 'CSRF Failed: CSRF token missing or incorrect.')

    def check_csrf_if_logged_in(self, request: ApiRequest) -> None:
        """Public unsafe routes (login, logout): CSRF applies only to an already-authenticated session."""
        if self._session(request) is not None:
            request.user = self.current_user(request)
            self.check_csrf(request)

    @staticmethod
    def check_role(request: ApiRequest) -> None:
        """Calamari's IsRoleAllowed: readonly → safe methods only; read/write and superuser → all; no role → none."""
        user = request.user
        if user.role not in ROLES:
            raise permission_denied()
        if user.readonly and request.method not in ('GET', 'HEAD', 'OPTIONS'):
            raise permission_denied()

    # -- cookies --------------------------------------------------------------------------------
    def set_session_cookies(self, request: ApiRequest, session_id: str, csrf: str) -> None:
        request.set_cookies.append((SESSION_COOKIE, session_id, {'httponly': True}))
        request.set_cookies.append((CSRF_COOKIE, csrf, {}))

    def finish_response(self, request: ApiRequest, response: Any, endpoint: Any) -> None:
        """Write the cookies handlers asked for, with the right attributes."""
        expire = int(self.session_expire())
        for name, value, attrs in request.set_cookies:
            cookie = response.cookie
            cookie[name] = value
            cookie[name]['path'] = '/'
            cookie[name]['max-age'] = 0 if value == '' else expire
            cookie[name]['expires'] = 0 if value == '' else expire
            if attrs.get('httponly'):
                cookie[name]['httponly'] = True
            cookie[name]['samesite'] = 'Lax'
            if request.scheme == 'https' or self._secure():
                cookie[name]['secure'] = True
        if request.set_cookies:
            # Django's never_cache on login/logout: responses that set credentials are never cached.
            response.headers['Cache-Control'] = 'no-cache, no-store, must-revalidate, max-age=0'
            response.headers['Expires'] = 'Thu, 01 Jan 1970 00:00:00 GMT'
