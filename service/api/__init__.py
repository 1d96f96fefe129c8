"""The GraphQL API: one type per module, composed in schema.py."""
