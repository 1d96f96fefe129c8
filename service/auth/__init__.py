"""Access: API keys with scopes, stored hashed in Neo4j, checked on every request that reads or
changes data (docs/security.md)."""
