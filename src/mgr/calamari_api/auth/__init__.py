"""Who may do what, Calamari-compatible, with all state in the mgr KV store (so it survives a mgr failover):

* ``users.py`` — users and roles (``user/<id>``, scrypt hashes), and what a request runs as (``Principal``);
* ``sessions.py`` — ``Auth``: sessions (``session/<hash>`` cookies), login and logout, CSRF, the role check;
* ``throttle.py`` — failed logins and tokens counted per user and address, 429 past the limit;
* ``tokens.py`` — API tokens (``Authorization: Bearer``), a session-less way in for scripts.
"""
