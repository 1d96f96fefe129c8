// name: activation/destination_create
// Configure a destination an audience can be activated to (Marketo instance, LinkedIn, webhook).
// mode: write
CREATE (d:Destination {name: $name, kind: $kind, instance: $instance, url: $url, secret: $secret, mode: $mode,
                       createdAt: datetime.realtime()})
RETURN d {.name, .kind, .instance, .url, .mode, .createdAt} AS destination
