// name: auth/api_key_by_id
// The stored key a request names by id, with the hash its secret must match.
// mode: read
MATCH (k:ApiKey {id: $id})
RETURN k {.id, .name, .scopes, .hash, .expiresAt, .revokedAt, .lastUsedAt} AS key
