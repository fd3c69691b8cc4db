"""Sessions, login and logout, CSRF and the role check, Calamari-compatible, kept in the mgr KV store.

Calamari used Django sessions: a ``calamari_sessionid`` cookie (HttpOnly) and an ``XSRF-TOKEN`` cookie
that JavaScript reads and echoes in ``X-XSRF-TOKEN`` (or ``X-CSRFToken``) on unsafe methods.  Here a
session is a random id whose SHA-256 is the store key (``session/<hash>``), so a leaked store does not
leak live sessions; its CSRF token is bound to it and rotated at login.  Users are ``user/<id>`` records
with scrypt hashes.  Everything is loaded at start, so sessions and users survive a mgr failover.
Nothing here logs a password, a session id or a CSRF token.
"""
import hmac
import logging
import secrets
import time
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from ..web.http import ApiError, ApiRequest, detail
from ..store import KVStore
from .throttle import Throttle, login_keys
from .users import User, Users, token_hash

log = logging.getLogger(__name__)

SESSION_COOKIE = 'calamari_sessionid'
CSRF_COOKIE = 'XSRF-TOKEN'
CSRF_HEADERS = ('X-Xsrf-Token', 'X-Csrftoken')      # AngularCSRFRename: X-XSRF-TOKEN wins over X-CSRFToken
NOT_AUTHENTICATED = 'Authentication credentials were not provided.'
DEFAULT_SESSION_EXPIRE = 1209600.0                   # two weeks, Django's SESSION_COOKIE_AGE
DEFAULT_SESSION_IDLE = 3600.0                        # option session_idle_timeout (0: off)
MAX_SESSIONS_PER_USER = 64                           # oldest sessions of a user are ended beyond this


def same_origin(url: str, origin: str) -> bool:
    """Django's ``same_origin``: scheme, host and port equal."""
    try:
        a, b = urlsplit(url), urlsplit(origin)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.hostname is not None
    except ValueError:
        return False


class Auth(Users):
    """All authentication state of the module.  ``store`` is a KVStore; ``options`` reads module options;
    ``clock`` is injectable for tests; ``secure_cookies`` says whether cookies get ``Secure`` even when
    the request itself did not arrive over TLS."""

    def __init__(self, store: KVStore, options: Callable[[str], Any], clock: Callable[[], float] = time.time,
                 secure_cookies: Callable[[], bool] = lambda: False, throttle: Optional[Throttle] = None) -> None:
        super().__init__(store, options, clock)
        self._secure = secure_cookies
        self._sessions: Dict[str, Dict[str, Any]] = {}
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
        setting = self._option('session_idle_timeout')
        try:
            value = float(setting if setting is not None else DEFAULT_SESSION_IDLE)
        except (TypeError, ValueError):
            value = DEFAULT_SESSION_IDLE
        return max(value, 0.0)

    @staticmethod
    def _idle(session: Dict[str, Any], now: float, idle: float) -> bool:
        """Whether the session went unused for longer than ``idle`` seconds (0: never)."""
        return idle > 0 and now - session.get('last_used', session.get('created', now)) > idle

    def expire_sessions(self) -> int:
        """Drop expired sessions and sessions of deleted users (memory and store); return how many."""
        now, idle = self._clock(), self.session_idle_timeout()
        with self._lock:
            dead = self._pop_sessions([key for key, s in self._sessions.items()
                                       if s.get('expires', 0) <= now or s.get('user_id') not in self._users
                                       or self._idle(s, now, idle)])
        self._delete_stored(dead)
        return len(dead)

    def _pop_sessions(self, keys: List[str]) -> List[str]:
        """Forget these sessions in memory (the caller holds the lock); return the keys that were live."""
        return [key for key in keys if self._sessions.pop(key, None) is not None]

    def _delete_stored(self, keys: List[str]) -> None:
        """Delete sessions from the store: a mon commit each, so never while holding the lock."""
        for key in keys:
            self._store.delete(f'session/{key}')

    # -- sessions of users ----------------------------------------------------------------------
    def _end_user_sessions(self, user_id: int, keep: Optional[str] = None) -> List[str]:
        return self._pop_sessions([key for key, session in self._sessions.items()
                                   if session.get('user_id') == user_id and key != keep])

    def sessions_of(self, user_id: int) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.get('user_id') == user_id)

    # -- login / logout -------------------------------------------------------------------------
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
        now, idle = self._clock(), self.session_idle_timeout()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if session['expires'] > now and session['user_id'] in self._users and not self._idle(session, now, idle):
                persist = self._note_use(session, now, idle)
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

    @staticmethod
    def _note_use(session: Dict[str, Any], now: float, idle: float) -> Optional[Dict[str, Any]]:
        """Record a session's use (the caller holds the lock); what to write to the store when the stored last use
        is older than a quarter of the idle timeout (1 to 15 minutes), else None: a KV write is a mon commit."""
        session['last_used'] = now
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
