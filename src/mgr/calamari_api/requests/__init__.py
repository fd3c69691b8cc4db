"""Tracked requests: every write the API accepts becomes one (Calamari's ``/request`` resource).

* ``steps.py`` — the vocabulary ``operations/`` writes them in (``Operation``, ``Commands``, ``WaitFor``, ``Fail``,
  ``Resume``, ...);
* ``engine.py`` — ``RequestEngine``: runs the steps on its own thread, persists, resumes after a failover;
* ``user_request.py`` — one request: its states, its API JSON and its store record;
* ``journal.py`` — the engine's group-committed writes to the KV store.
"""
