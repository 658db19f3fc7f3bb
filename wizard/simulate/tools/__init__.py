"""Stand-in executables of the simulated host, one module per family of tools (each has a TOOLS table)."""
