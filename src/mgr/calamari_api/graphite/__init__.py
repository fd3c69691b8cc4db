"""Graphite for Calamari's dashboard, from the module's own metric history (no carbon, no whisper files):

* ``sampler.py`` — the sampling thread: what the mgr holds (pool stats, ``df``) and this host's figures, each
  ``history_interval``, under the metric names Calamari's collectors used;
* ``host_metrics.py`` — this host's counters and gauges, read from /proc and statvfs;
* ``history.py`` — the bounded rings the samples go into, and their KV format (coarse points survive failover);
* ``render.py`` — ``render`` and ``metrics/find``: time specs, target expressions, output formats (pure).

The HTTP side is ``controllers/graphite.py``, like every resource's.
"""
