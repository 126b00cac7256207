"""The converter's foundation: parsing aids, names, positions, findings, rule model and
call rewriting, the traversal and the per-conversion context. Imports nothing above it."""
