"""Rule tables: loading and checking `mappings/*.toml`, their cache, their documentation."""
