// name: api/activations_of_segments
// Each segment's activations, newest first: when, to where, how many, and the delta.
// mode: read
UNWIND $ids AS id
MATCH (:Segment {id: id})<-[:OF]-(a:Activation)-[:TO]->(d:Destination)
WITH id, a, d ORDER BY a.at DESC
RETURN id, collect(a {.*, destination: d.name, kind: d.kind}) AS activations
