// name: segments/templates/segment_count
// How many people a compiled rule selects (the rule's anchor and residual predicate are filled in by the compiler).
// mode: read
CALL () {
  /*ANCHOR*/
}
WITH p
WHERE /*RESIDUAL*/
RETURN count(p) AS count
