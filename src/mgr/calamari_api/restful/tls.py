"""The certificate of restful's listener."""
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from mgr_module import MgrModule
    from ..services import Services

QUERY_TIMEOUT = 10.0


def _config_key(services: 'Services', key: str) -> Optional[str]:
    r, outb, _outs = services.mon_queries.query({'prefix': 'config-key get', 'key': key}, QUERY_TIMEOUT)
    return outb if r == 0 and outb else None


def restful_pem(mgr: 'MgrModule', services: 'Services', restful_cert: bool) -> Optional[Tuple[str, str]]:
    """(certificate, key): restful's own (``mgr/restful/<mgr id>/crt|key``, else ``mgr/restful/crt|key``) when
    ``restful_cert``; else the one ``restful create-self-signed-cert`` made here, else the module's."""
    if restful_cert:
        for prefix in (f'mgr/restful/{mgr.get_mgr_id()}/', 'mgr/restful/'):
            cert, key = _config_key(services, prefix + 'crt'), _config_key(services, prefix + 'key')
            if cert and key:
                return cert, key
        return None
    for names in (('restful/crt', 'restful/key'), ('crt', 'key')):
        cert, key = mgr.get_store(names[0]), mgr.get_store(names[1])
        if cert and key:
            return cert, key
    return None
