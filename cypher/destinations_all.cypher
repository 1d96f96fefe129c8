// name: destinations_all
// Every configured destination (never its secret).
MATCH (d:Destination)
RETURN d {.name, .kind, .instance, .url, .mode, .createdAt} AS destination
ORDER BY d.name
