"""Data shipped with crio-wizard: versions, templates, catalogue, texts and styles (no code)."""
