// name: stewardship/link_accept
// Keep on a link a steward accepted from a suggestion who accepted it, when, and the evidence and score they saw.
// mode: write
MATCH (:Account)-[link:SAME_COMPANY {mdmId: $linkId}]->(:Account)
SET link.acceptedBy = $by, link.acceptedAt = $at, link.score = $score, link.evidence = $evidence
RETURN link.mdmId AS linkId, link.source AS source
