"""crio-wizard's engine: answers -> plan -> executor -> journal, with no UI imports."""

__version__ = "0.1.0"
