"""Facts about the host the active mgr runs on, read from the local system (stdlib only), in salt grain
names: what Calamari's ``GET grains`` returned for its own server."""
import fcntl
import os
import platform
import socket
import struct
from typing import Any, Dict, List, Optional

from .views.server import OS_FAMILY, OS_NAME

SIOCGIFADDR = 0x8915


def read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def os_release(text: str) -> Dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


def mem_total_mib(meminfo: str) -> Optional[int]:
    for line in meminfo.splitlines():
        if line.startswith('MemTotal:'):
            return int(line.split()[1]) // 1024
    return None


def cpu_model(cpuinfo: str) -> Optional[str]:
    for line in cpuinfo.splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return None


def _ipv4(ifname: str) -> List[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack('256s', ifname.encode()[:15]))
        except OSError:
            return []
    return [socket.inet_ntoa(packed[20:24])]


def _ipv6_by_interface(if_inet6: str) -> Dict[str, List[str]]:
    result: Dict[str, List[str]] = {}
    for line in if_inet6.splitlines():
        parts = line.split()
        if len(parts) == 6:
            raw = parts[0]
            addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(raw))
            result.setdefault(parts[5], []).append(addr)
    return result


def ip_interfaces() -> Dict[str, List[str]]:
    v6 = _ipv6_by_interface(read_text('/proc/net/if_inet6'))
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        names = []
    return {name: _ipv4(name) + v6.get(name, []) for name in names}


def local_grains(fqdn: Optional[str] = None) -> Dict[str, Any]:
    uname = os.uname()
    release = os_release(read_text('/etc/os-release'))
    distro = release.get('ID', '').lower()
    fqdn = fqdn or socket.getfqdn() or uname.nodename
    interfaces = ip_interfaces()
    addresses = sorted({a for addrs in interfaces.values() for a in addrs})
    grains: Dict[str, Any] = {
        'id': fqdn, 'fqdn': fqdn, 'host': fqdn.split('.')[0], 'nodename': uname.nodename,
        'domain': fqdn.split('.', 1)[1] if '.' in fqdn else '',
        'kernel': platform.system(), 'kernelrelease': uname.release, 'kernelversion': uname.version,
        'os': OS_NAME.get(distro, release.get('NAME')), 'os_family': OS_FAMILY.get(distro, release.get('ID_LIKE')),
        'osrelease': release.get('VERSION_ID'), 'oscodename': release.get('VERSION_CODENAME'),
        'osfullname': release.get('PRETTY_NAME'),
        'osfinger': f"{OS_NAME.get(distro, release.get('NAME'))}-{release['VERSION_ID']}"
                    if release.get('VERSION_ID') else None,
        'cpu_model': cpu_model(read_text('/proc/cpuinfo')), 'cpuarch': platform.machine(),
        'num_cpus': os.cpu_count(), 'mem_total': mem_total_mib(read_text('/proc/meminfo')),
        'ip_interfaces': interfaces,
        'ipv4': [a for a in addresses if ':' not in a], 'ipv6': [a for a in addresses if ':' in a],
        'pythonversion': list(platform.python_version_tuple()),
    }
    return {k: v for k, v in grains.items() if v is not None}
