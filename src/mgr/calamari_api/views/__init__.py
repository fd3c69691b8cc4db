"""Pure functions: cluster map snapshots -> Calamari JSON objects.  No mgr calls, no HTTP."""
