"""crio-wizard's tests."""
