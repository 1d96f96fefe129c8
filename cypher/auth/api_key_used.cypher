// name: auth/api_key_used
// Record when a key was last used (written at most once a minute per key and process).
// mode: write
MATCH (k:ApiKey {id: $id})
SET k.lastUsedAt = datetime.realtime()
