"""Counters and gauges of the host the active mgr runs on, read from /proc and statvfs, under the names Calamari's
Diamond collectors gave them (``cpu``, ``loadavg``, ``memory``, ``network``, ``iostat``, ``diskspace``), for the
graph wall's host pages.  Other hosts have no agent, so they have no such metrics.

The parsers are pure (text in, numbers out); ``read_host`` does the reading.  Counters are raw (jiffies, bytes,
I/Os, milliseconds): ``iostat_values`` and the sampler's rates turn them into Diamond's per-second figures.
"""
import os
import re
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

from ..local_host import read_text

CPU_FIELDS = ('user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal')
MEMORY_FIELDS = ('MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'Active', 'Inactive', 'Dirty',
                 'SwapTotal', 'SwapFree')
NET_FIELDS = {0: 'rx_byte', 1: 'rx_packets', 2: 'rx_errors', 3: 'rx_drop',
              8: 'tx_byte', 9: 'tx_packets', 10: 'tx_errors', 11: 'tx_drop'}
# Diamond's DiskUsageCollector devices, plus NVMe namespaces.
DISK = re.compile(r'^(?:x?vd[a-z]+\d*|sd[a-z]+\d*|hd[a-z]+\d*|nvme\d+n\d+(?:p\d+)?|md\d+|dm-\d+)$')
MAX_CPUS = 64
MAX_INTERFACES = 16
MAX_DISKS = 32
MAX_OSD_DIRS = 64


class HostReading(NamedTuple):
    gauges: Dict[str, float]          # name below servers.<host>. -> value
    counters: Dict[str, float]        # cumulative: published as per-second rates
    disks: Dict[str, Tuple[float, ...]]   # device -> /proc/diskstats counters (see iostat_values)


def cpu_counters(stat: str) -> Dict[str, float]:
    """``cpu.total.user`` ... (the aggregate line) and ``cpu.cpuN.*`` in jiffies."""
    counters: Dict[str, float] = {}
    for line in stat.splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith('cpu'):
            continue
        name = 'total' if parts[0] == 'cpu' else parts[0]
        if name != 'total' and int(name[3:] or 0) >= MAX_CPUS:
            continue
        for field, value in zip(CPU_FIELDS, parts[1:]):
            counters[f'cpu.{name}.{field}'] = float(value)
    return counters


def loadavg_gauges(text: str) -> Dict[str, float]:
    parts = text.split()
    return {f'loadavg.{name}': float(value) for name, value in zip(('01', '05', '15'), parts[:3])}


def memory_gauges(meminfo: str) -> Dict[str, float]:
    """In bytes (Diamond's ``byte_unit``)."""
    gauges = {}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(':')
        if key in MEMORY_FIELDS and rest.split():
            gauges[f'memory.{key}'] = float(rest.split()[0]) * (1024 if rest.strip().endswith('kB') else 1)
    return gauges


def network_counters(net_dev: str) -> Dict[str, float]:
    counters: Dict[str, float] = {}
    interfaces = 0
    for line in net_dev.splitlines():
        name, sep, rest = line.partition(':')
        name = name.strip()
        if not sep or name == 'lo' or not rest.split() or not rest.split()[0].isdigit():
            continue
        interfaces += 1
        if interfaces > MAX_INTERFACES:
            break
        values = rest.split()
        for index, field in NET_FIELDS.items():
            if index < len(values):
                counters[f'network.{name}.{field}'] = float(values[index])
    return counters


def disk_counters(diskstats: str) -> Dict[str, Tuple[float, ...]]:
    """device -> (reads, sectors read, ms reading, writes, sectors written, ms writing)."""
    disks: Dict[str, Tuple[float, ...]] = {}
    for line in diskstats.splitlines():
        parts = line.split()
        if len(parts) < 11 or not DISK.match(parts[2]) or len(disks) >= MAX_DISKS:
            continue
        reads, _, sectors_read, ms_reading, writes, _, sectors_written, ms_writing = (float(p) for p in parts[3:11])
        disks[parts[2]] = (reads, sectors_read, ms_reading, writes, sectors_written, ms_writing)
    return disks


def iostat_values(previous: Mapping[str, Tuple[float, ...]], current: Mapping[str, Tuple[float, ...]],
                  seconds: float) -> Dict[str, float]:
    """Diamond's iostat figures between two readings: ``iops``, ``read_byte_per_second``,
    ``write_byte_per_second``, ``read_await`` and ``write_await`` (ms per I/O)."""
    values: Dict[str, float] = {}
    if seconds <= 0:
        return values
    for device, now in current.items():
        before = previous.get(device)
        if before is None:
            continue
        reads, sectors_read, ms_reading, writes, sectors_written, ms_writing = (
            max(0.0, a - b) for a, b in zip(now, before))
        prefix = f'iostat.{device}.'
        values[prefix + 'iops'] = (reads + writes) / seconds
        values[prefix + 'read_byte_per_second'] = sectors_read * 512 / seconds
        values[prefix + 'write_byte_per_second'] = sectors_written * 512 / seconds
        values[prefix + 'read_await'] = ms_reading / reads if reads else 0.0
        values[prefix + 'write_await'] = ms_writing / writes if writes else 0.0
    return values


def diskspace_gauges(osd_dirs: Mapping[str, str]) -> Dict[str, float]:
    """For each local OSD id -> data directory: the names the dashboard asks for
    (``diskspace._var_lib_ceph_osd_ceph-<id>.*``, Diamond's mount point with ``/`` → ``_``), from statvfs."""
    gauges: Dict[str, float] = {}
    for osd_id, path in sorted(osd_dirs.items())[:MAX_OSD_DIRS]:
        try:
            st = os.statvfs(path)
        except OSError:
            continue
        prefix = f'diskspace._var_lib_ceph_osd_ceph-{osd_id}.'
        gauges[prefix + 'byte_free'] = float(st.f_bfree * st.f_frsize)
        gauges[prefix + 'byte_avail'] = float(st.f_bavail * st.f_frsize)
        gauges[prefix + 'byte_used'] = float((st.f_blocks - st.f_bfree) * st.f_frsize)
        gauges[prefix + 'inodes_free'] = float(st.f_ffree)
        gauges[prefix + 'inodes_used'] = float(st.f_files - st.f_ffree)
    return gauges


def read_host(osd_dirs: Mapping[str, str], proc: str = '/proc') -> HostReading:
    """One reading of this host (a few small /proc files and one statvfs per local OSD)."""
    gauges = loadavg_gauges(read_text(f'{proc}/loadavg'))
    gauges.update(memory_gauges(read_text(f'{proc}/meminfo')))
    gauges.update(diskspace_gauges(osd_dirs))
    counters = cpu_counters(read_text(f'{proc}/stat'))
    counters.update(network_counters(read_text(f'{proc}/net/dev')))
    return HostReading(gauges, counters, disk_counters(read_text(f'{proc}/diskstats')))


def local_osd_dirs(osd_metadata: Optional[Mapping[str, Mapping[str, str]]], hostname: str) -> Dict[str, str]:
    """OSD id -> data directory of the OSDs whose metadata names this host."""
    return {osd_id: meta['osd_data'] for osd_id, meta in (osd_metadata or {}).items()
            if meta.get('hostname') == hostname and meta.get('osd_data')}


def graphite_host(fqdn: str) -> str:
    """Diamond's host path component: the FQDN with dots as underscores."""
    return fqdn.replace('.', '_')
