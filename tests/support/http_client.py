"""An HTTP client for the integration tier: real sockets, a cookie jar, Calamari's XSRF header."""
import http.client
import json
import ssl
import warnings
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from tests.support.wsgi_client import ClientBase, WsgiResponse


def tls11_client_context() -> ssl.SSLContext:
    """A client that only speaks TLS 1.1 (which the server must refuse), certificates unchecked."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.set_ciphers('ALL:@SECLEVEL=0')
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


class HttpClient(ClientBase):
    def __init__(self, base: str, verify: bool = False, timeout: float = 60, bearer: Optional[str] = None,
                 source_address: Optional[str] = None) -> None:
        parts = urlsplit(base)
        self.bearer = bearer
        self.source = (source_address, 0) if source_address else None      # e.g. another 127.x address
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.base = base.rstrip('/')
        self.timeout = timeout
        self.context = None if verify or self.scheme == 'http' else ssl._create_unverified_context()
        self.cookies: Dict[str, str] = {}

    def rebase(self, base: str) -> None:
        """Talk to another mgr (after a failover), keeping the cookies."""
        parts = urlsplit(base)
        self.scheme, self.netloc, self.base = parts.scheme, parts.netloc, base.rstrip('/')

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == 'https':
            return http.client.HTTPSConnection(self.netloc, timeout=self.timeout, context=self.context,
                                               source_address=self.source)
        return http.client.HTTPConnection(self.netloc, timeout=self.timeout, source_address=self.source)

    def request(self, method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
                raw: Optional[bytes] = None, csrf: bool = True) -> WsgiResponse:
        path = url if url.startswith('/') else '/' + url
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        send_headers = {'Accept': 'application/json'}
        if data is not None:
            send_headers['Content-Type'] = 'application/json'
        elif method in ('POST', 'PUT', 'PATCH', 'DELETE'):
            data = b''
        if self.cookies:
            send_headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        if csrf and method not in ('GET', 'HEAD', 'OPTIONS') and 'XSRF-TOKEN' in self.cookies:
            send_headers['X-XSRF-TOKEN'] = self.cookies['XSRF-TOKEN']
            if self.scheme == 'https':
                send_headers['Referer'] = f'{self.scheme}://{self.netloc}/'
        send_headers.update(self.request_headers(headers))
        conn = self._connection()
        try:
            conn.request(method, path.replace(' ', '%20'), body=data, headers=send_headers)
            resp = conn.getresponse()
            content = resp.read()
            header_list = resp.getheaders()
        finally:
            conn.close()
        return self.remember(WsgiResponse(f'{resp.status} {resp.reason}', header_list, content))
