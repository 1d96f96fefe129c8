"""Segments: a rule language over people and their related entities, compiled to Cypher."""
