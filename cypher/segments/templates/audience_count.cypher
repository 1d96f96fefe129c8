// name: segments/templates/audience_count
// How many companies an account audience's compiled rule selects (the anchor and residual are filled in by the compiler).
// mode: read
CALL () {
  /*ANCHOR*/
}
WITH ac
WHERE /*RESIDUAL*/
RETURN count(ac) AS count
