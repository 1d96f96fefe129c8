// name: api/destinations_all
// Every configured destination (never its secret).
// mode: read
MATCH (d:Destination)
RETURN d {.name, .kind, .instance, .url, .mode, .createdAt} AS destination
ORDER BY d.name
