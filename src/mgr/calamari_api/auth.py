"""Users, roles, sessions, CSRF and login throttling, Calamari-compatible and kept in the mgr KV store.

Calamari used Django sessions: a ``calamari_sessionid`` cookie (HttpOnly) and an ``XSRF-TOKEN`` cookie
that JavaScript reads and echoes in ``X-XSRF-TOKEN`` (or ``X-CSRFToken``) on unsafe methods.  Here a
session is a random id whose SHA-256 is the store key (``session/<hash>``), so a leaked store does not
leak live sessions; its CSRF token is bound to it and rotated at login.
"""
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from typing import Any, Callable, Dict, List, Optional, Tuple

from .http import ApiError, ApiRequest, detail, permission_denied
from .store import KVStore

log = logging.getLogger(__name__)

SESSION_COOKIE = 'calamari_sessionid'
CSRF_COOKIE = 'XSRF-TOKEN'
CSRF_HEADERS = ('X-Xsrf-Token', 'X-Csrftoken')
ROLES = ('readonly', 'read/write', 'superuser')
USERNAME_RE = re.compile(r'^[\w.@+-]+$', re.ASCII)
USERNAME_MAX = 30
NOT_AUTHENTICATED = 'Authentication credentials were not provided.'
SCRYPT = {'n': 2 ** 14, 'r': 8, 'p': 1}

# Login throttling: after THROTTLE_FAILURES failures within THROTTLE_WINDOW seconds for one username or one
# address, further attempts are refused with 429 until the window has passed since the last failure.
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = 300.0


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode('utf-8'), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64encode(salt).decode()}${b64encode(digest).decode()}"


def check_password(password: str, encoded: str) -> bool:
    try:
        algo, n, r, p, salt, digest = encoded.split('$')
        if algo != 'scrypt':
            return False
        expected = b64decode(digest)
        actual = hashlib.scrypt(password.encode('utf-8'), salt=b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def username_errors(username: Any) -> List[str]:
    if not isinstance(username, str) or not username:
        return ['This field is required.']
    errors = []
    if len(username) > USERNAME_MAX:
        errors.append(f'Ensure this value has at most {USERNAME_MAX} characters (it has {len(username)}).')
    if not USERNAME_RE.match(username):
        errors.append('Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ '
                      'characters.')
    return errors


class User:
    def __init__(self, record: Dict[str, Any]) -> None:
        self.record = record

    id = property(lambda self: self.record['id'])
    username = property(lambda self: self.record['username'])
    email = property(lambda self: self.record.get('email', ''))
    role = property(lambda self: self.record.get('role'))
    readonly = property(lambda self: self.role == 'readonly')
    superuser = property(lambda self: self.role == 'superuser')

    def to_api(self) -> Dict[str, Any]:
        return {'id': self.id, 'username': self.username, 'email': self.email}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class Auth:
    """All authentication state of the module.  ``store`` is a KVStore; ``options`` reads module options."""

    def __init__(self, store: KVStore, options: Callable[[str], Any], clock: Callable[[], float] = time.time,
                 secure_cookies: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._option = options
        self._clock = clock
        self._secure = secure_cookies
        self._lock = threading.RLock()
        self._users: Dict[int, Dict[str, Any]] = {}
        self._sessions: Dict[str, Dict[str, Any]] = {}
        self._failures: Dict[str, List[float]] = {}
        self.load()

    # -- persistence ----------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            self._users = {int(k): v for k, v in self._store.prefix_json('user/').items() if k.isdigit()}
            self._sessions = self._store.prefix_json('session/')
            self.expire_sessions()

    def expire_sessions(self) -> None:
        now = self._clock()
        with self._lock:
            dead = [key for key, s in self._sessions.items()
                    if s.get('expires', 0) <= now or s.get('user_id') not in self._users]
            for key in dead:
                self._drop_session(key)

    def _drop_session(self, key: str) -> None:
        self._sessions.pop(key, None)
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

    def create_user(self, username: str, password: str, email: str = '', role: str = 'read/write') -> User:
        if role not in ROLES:
            raise ValueError(f'role must be one of {", ".join(ROLES)}')
        errors = username_errors(username)
        if errors:
            raise ValueError(errors[0])
        with self._lock:
            if self.user_by_name(username):
                raise KeyError(username)
            user_id = max(self._users, default=0) + 1
            record = {'id': user_id, 'username': username, 'email': email or '', 'role': role,
                      'password': hash_password(password), 'password_changed': self._clock()}
            self._save_user(record)
            return User(dict(record))

    def update_user(self, user_id: int, keep_session: Optional[str] = None, **changes: Any) -> User:
        with self._lock:
            record = dict(self._users[user_id])
            password = changes.pop('password', None)
            record.update({k: v for k, v in changes.items() if v is not None})
            if password is not None:
                record['password'] = hash_password(password)
                record['password_changed'] = self._clock()
            self._save_user(record)
            if password is not None:
                self._end_user_sessions(user_id, keep=keep_session)
            return User(dict(record))

    def delete_user(self, user_id: int) -> None:
        with self._lock:
            self._users.pop(user_id, None)
            self._store.delete(f'user/{user_id}')
            self._end_user_sessions(user_id)

    def _end_user_sessions(self, user_id: int, keep: Optional[str] = None) -> None:
        for key, session in list(self._sessions.items()):
            if session.get('user_id') == user_id and key != keep:
                self._drop_session(key)

    # -- login / logout -------------------------------------------------------------------------
    def _throttled(self, keys: Tuple[str, ...]) -> float:
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < THROTTLE_WINDOW]
                self._failures[key] = recent
                if len(recent) >= THROTTLE_FAILURES:
                    wait = max(wait, THROTTLE_WINDOW - (now - recent[-1]))
        return wait

    def login(self, request: ApiRequest, username: str, password: str) -> Tuple[str, str]:
        """Check credentials; return a new (session id, csrf token) or raise 401/429."""
        keys = (f'user:{username}', f'addr:{request.remote_addr}')
        wait = self._throttled(keys)
        if wait > 0:
            log.warning('login refused for %r from %s: too many failed attempts', username, request.remote_addr)
            raise ApiError(429, {'detail': f'Too many failed login attempts; try again in {int(wait) + 1} seconds'},
                           headers={'Retry-After': str(int(wait) + 1)})
        user = self.user_by_name(username)
        if user is None or not check_password(password, user.record.get('password', '')):
            with self._lock:
                for key in keys:
                    self._failures.setdefault(key, []).append(self._clock())
            log.warning('failed login for %r from %s', username, request.remote_addr)
            raise ApiError(401, {'message': 'User authentication failed'})
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            self.logout(old)
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self._clock()
        session = {'user_id': user.id, 'csrf': csrf, 'created': now,
                   'expires': now + float(self._option('session_expire') or 1209600)}
        key = _token_hash(session_id)
        with self._lock:
            self._sessions[key] = session
        self._store.set_json(f'session/{key}', session)
        log.info('user %r logged in from %s', username, request.remote_addr)
        return session_id, csrf

    def logout(self, session_id: Optional[str]) -> None:
        if not session_id:
            return
        key = _token_hash(session_id)
        with self._lock:
            if key in self._sessions:
                self._drop_session(key)

    def session_key(self, request: ApiRequest) -> Optional[str]:
        session_id = request.cookies.get(SESSION_COOKIE)
        return _token_hash(session_id) if session_id else None

    def _session(self, request: ApiRequest) -> Optional[Dict[str, Any]]:
        key = self.session_key(request)
        if key is None:
            return None
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if session['expires'] <= self._clock() or session['user_id'] not in self._users:
                self._drop_session(key)
                return None
            return session

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
        """Django 1.5's CsrfViewMiddleware for an authenticated session, with the token bound to it."""
        if request.scheme == 'https':
            referer = request.headers.get('Referer')
            if not referer:
                raise detail(403, 'CSRF Failed: Referer checking failed - no Referer.')
            good = f'{request.base_url}/'
            if not referer.startswith(good):
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
        expire = int(float(self._option('session_expire') or 1209600))
        for name, value, attrs in request.set_cookies:
            cookie = response.cookie
            cookie[name] = value
            cookie[name]['path'] = '/'
            if value == '':
                cookie[name]['max-age'] = 0
            else:
                cookie[name]['max-age'] = expire
            if attrs.get('httponly'):
                cookie[name]['httponly'] = True
            cookie[name]['samesite'] = 'Lax'
            if request.scheme == 'https' or self._secure():
                cookie[name]['secure'] = True
