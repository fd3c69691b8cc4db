"""The web layer: the route table (routes.py), the access gate (gate.py), the full path (app.py, CherryPy) and the
fast path (fast_path.py) in front of it, the response cache, the HTTP vocabulary (http.py) and the server."""
