// name: api/links_of_companies
// The MDM links that join each company's accounts: which MDM record, and when it was seen.
// mode: read
UNWIND $ids AS id
MATCH (:Company {id: id})<-[:PART_OF]-(a:Account)-[link:SAME_COMPANY]->(b:Account)
WITH id, a, b, link ORDER BY link.mdmId
RETURN id, collect({mdmId: link.mdmId, source: link.source, updatedAt: link.updatedAt,
                    firstSeenAt: link.firstSeenAt, lastSeenAt: link.lastSeenAt,
                    from: a {.source, .sourceKey, .name, .industry, .country, companyId: id},
                    to: b {.source, .sourceKey, .name, .industry, .country, companyId: id}}) AS links
