"""The HTTP side of talking to members (members.py): one verified exchange with a member's calamari_api."""
import http.client
import ssl
from typing import Any, Mapping, Optional, Tuple
from urllib.parse import urlsplit

MEMBER_TIMEOUT = 3.0            # seconds for a connection, and for each read of an answer
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class MemberError(Exception):
    """The member could not be asked or did not answer in time (the message names it)."""


def describe(record: Mapping[str, Any]) -> str:
    name = record.get('name') or '?'
    return f"cluster {name} ({record.get('fsid') or '?'}) at {record['url']}"


class _VerifiedHTTPS(http.client.HTTPSConnection):
    """HTTPS whose certificate is checked against ``tls_name`` (the certificate's name, when it is not the URL's
    host, e.g. ``calamari-api`` for create-self-signed-cert's certificate)."""

    def __init__(self, host: str, port: Optional[int], timeout: float, context: ssl.SSLContext,
                 tls_name: str) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._tls_name = tls_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tls_name or self.host)


def tls_context(ca_pem: Optional[str]) -> ssl.SSLContext:
    """Verifying TLS: against ``ca_pem`` when given, else the system's trust store."""
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    return context


def call(record: Mapping[str, Any], method: str, path_qs: str, body: bytes = b'',
         headers: Optional[Mapping[str, str]] = None, timeout: float = MEMBER_TIMEOUT) -> Tuple[int, Any, bytes]:
    """One HTTP exchange with a member (``path_qs`` is below its URL): (status, the answer's header map, body).
    MemberError (naming the member) when it cannot be reached or its TLS certificate does not check."""
    parts = urlsplit(record['url'])
    try:
        if parts.scheme == 'https':
            conn: http.client.HTTPConnection = _VerifiedHTTPS(
                parts.hostname, parts.port, timeout, tls_context(record.get('ca')), record.get('tls_name') or '')
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.putrequest(method, parts.path + path_qs, skip_host=True, skip_accept_encoding=True)
            sent = dict(headers or {})
            sent.setdefault('Host', parts.netloc)
            sent['Authorization'] = f'Bearer {record["token"]}'
            if body or method not in ('GET', 'HEAD', 'OPTIONS', 'DELETE'):
                sent['Content-Length'] = str(len(body))
            for name, value in sent.items():
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            data = response.read(MAX_ANSWER_BYTES + 1)
            if len(data) > MAX_ANSWER_BYTES:
                raise MemberError(f'{describe(record)} answered more than {MAX_ANSWER_BYTES} bytes')
            return response.status, response.headers, data
        finally:
            conn.close()
    except MemberError:
        raise
    except ssl.SSLError as e:       # (verify_message: e.g. "IP address mismatch, certificate is not valid for ...")
        raise MemberError(f"{describe(record)}: TLS verification failed "
                          f"({getattr(e, 'verify_message', None) or e.reason or e})")
    except (OSError, http.client.HTTPException, ValueError) as e:
        reason = 'no answer within %gs' % timeout if isinstance(e, TimeoutError) else (str(e) or type(e).__name__)
        raise MemberError(f'{describe(record)} is unreachable: {reason}')
