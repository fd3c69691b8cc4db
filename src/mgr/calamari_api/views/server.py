"""Calamari's server objects and salt-style grains, from the mgr's daemon metadata and maps (pure)."""
import ipaddress
import re
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

SERVICE_TYPES = ('mon', 'osd', 'mds', 'mgr')
VERSION_RE = re.compile(r'ceph version (\S+)')


class Service(NamedTuple):
    type: str
    id: str
    running: bool


class Host(NamedTuple):
    """A host as the API knows it: ``reporting`` when its daemons' metadata reaches the mgr."""
    fqdn: str
    services: Tuple[Service, ...]
    reporting: bool
    ceph_version: Optional[str]
    frontend_addr: Optional[str]
    backend_addr: Optional[str]
    frontend_iface: Optional[str]
    backend_iface: Optional[str]


def addr_ip(addr: Optional[str]) -> Optional[str]:
    """``v2:127.0.0.1:6800/123`` or ``[::1]:6800/0`` → the IP alone (None when there is none)."""
    if not addr:
        return None
    addr = addr.strip()
    if addr.startswith('[') and addr.endswith(']') and addr[1:].startswith(('v1:', 'v2:', 'any:')):
        addr = addr[1:-1]                        # an addrvec: "[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"
    addr = addr.split(',')[0]
    if addr.startswith(('v1:', 'v2:', 'any:')):
        addr = addr.split(':', 1)[1]
    addr = addr.split('/')[0]
    if addr.startswith('['):
        return addr[1:].split(']')[0] or None
    host = addr.rsplit(':', 1)[0] if addr.count(':') == 1 else addr
    try:
        ip = ipaddress.ip_address(host)     # not e.g. "(unrecognized address family 0)" of a never-booted OSD
    except ValueError:
        return None
    return None if ip.is_unspecified else host


def short_version(version: Optional[str]) -> Optional[str]:
    """``ceph version 16.2.15 (…) pacific (stable)`` → ``16.2.15``."""
    if not version:
        return None
    match = VERSION_RE.search(version)
    return match.group(1) if match else version


def running_sets(osd_map: Dict[str, Any], quorum: Iterable[str], fs_map: Optional[Dict[str, Any]],
                 mgr_map: Optional[Dict[str, Any]]) -> Dict[str, set]:
    """The ids of the daemons that are running, per type, as the maps say."""
    mds = set()
    for fs in (fs_map or {}).get('filesystems', []):
        mds |= {info.get('name') for info in fs.get('mdsmap', {}).get('info', {}).values()}
    mds |= {s.get('name') for s in (fs_map or {}).get('standbys', [])}
    mgrs = set()
    if mgr_map and mgr_map.get('available', True) and mgr_map.get('active_name'):
        mgrs.add(mgr_map['active_name'])
    mgrs |= {s.get('name') for s in (mgr_map or {}).get('standbys', [])}
    return {'osd': {str(o['osd']) for o in osd_map.get('osds', []) if o.get('up')},
            'mon': set(quorum), 'mds': mds, 'mgr': mgrs}


def _service_key(service: Service) -> Tuple[int, Any]:
    order = SERVICE_TYPES.index(service.type) if service.type in SERVICE_TYPES else len(SERVICE_TYPES)
    return order, (int(service.id) if service.id.isdigit() else service.id)


def build_hosts(servers: List[Dict[str, Any]], osd_map: Dict[str, Any], osd_tree: Optional[Dict[str, Any]],
                osd_metadata: Dict[str, Dict[str, str]], mon_map: Dict[str, Any],
                running: Dict[str, set]) -> Dict[str, Host]:
    """Every host: those in ``list_servers()`` (reporting) plus hosts only seen as CRUSH host buckets
    holding OSDs whose daemons never reported (inferred from the OSD map, like Calamari's unmanaged ones)."""
    osds_by_id = {str(o['osd']): o for o in osd_map.get('osds', [])}
    mon_addrs = {m['name']: m.get('public_addr') or m.get('addr') for m in mon_map.get('mons', [])}
    hosts: Dict[str, Host] = {}
    seen_osds = set()
    for server in servers:
        fqdn = server.get('hostname')
        if not fqdn:
            continue
        services = [Service(s['type'], str(s['id']), str(s['id']) in running.get(s['type'], ()))
                    for s in server.get('services', []) if s.get('type') in SERVICE_TYPES
                    and not _moved_away(s, fqdn, osd_metadata)]
        if not services and server.get('services'):
            continue            # ceph-mgr still lists a host whose only daemons now run elsewhere
        seen_osds |= {s.id for s in services if s.type == 'osd'}
        previous = hosts.get(fqdn)
        if previous:
            services = list(previous.services) + services
        hosts[fqdn] = _host(fqdn, services, True, short_version(server.get('ceph_version')),
                            osds_by_id, osd_metadata, mon_addrs)
    for node in (osd_tree or {}).get('nodes', []):
        if node.get('type') != 'host':
            continue
        ids = [str(c) for c in node.get('children', []) if c >= 0 and str(c) in osds_by_id]
        services = [Service('osd', i, i in running['osd']) for i in ids if i not in seen_osds]
        if not services:
            continue
        known = hosts.get(node['name'])
        if known:       # OSDs of a reporting host whose daemons never reported themselves
            hosts[node['name']] = _host(known.fqdn, list(known.services) + services, True, known.ceph_version,
                                        osds_by_id, osd_metadata, mon_addrs)
        else:
            hosts[node['name']] = _host(node['name'], services, False, None, osds_by_id, osd_metadata, mon_addrs)
    return hosts


def _moved_away(service: Dict[str, Any], fqdn: str, osd_metadata: Dict[str, Dict[str, str]]) -> bool:
    """An OSD that now reports from another host (its disk moved): ceph-mgr keeps listing it under the old
    host too, until the mgr restarts; its metadata names the host it runs on."""
    if service.get('type') != 'osd':
        return False
    hostname = (osd_metadata.get(str(service.get('id'))) or {}).get('hostname')
    return bool(hostname) and hostname != fqdn


def _host(fqdn: str, services: List[Service], reporting: bool, version: Optional[str],
          osds_by_id: Dict[str, Any], osd_metadata: Dict[str, Dict[str, str]],
          mon_addrs: Dict[str, Optional[str]]) -> Host:
    services = sorted(set(services), key=_service_key)
    front = back = front_iface = back_iface = None
    for service in services:
        if service.type == 'mon' and not front:
            front = addr_ip(mon_addrs.get(service.id))
    for service in services:
        if service.type != 'osd' or service.id not in osds_by_id:
            continue
        osd, meta = osds_by_id[service.id], osd_metadata.get(service.id) or {}
        if not front:
            front = addr_ip(osd.get('public_addr'))
            front_iface = meta.get('front_iface') or None
        if not back:
            back = addr_ip(osd.get('cluster_addr'))
            back_iface = meta.get('back_iface') or None
    return Host(fqdn, tuple(services), reporting, version, front, back, front_iface, back_iface)


def hostname_of(fqdn: str) -> str:
    return fqdn.split('.')[0]


def services_json(host: Host, fsid: str) -> List[Dict[str, Any]]:
    return [{'fsid': fsid, 'type': s.type, 'id': s.id, 'running': s.running} for s in host.services]


def server_object(host: Host, fsid: str, managed: bool, last_contact: Optional[str],
                  boot_time: Optional[str]) -> Dict[str, Any]:
    """``SimpleServerSerializer`` (global list/detail)."""
    return {'fqdn': host.fqdn, 'hostname': hostname_of(host.fqdn), 'managed': managed,
            'last_contact': last_contact if managed else None, 'boot_time': boot_time if managed else None,
            'ceph_version': host.ceph_version if managed else None,
            'services': services_json(host, fsid)}


def cluster_server_object(host: Host, fsid: str, managed: bool, last_contact: Optional[str],
                          boot_time: Optional[str]) -> Dict[str, Any]:
    """``ServerSerializer`` (cluster-scoped list/detail)."""
    return {'fqdn': host.fqdn, 'hostname': hostname_of(host.fqdn), 'services': services_json(host, fsid),
            'frontend_addr': host.frontend_addr, 'backend_addr': host.backend_addr,
            'frontend_iface': host.frontend_iface, 'backend_iface': host.backend_iface,
            'managed': managed, 'last_contact': last_contact if managed else None,
            'boot_time': boot_time if managed else None,
            'ceph_version': host.ceph_version if managed else None}


# -- grains -------------------------------------------------------------------------------------

OS_FAMILY = {'debian': 'Debian', 'ubuntu': 'Debian', 'centos': 'RedHat', 'rhel': 'RedHat', 'fedora': 'RedHat',
             'rocky': 'RedHat', 'almalinux': 'RedHat', 'opensuse': 'Suse', 'sles': 'Suse', 'sle': 'Suse',
             'arch': 'Arch', 'alpine': 'Alpine'}
OS_NAME = {'debian': 'Debian', 'ubuntu': 'Ubuntu', 'centos': 'CentOS', 'rhel': 'RedHat', 'fedora': 'Fedora',
           'rocky': 'Rocky', 'almalinux': 'AlmaLinux', 'opensuse': 'openSUSE', 'sles': 'SUSE', 'arch': 'Arch',
           'alpine': 'Alpine'}


def metadata_grains(fqdn: str, metadata: Dict[str, str], addresses: Iterable[str]) -> Dict[str, Any]:
    """Salt grain names from one daemon's metadata (keys only where the metadata has a value)."""
    distro = (metadata.get('distro') or '').lower()
    grains: Dict[str, Any] = {
        'id': fqdn, 'fqdn': fqdn, 'host': hostname_of(fqdn),
        'domain': fqdn.split('.', 1)[1] if '.' in fqdn else '',
        'kernel': metadata.get('os'), 'kernelrelease': metadata.get('kernel_version'),
        'kernelversion': metadata.get('kernel_description'),
        'os': OS_NAME.get(distro, metadata.get('distro') or None),
        'os_family': OS_FAMILY.get(distro), 'osrelease': metadata.get('distro_version'),
        'osfullname': metadata.get('distro_description'),
        'cpu_model': metadata.get('cpu'), 'cpuarch': metadata.get('arch'),
    }
    if (metadata.get('mem_total_kb') or '').isdigit():
        grains['mem_total'] = int(metadata['mem_total_kb']) // 1024
    if (metadata.get('mem_swap_kb') or '').isdigit():
        grains['swap_total'] = int(metadata['mem_swap_kb']) // 1024
    ips = sorted({ip for ip in (addr_ip(a) for a in addresses) if ip})
    if ips:
        grains['ipv4'] = [ip for ip in ips if ':' not in ip]
        grains['ipv6'] = [ip for ip in ips if ':' in ip]
    return {k: v for k, v in grains.items() if v is not None}
