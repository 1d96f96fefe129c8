// name: stewardship/link_suggestions
// Candidate SAME_COMPANY links MDM has not made, one per pair of companies, with their evidence, score and merged figures.
// mode: read
// Evidence (docs/stewardship.md): accounts sharing a key, each key kind normalised here:
//   WEBSITE_DOMAIN  the website's host: lower-cased, without scheme, `www.`, port, path, query
//   NAME            the name lower-cased, `'` and `.` removed, other punctuation a space, trailing legal
//                   suffixes (Inc, Ltd, LLC, GmbH, Corp, Co, ...) dropped
//   EMAIL_DOMAIN    the domain of the emails of the accounts' people, free-mail and social domains left out
// Accounts are grouped by key and paired within a group, never all with all; a key held by more than
// 20 accounts says nothing (a generic name, a shared host) and is dropped. Pairs in one company, or
// rejected by a steward (NOT_SAME_COMPANY, either way), are left out.
// A key's weight: WEBSITE_DOMAIN 0.8, EMAIL_DOMAIN 0.6, NAME 0.5, times min(1, 3 / companies holding
// the key). The score of a pair of companies: 1 - product over the kinds of (1 - the kind's best weight).
// $companyIds: null for every pair, or two company ids for that pair only.
CALL () {
  MATCH (a:Account)-[:PART_OF]->(c:Company)
  WHERE a.website IS NOT NULL
  WITH a, c, toLower(trim(a.website)) AS w
  WITH a, c, CASE WHEN w CONTAINS '://' THEN substring(w, size(split(w, '://')[0]) + 3) ELSE w END AS w
  WITH a, c, split(split(split(split(w, '/')[0], '?')[0], '#')[0], ':')[0] AS host
  WITH a, c, CASE WHEN host STARTS WITH 'www.' THEN substring(host, 4) ELSE host END AS domain
  WHERE domain CONTAINS '.'
    AND NOT domain IN ['linkedin.com', 'facebook.com', 'twitter.com', 'x.com', 'instagram.com', 'youtube.com',
                       'github.com', 'sites.google.com', 'wixsite.com', 'blogspot.com', 'wordpress.com']
  RETURN 'WEBSITE_DOMAIN' AS kind, domain AS key, a, c, 0 AS people
  UNION ALL
  MATCH (a:Account)-[:PART_OF]->(c:Company)
  WHERE a.name IS NOT NULL
  WITH a, c, reduce(s = replace(replace(toLower(trim(a.name)), '\'', ''), '.', ''),
                    ch IN [',', '&', '(', ')', '-', '"', '/', '!', ';', ':', '+', '*', '@', '|', '\t'] | replace(s, ch, ' ')) AS s
  WITH a, c, [t IN split(s, ' ') WHERE t <> ''] AS tokens
  WITH a, c, tokens, [i IN range(0, size(tokens) - 1)
                      WHERE NOT tokens[i] IN ['inc', 'incorporated', 'ltd', 'limited', 'llc', 'llp', 'lp', 'gmbh',
                                              'ag', 'corp', 'corporation', 'co', 'company', 'plc', 'sa', 'sas',
                                              'sarl', 'srl', 'spa', 'bv', 'nv', 'pty', 'kg', 'oy', 'ab']] AS kept
  WITH a, c, CASE WHEN size(kept) = 0 THEN tokens ELSE tokens[0..kept[-1] + 1] END AS core
  WITH a, c, reduce(out = head(core), t IN tail(core) | out + ' ' + t) AS key
  WHERE size(key) >= 2
  RETURN 'NAME' AS kind, key, a, c, 0 AS people
  UNION ALL
  MATCH (p:Person)-[:ASSOCIATED_WITH]->(a:Account)-[:PART_OF]->(c:Company)
  WITH a, c, split(p.email, '@')[1] AS domain, p
  WHERE domain IS NOT NULL
    AND NOT domain IN ['gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'hotmail.com',
                       'hotmail.co.uk', 'hotmail.fr', 'outlook.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com',
                       'me.com', 'mac.com', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'mail.ru',
                       'yandex.ru', 'yandex.com', 'protonmail.com', 'proton.me', 'zoho.com', 'qq.com', '163.com',
                       '126.com', 'orange.fr', 'free.fr', 'laposte.net', 't-online.de', 'comcast.net',
                       'example.com', 'example.org', 'example.invalid']
  WITH a, c, domain, count(DISTINCT p) AS people
  RETURN 'EMAIL_DOMAIN' AS kind, domain AS key, a, c, people
}
WITH kind, key, collect({a: a, c: c, people: people}) AS holders
WHERE 2 <= size(holders) <= 20
WITH kind, key, holders, size(reduce(seen = [], h IN holders | CASE WHEN h.c IN seen THEN seen ELSE seen + h.c END)) AS companies
WHERE companies >= 2
UNWIND range(0, size(holders) - 2) AS i
UNWIND range(i + 1, size(holders) - 1) AS j
WITH kind, key, companies, holders[i] AS x, holders[j] AS y
WHERE x.c <> y.c
// Each pair once, the account of the company with the smaller id first.
WITH kind, key, companies,
     CASE WHEN x.c.id < y.c.id THEN x ELSE y END AS first, CASE WHEN x.c.id < y.c.id THEN y ELSE x END AS second
WITH kind, key, companies, first.a AS a, first.c AS ca, first.people AS peopleA,
     second.a AS b, second.c AS cb, second.people AS peopleB
WHERE ($companyIds IS NULL OR (ca.id IN $companyIds AND cb.id IN $companyIds))
  AND NOT EXISTS { (a)-[:NOT_SAME_COMPANY]-(b) }
WITH ca, cb, a, b, kind, key, peopleA, peopleB,
     CASE kind WHEN 'WEBSITE_DOMAIN' THEN 0.8 WHEN 'EMAIL_DOMAIN' THEN 0.6 ELSE 0.5 END
       * CASE WHEN companies > 3 THEN 3.0 / companies ELSE 1.0 END AS weight, companies
ORDER BY kind, key
WITH ca, cb, a, b, collect({kind: kind, value: key, weight: weight, companiesSharing: companies,
                            peopleA: peopleA, peopleB: peopleB}) AS evidence
WITH ca, cb, a, b, evidence,
     1.0 - reduce(miss = 1.0, k IN ['WEBSITE_DOMAIN', 'EMAIL_DOMAIN', 'NAME'] |
                  miss * (1.0 - reduce(best = 0.0, e IN evidence | CASE WHEN e.kind = k AND e.weight > best THEN e.weight ELSE best END))) AS pairScore
ORDER BY pairScore DESC, a.source, a.sourceKey, b.source, b.sourceKey
WITH ca, cb, collect({a: a {.source, .sourceKey, .name, .website}, b: b {.source, .sourceKey, .name, .website},
                      evidence: evidence, score: round(pairScore, 3)}) AS pairs
WITH ca, cb, pairs, reduce(found = [], p IN pairs | found + p.evidence) AS evidence
WITH ca, cb, pairs,
     [k IN ['WEBSITE_DOMAIN', 'EMAIL_DOMAIN', 'NAME'] |
      reduce(best = 0.0, e IN evidence | CASE WHEN e.kind = k AND e.weight > best THEN e.weight ELSE best END)] AS best
WITH ca, cb, pairs, best, round(1.0 - reduce(miss = 1.0, w IN best | miss * (1.0 - w)), 3) AS score
WHERE score >= $minScore
ORDER BY score DESC, ca.id, cb.id
LIMIT $first
WITH ca, cb, pairs, score,
     [i IN range(0, 2) WHERE best[i] > 0 | ['WEBSITE_DOMAIN', 'EMAIL_DOMAIN', 'NAME'][i]] AS kinds
RETURN score, kinds, pairs,
       [c IN [ca, cb] | c {.id, .wonSum, .wonCount, .wonMax, .openSum, .openCount, .lostSum, .lostCount,
                           accounts: COUNT { (c)<-[:PART_OF]-(:Account) },
                           people: size(COLLECT { MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person) RETURN DISTINCT p })}]
         AS companies,
       size(COLLECT { MATCH (c:Company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person) WHERE c IN [ca, cb]
                      RETURN DISTINCT p }) AS mergedPeople
