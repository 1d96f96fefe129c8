// name: auth/api_key_revoke
// Revoke a key from now on (a second revocation keeps the first time).
// mode: write
MATCH (k:ApiKey {id: $id})
SET k.revokedAt = coalesce(k.revokedAt, datetime.realtime())
RETURN k {.id, .name, .scopes, .createdAt, .expiresAt, .revokedAt, .lastUsedAt} AS key
