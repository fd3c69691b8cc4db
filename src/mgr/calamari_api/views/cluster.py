"""Cluster and /info objects."""
from typing import Any, Dict, Optional


def cluster_object(fsid: str, name: str, update_time: str) -> Dict[str, Any]:
    return {'update_time': update_time, 'id': fsid, 'name': name}


def info_object(version: str, hostname: Optional[str], fqdn: Optional[str], ipaddr: Optional[str],
                base_url: str) -> Dict[str, Any]:
    """Calamari's /info, with hostname and fqdn the right way round (master swapped them)."""
    bootstrap = f'{base_url}/bootstrap'
    return {
        'version': version, 'license': 'N/A', 'registered': 'N/A',
        'hostname': hostname, 'fqdn': fqdn, 'ipaddr': ipaddr,
        'bootstrap_url': bootstrap,
        'bootstrap_rhel': f'curl {bootstrap} | sudo python',
        'bootstrap_ubuntu': f'wget -O - {bootstrap} | sudo python',
    }
