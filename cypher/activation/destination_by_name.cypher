// name: activation/destination_by_name
// One destination with its settings, for the activation that sends to it.
// mode: read
MATCH (d:Destination {name: $name})
RETURN d {.*} AS destination
