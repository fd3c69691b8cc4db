"""ceph-mgr glue: options, lifecycle, notifications and CLI registration.  The work is done elsewhere:
``web`` (HTTP), ``services`` (state), ``admin_commands`` (CLI)."""
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Dict, NamedTuple, Optional, Tuple

from mgr_module import MgrModule, MgrStandbyModule, NotifyType, Option

from . import admin_commands  # noqa: F401  (registers the CLI commands)
from .restful import cli as restful_cli  # noqa: F401  (registers restful's key commands)
from .compat import CLICommand
from .option_cache import OptionCache
from .web.server import DEFAULT_TLS_CIPHERS, DEFAULT_TLS_MIN_VERSION, TLS_VERSIONS, HttpServer, ServerConfigError, \
    TlsSettings, public_uri

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)
RETRY_SECONDS = 3.0
CERT_CHECK_SECONDS = 3600.0         # how often a running server looks at its certificate's expiry again

OPTIONS = [
    Option(name='server_addr', type='str', default='::', desc='address to listen on'),
    Option(name='server_port', type='int', default=8002, desc='port to listen on'),
    Option(name='ssl', type='bool', default=True, desc='serve HTTPS (certificate: create-self-signed-cert)'),
    Option(name='server_threads', type='int', default=4, min=2, max=64,
           desc='HTTP worker threads (fewer serve fast clients faster: they share one GIL, and each thread more adds '
                'hand-overs of it; slow clients hold none while they send their request)'),
    Option(name='session_expire', type='secs', default=1209600, desc='session lifetime in seconds'),
    Option(name='session_idle_timeout', type='secs', default=3600, min=0,
           desc='a session unused for this many seconds ends (0: only session_expire ends it)'),
    Option(name='password_min_length', type='int', default=8, min=1, max=1024,
           desc='shortest password accepted when a user is created or a password changed'),
    Option(name='ssl_min_version', type='str', default=DEFAULT_TLS_MIN_VERSION, enum_allowed=list(TLS_VERSIONS),
           desc='lowest TLS version served'),
    Option(name='ssl_ciphers', type='str', default=DEFAULT_TLS_CIPHERS,
           desc='TLS 1.2 cipher list (OpenSSL syntax; default: Mozilla intermediate, forward-secret only)'),
    Option(name='ssl_cert_warn_days', type='int', default=30, min=0,
           desc='raise CALAMARI_API_CERT_EXPIRING this many days before the certificate expires (0: never)'),
    Option(name='request_history', type='int', default=1000, min=10, desc='finished requests kept'),
    Option(name='request_timeout', type='secs', default=300, min=5,
           desc='a request step (mon command, PG creation) that takes longer fails'),
    Option(name='event_history', type='int', default=5000, min=10, desc='events kept'),
    Option(name='auto_accept_keys', type='bool', default=True, desc='new hosts start accepted, not "pre"'),
    Option(name='history_interval', type='secs', default=60, min=1,
           desc='seconds between samples of the graphite history (1-minute points for a day, 15-minute for 7 days '
                'at 60); a change starts a new history'),
    Option(name='ui_path', type='str', default='',
           desc='a calamari-clients tree (login/, manage/, dashboard/, admin/) to serve at /; empty: none'),
    Option(name='restful_enabled', type='bool', default=False,
           desc="serve restful's API (the mgr restful module's URLs, keys and requests) on a listener of its own"),
    Option(name='restful_server_addr', type='str', default='::', desc="address restful's API listens on"),
    Option(name='restful_server_port', type='int', default=8003, desc="port restful's API listens on"),
    Option(name='restful_ssl', type='bool', default=True, desc="serve restful's API over HTTPS"),
    Option(name='restful_use_restful_cert', type='bool', default=False,
           desc="serve restful's API with the certificate the restful module left (mgr/restful/<mgr id>/crt|key "
                "or mgr/restful/crt|key); off: the one of restful create-self-signed-cert, else the module's"),
    Option(name='allow_secret_commands', type='bool', default=False,
           desc='let the cli route (and restful /request) run commands that reveal or change cluster secrets '
                '(auth, config-key, ...: see command_policy.py)'),
    Option(name='max_requests_in_flight', type='int', default=64, min=0,
           desc='unfinished requests one user or token may have (429 beyond); 0: no cap'),
    Option(name='bench_fixed_body', type='bool', default=False,
           desc='benchmark only: at the next start of the module, also route GET /api/v2/bench/fixed (a fixed-size '
                'body through the full path; not in the OpenAPI document)'),
    Option(name='fault_kill_at', type='str', default='',
           desc='test only: "<mgr name>:<point>" SIGKILLs that mgr at a point of the request engine (accepted, '
                'stored, between_steps, before_send); empty: off'),
]


NO_CERT = 'ssl is on but no certificate is configured: run "ceph calamari-api create-self-signed-cert" ' \
          '(or set-ssl-certificate and set-ssl-certificate-key), or set mgr/calamari_api/ssl to false'


def _tls_pem(mgr: MgrModule) -> Optional[Tuple[str, str]]:
    """The certificate and key from the KV store (keys 'crt' and 'key'), or None if either is missing."""
    cert, key = mgr.get_store('crt'), mgr.get_store('key')
    return (cert, key) if cert and key else None


def _tls_settings(mgr: MgrModule) -> Optional[TlsSettings]:
    """The TLS the server is started with: the stored certificate and key, the options; None without both."""
    pem = _tls_pem(mgr)
    if pem is None:
        return None
    return TlsSettings(pem[0], pem[1], str(mgr.get_module_option('ssl_min_version') or ''),
                       str(mgr.get_module_option('ssl_ciphers') or ''))


def cert_expiry_check(not_after: Optional[float], warn_days: int, now: float) -> Optional[Dict[str, Any]]:
    """The CALAMARI_API_CERT_EXPIRING health check for a certificate valid until ``not_after``, or None."""
    if not_after is None or warn_days <= 0 or not_after - now > warn_days * 86400:
        return None
    days = (not_after - now) / 86400
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(not_after))
    summary = (f'calamari_api: the TLS certificate expired on {when}' if days <= 0 else
               f'calamari_api: the TLS certificate expires in {max(days, 0):.0f} days ({when})')
    return {'severity': 'warning', 'summary': summary, 'count': 1,
            'detail': ['renew it: "ceph calamari-api set-ssl-certificate -i <pem>" and set-ssl-certificate-key, '
                       'or create-self-signed-cert']}


class ListenOptions(NamedTuple):
    """What the servers are started with; a change restarts them."""
    addr: str
    port: int
    ssl: bool
    threads: int
    ssl_min_version: str
    ssl_ciphers: str
    restful: Optional[Tuple[str, int, bool, bool]] = None   # restful's listener (addr, port, ssl, restful's cert)


def _listen_options(mgr: MgrModule) -> ListenOptions:
    addr = mgr.get_localized_module_option('server_addr', mgr.get_module_option('server_addr'))
    port = mgr.get_localized_module_option('server_port', mgr.get_module_option('server_port'))
    restful = None
    if mgr.get_module_option('restful_enabled'):
        restful = (str(mgr.get_localized_module_option('restful_server_addr',
                                                       mgr.get_module_option('restful_server_addr'))),
                   int(mgr.get_localized_module_option('restful_server_port',
                                                       mgr.get_module_option('restful_server_port'))),
                   bool(mgr.get_module_option('restful_ssl')), bool(mgr.get_module_option('restful_use_restful_cert')))
    return ListenOptions(str(addr), int(port), bool(mgr.get_module_option('ssl')),
                         int(mgr.get_module_option('server_threads')),
                         str(mgr.get_module_option('ssl_min_version') or ''),
                         str(mgr.get_module_option('ssl_ciphers') or ''), restful)


class Module(MgrModule):
    MODULE_OPTIONS = OPTIONS
    CLICommand = CLICommand         # the registry admin_commands fills (see compat)
    NOTIFY_TYPES = [NotifyType.command, NotifyType.osd_map, NotifyType.mon_map, NotifyType.health,
                    NotifyType.pg_summary, NotifyType.fs_map, NotifyType.clog]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._services: Optional['Services'] = None
        self._ready = threading.Event()
        self._listening: Optional[ListenOptions] = None
        self._listen_lock = threading.Lock()     # the options read and the restart flag cleared together
        self._restful_only = False               # the restart asked for is restful's listener's alone
        self._no_cert_reported = False
        self._restful_problem = ''      # why restful's listener is not serving, as last logged
        self._health: Dict[str, Dict[str, Any]] = {}
        self._cert_not_after: Optional[float] = None
        self._option_cache = OptionCache(self.get_module_option)

    @staticmethod
    def can_run() -> Tuple[bool, str]:
        try:
            import cherrypy  # noqa: F401
            import cheroot  # noqa: F401
        except ImportError as e:
            return False, f'Missing dependency: CherryPy ({e}); install python3-cherrypy3'
        try:
            import routes  # noqa: F401
        except ImportError as e:
            return False, f'Missing dependency: Routes ({e}); install python3-routes'
        return True, ''

    @property
    def services(self) -> 'Services':
        if self._services is None:
            from .services import Services
            self._services = Services(self, self._option_cache)
        return self._services

    # -- lifecycle ------------------------------------------------------------------------------
    def serve(self) -> None:
        from .web.app import CalamariApp
        app = CalamariApp(self.services)
        self.services.start()
        self._ready.set()
        while not self._stop.is_set():
            with self._listen_lock:
                self._restart.clear()
                self._listening = options = _listen_options(self)
            if self._stop.is_set():             # (shutdown sets it before the restart flag this cleared)
                break
            server = self._start_server(app.wsgi, options)
            restful = self._start_restful(options)
            self._cert_not_after = server.cert_not_after if server else None
            # Not serving (port taken, e.g. by a standby that has not let go yet; no certificate): retry.  Serving:
            # look at the certificate's expiry now and then.  Only restful's listener not serving (its port held by
            # Pacific's restful module): retry it alone.
            while True:
                self._check_certificate()
                restful_pending = bool(options.restful) and restful is None
                wait = RETRY_SECONDS if not server or restful_pending else CERT_CHECK_SECONDS
                if self._restart.wait(wait) or not server:
                    if server and self._take_restful_only():
                        if restful:
                            restful.stop()
                        restful = self._start_restful(options)
                        continue
                    break
                if restful_pending:
                    restful = self._start_restful(options)
            for running in (server, restful):
                if running:
                    running.stop()
        self.services.stop()

    def _start_server(self, wsgi_app: Any, options: ListenOptions) -> Optional[HttpServer]:
        addr, port, ssl, threads = options.addr, options.port, options.ssl, options.threads
        pem = None
        if ssl:
            pem = _tls_pem(self)
            if pem is None:
                if not self._no_cert_reported:            # once, not at every retry
                    log.warning(NO_CERT)
                    self._set_health('CALAMARI_API_NO_CERT', {
                        'severity': 'warning', 'summary': 'calamari_api: no TLS certificate, not serving',
                        'count': 1, 'detail': [NO_CERT]})
                    self._no_cert_reported = True
                self.set_uri('')
                return None
        if self._no_cert_reported:
            self._set_health('CALAMARI_API_NO_CERT', None)
            self._no_cert_reported = False
        try:
            server = HttpServer(wsgi_app, addr, port, threads=threads, tls=_tls_settings(self) if ssl else None)
            server.start()
        except ServerConfigError as e:
            log.error('not serving: %s', e)
            return None
        uri = public_uri(server.scheme, addr, port, self.get_mgr_ip())
        self.set_uri(uri)
        log.info('serving the Calamari API at %sapi/v2/', uri)
        return server

    def _set_health(self, name: str, check: Optional[Dict[str, Any]]) -> None:
        """Raise (a dict) or clear (None) one of the module's health checks, keeping the others."""
        if check is None:
            if self._health.pop(name, None) is None:
                return
        elif self._health.get(name) == check:
            return
        else:
            self._health[name] = check
        self.set_health_checks(dict(self._health))

    def _check_certificate(self) -> None:
        warn_days = int(self.get_module_option('ssl_cert_warn_days') or 0)
        self._set_health('CALAMARI_API_CERT_EXPIRING', cert_expiry_check(self._cert_not_after, warn_days, time.time()))

    def _start_restful(self, options: ListenOptions) -> Optional[HttpServer]:
        """restful's listener (``restful/``).  Its URI is logged: ``ceph mgr services`` lists one URI per module, the
        API's."""
        if not options.restful:
            return None
        from .restful.app import RestfulApp
        from .restful.tls import restful_pem
        addr, port, ssl, restful_cert = options.restful
        pem = restful_pem(self, self.services, restful_cert) if ssl else None
        if ssl and pem is None:
            self._restful_not_serving(f'ssl is on but no certificate is configured (restful_use_restful_cert: '
                                      f'{restful_cert})')
            return None
        try:
            tls = TlsSettings(pem[0], pem[1], options.ssl_min_version, options.ssl_ciphers) if pem else None
            server = HttpServer(RestfulApp(self.services, self.services.restful), addr, port, threads=options.threads,
                                tls=tls)
            server.start()
        except ServerConfigError as e:
            self._restful_not_serving(str(e))
            return None
        self._restful_problem = ''
        self.services.restful.keys.import_restful()
        log.info("serving restful's API at %s", public_uri(server.scheme, addr, port, self.get_mgr_ip()))
        return server

    def _restful_not_serving(self, problem: str) -> None:
        """Logged once per problem, not at every retry."""
        if problem != self._restful_problem:
            log.warning("restful: not serving restful's API: %s (retrying)", problem)
        self._restful_problem = problem

    def restart_server(self) -> None:
        with self._listen_lock:
            self._restful_only = False
            self._restart.set()

    def restart_restful(self) -> None:
        """Only restful's listener (its certificate changed): the API's own connections stay up."""
        with self._listen_lock:
            if not self._restart.is_set():
                self._restful_only = True
            self._restart.set()

    def _take_restful_only(self) -> bool:
        """Whether the restart asked for is restful's listener's alone (then it is taken: the flag cleared)."""
        with self._listen_lock:
            if self._restful_only and self._restart.is_set() and not self._stop.is_set():
                self._restful_only = False
                self._restart.clear()
                return True
            return False

    def config_notify(self) -> None:
        """Options are read where they are used (kept by ``OptionCache`` until this); only a new address, port or
        TLS setting needs a restart."""
        self._option_cache.forget()
        if self._ready.is_set():
            self.services.history.wake()        # history_interval
            self._check_certificate()           # ssl_cert_warn_days
        # (Pacific may notify twice for one change: the second must not restart a server that has the new options)
        with self._listen_lock:
            if _listen_options(self) != self._listening:
                self._restful_only = False
                self._restart.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._restart.set()
        super().shutdown()

    def notify(self, notify_type: str, notify_id: Any) -> None:
        if self._ready.is_set():
            self.services.notify(str(notify_type), notify_id)


class StandbyModule(MgrStandbyModule):
    """On a standby mgr: answer every API call with a 503 that points at the active mgr."""
    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()

    def _app(self, environ: Any, start_response: Any) -> Any:
        active = self.get_active_uri()
        message = ('This ceph-mgr is a standby; the Calamari API is served by the active mgr'
                   + (f' at {active}' if active else ' (none is active right now)'))
        body = json.dumps({'detail': message}).encode()
        headers = [('Content-Type', 'application/json'), ('Content-Length', str(len(body))), ('Retry-After', '5')]
        start_response('503 Service Unavailable', headers)
        return [body]

    def serve(self) -> None:
        server = None
        while server is None and not self._stop.is_set():
            options = _listen_options(self)
            try:
                # Over TLS like the active mgr, so an https client gets the 503 rather than a handshake error.
                server = HttpServer(self._app, options.addr, options.port, threads=4,
                                    tls=_tls_settings(self) if options.ssl else None)
                server.start()
            except ServerConfigError as e:
                log.info('standby not serving yet: %s', e)
                server = None
                self._stop.wait(RETRY_SECONDS)
        self._stop.wait()
        if server:
            server.stop()

    def shutdown(self) -> None:
        self._stop.set()
