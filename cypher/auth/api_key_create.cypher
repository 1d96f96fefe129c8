// name: auth/api_key_create
// Store a new API key: id, name, scopes, expiry (or null) and the SHA-256 of its secret (the secret itself never).
// mode: write
CREATE (k:ApiKey {id: $id, name: $name, scopes: $scopes, hash: $hash, createdAt: datetime.realtime(),
                  expiresAt: $expiresAt})
RETURN k {.id, .name, .scopes, .createdAt, .expiresAt, .revokedAt, .lastUsedAt} AS key
