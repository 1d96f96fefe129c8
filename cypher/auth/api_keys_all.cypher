// name: auth/api_keys_all
// Every API key, oldest first (never the hash).
// mode: read
MATCH (k:ApiKey)
RETURN k {.id, .name, .scopes, .createdAt, .expiresAt, .revokedAt, .lastUsedAt} AS key
ORDER BY k.createdAt, k.id
