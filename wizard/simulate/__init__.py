"""The simulated host: a sandbox root and stand-in executables, for practice, demos and tests."""
