// The audience explorer: saved segments and account audiences, their members, why one is in (drawn as
// SVG), and their activations. Plain JavaScript, no library: everything comes from /graphql with the
// user's API key. Nothing from the graph is ever inserted as HTML: text goes in text nodes only.
"use strict";

(function () {
  const ENDPOINT = "/graphql";
  const KEY_STORE = "accountgraph.explorer.key";
  const PAGE_SIZE = 20;
  const TREND_POINTS = 30;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    key: null,
    segments: [],
    segment: null, // the selected segment
    cursors: [null], // the `after` of each page seen, for Previous
    page: 0,
    search: null,
    selected: null, // the email (or company id) explained
  };

  // ---- DOM helpers -------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function s(tag, attributes, ...children) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined) continue;
      element.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text || "";
    status.classList.toggle("error", Boolean(isError));
  }

  const number = (value) =>
    value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });

  function when(iso) {
    if (!iso) return "–";
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  // Calendar days (UTC) between the day of `iso` and today.
  function daysAgo(iso) {
    const day = (time) => Math.floor(time / 86400000);
    const days = day(Date.now()) - day(new Date(iso).getTime());
    return days <= 0 ? "today" : days === 1 ? "1 day ago" : `${days} days ago`;
  }

  const plural = (count, one, many) => (count === 1 ? one : many);

  const fit = (text, max) => {
    const value = String(text ?? "");
    return value.length > max ? value.slice(0, max - 1) + "…" : value;
  };

  // ---- GraphQL -----------------------------------------------------------------------------------

  async function gql(query, variables) {
    if (!state.key) throw new Error("put your API key above first");
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.key}` },
        body: JSON.stringify({ query, variables: variables || {} }),
      });
    } catch (error) {
      throw new Error(`the service does not answer (${error.message})`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      throw new Error(`HTTP ${response.status} from ${ENDPOINT}`);
    }
    if (body && Array.isArray(body.errors) && body.errors.length) {
      const error = new Error(body.errors.map((e) => e.message).join("; "));
      error.code = body.errors[0].extensions && body.errors[0].extensions.code;
      error.partial = body.data;
      throw error;
    }
    if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
    return body.data;
  }

  const SEGMENTS = `query ExplorerSegments($points: Int!) {
    segments { id name description subject memberCount lastEvaluatedAt rule
               evaluations(first: $points) { at count entered left } } }`;

  const MEMBERS = `query ExplorerMembers($id: ID!, $first: Int!, $after: String, $search: String) {
    segment(id: $id) { members(first: $first, after: $after, search: $search) {
      people { email firstName lastName title companies { id wonTotal } } endCursor hasNextPage } } }`;

  const COMPANIES = `query ExplorerCompanies($id: ID!, $first: Int!, $after: String, $search: String) {
    segment(id: $id) { companies(first: $first, after: $after, search: $search) {
      companies { id wonTotal accounts { source sourceKey name } } endCursor hasNextPage } } }`;

  const EVIDENCE = `path kind matched
    companies { companyId value matched dealCount moreDeals
      accounts { source sourceKey name }
      deals { source sourceKey name amount currency stage isWon closeDate account { source sourceKey name } }
      company { id wonTotal openPipeline accounts { source sourceKey name industry country } } }
    accounts { source sourceKey name }
    visits { source sourceKey url visitedAt }
    memberships { kind source id name status }
    contactRoles { role isPrimary opportunity { source sourceKey name amount } }
    people { email } peopleCount`;

  const EXPLAIN = `query ExplorerExplain($id: ID!, $emails: [String!]!) {
    segment(id: $id) { now { explain(emails: $emails) {
      email person { email firstName lastName title knownAs { source sourceKey } }
      explanation { ${EVIDENCE} } } } } }`;

  const EXPLAIN_ACCOUNTS = `query ExplorerExplainAccounts($id: ID!, $ids: [ID!]!) {
    segment(id: $id) { now { explainAccounts(companyIds: $ids) {
      companyId company { id wonTotal accounts { source sourceKey name } }
      explanation { ${EVIDENCE} } } } } }`;

  const ACTIVATIONS = `query ExplorerActivations($id: ID!) {
    segment(id: $id) { activations { id at destination sent withoutConsent unknownToDestination entered left
                                     files downloads batches } } }`;

  const DELIVERIES = `query ExplorerDeliveries($id: ID!) {
    deliveries(segmentId: $id, first: 50) { id destination status attempts batchIds batchesDelivered people
      entered left lastError createdAt deliveredAt nextAttemptAt } }`;

  // ---- The key -----------------------------------------------------------------------------------

  function loadKey() {
    const kept = localStorage.getItem(KEY_STORE);
    const session = sessionStorage.getItem(KEY_STORE);
    $("keep").checked = Boolean(kept);
    return kept || session || null;
  }

  function saveKey(key) {
    sessionStorage.setItem(KEY_STORE, key);
    if ($("keep").checked) localStorage.setItem(KEY_STORE, key);
    else localStorage.removeItem(KEY_STORE);
  }

  // ---- Segments and their trend ------------------------------------------------------------------

  function sparkline(evaluations) {
    const points = [...evaluations].reverse(); // oldest first
    const width = 120;
    const height = 30;
    const svg = s("svg", { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
    if (!points.length) {
      svg.append(s("text", { x: 2, y: 19, class: "spark-empty" }, "not evaluated yet"));
      return svg;
    }
    const counts = points.map((p) => p.count);
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    const x = (i) => (points.length === 1 ? width - 4 : 3 + (i * (width - 7)) / (points.length - 1));
    const y = (c) => (max === min ? height / 2 : height - 4 - ((c - min) * (height - 8)) / (max - min));
    const summary = points.map((p) => `${when(p.at)}: ${number(p.count)}`).join("\n");
    svg.append(s("title", {}, `Size at each of the last ${points.length} evaluations, oldest first\n${summary}`));
    svg.append(s("polyline", { class: "spark-line", points: points.map((p, i) => `${x(i)},${y(p.count)}`).join(" ") }));
    points.forEach((p, i) =>
      svg.append(s("circle", { class: i === points.length - 1 ? "spark-last" : "spark-dot", cx: x(i), cy: y(p.count),
                               r: i === points.length - 1 ? 2.8 : 1.4 },
                   s("title", {}, `${when(p.at)}: ${number(p.count)} (+${p.entered} −${p.left})`))));
    return svg;
  }

  async function loadSegments() {
    setStatus("Loading saved audiences…");
    const data = await gql(SEGMENTS, { points: TREND_POINTS });
    state.segments = data.segments;
    const list = $("segment-list");
    list.replaceChildren();
    if (!state.segments.length) {
      list.append(h("li", { class: "empty" }, "No saved segments yet: `accountgraph segment save` or createSegment."));
    }
    for (const segment of state.segments) {
      const kind = segment.subject === "COMPANY" ? "Account audience" : "People";
      list.append(h("li", {},
        h("button", { type: "button", class: "segment-item", "data-id": segment.id, onclick: () => selectSegment(segment.id) },
          h("span", { class: "segment-title" }, segment.name),
          h("span", { class: `badge ${segment.subject.toLowerCase()}` }, kind),
          h("span", { class: "segment-size" }, segment.memberCount === null ? "–" : number(segment.memberCount),
            h("small", {}, " " + (segment.subject === "COMPANY" ? plural(segment.memberCount, "company", "companies")
                                                                : plural(segment.memberCount, "person", "people")))),
          sparkline(segment.evaluations))));
    }
    setStatus(`${state.segments.length} saved audience${state.segments.length === 1 ? "" : "s"}.`);
  }

  async function selectSegment(id) {
    const segment = state.segments.find((x) => x.id === id);
    if (!segment) return;
    state.segment = segment;
    state.cursors = [null];
    state.page = 0;
    state.search = null;
    state.selected = null;
    $("search").value = "";
    for (const item of document.querySelectorAll(".segment-item")) {
      item.classList.toggle("selected", item.dataset.id === id);
    }
    $("segment").hidden = false;
    $("segment-name").textContent = segment.name;
    const company = segment.subject === "COMPANY";
    $("segment-meta").textContent =
      `${company ? "Account audience (companies)" : "Segment of people"} · ` +
      `${number(segment.memberCount)} ${plural(segment.memberCount, company ? "company" : "member",
                                                company ? "companies" : "members")} at the last evaluation ` +
      `(${when(segment.lastEvaluatedAt)})${segment.description ? " · " + segment.description : ""}`;
    $("segment-rule").textContent = JSON.stringify(segment.rule, null, 2);
    $("members-title").textContent = company ? "Companies" : "Members";
    $("search").placeholder = company ? "company id or account name" : "email or company id";
    $("why-title").textContent = company ? "Why the company is in" : "Why they are in";
    drawTrend(segment);
    $("explanation").replaceChildren();
    await Promise.all([loadMembers(), loadActivations()]);
  }

  function drawTrend(segment) {
    const points = [...segment.evaluations].reverse();
    const trend = $("trend");
    trend.replaceChildren();
    if (!points.length) return;
    const width = 520;
    const height = 70;
    const max = Math.max(...points.map((p) => p.count), 1);
    const x = (i) => (points.length === 1 ? width - 40 : 40 + (i * (width - 80)) / (points.length - 1));
    const y = (c) => height - 18 - (c * (height - 30)) / max;
    const svg = s("svg", { class: "trend-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" },
      s("title", {}, "Size over the last evaluations"),
      s("text", { x: 0, y: y(max) + 4, class: "axis" }, number(max)),
      s("text", { x: 0, y: y(0) + 4, class: "axis" }, "0"),
      s("line", { x1: 36, x2: width - 30, y1: y(0), y2: y(0), class: "axis-line" }),
      s("polyline", { class: "trend-line", points: points.map((p, i) => `${x(i)},${y(p.count)}`).join(" ") }),
      s("text", { x: 40, y: height - 2, class: "axis" }, when(points[0].at)),
      s("text", { x: width - 30, y: height - 2, class: "axis", "text-anchor": "end" }, when(points[points.length - 1].at)));
    points.forEach((p, i) => svg.append(s("circle", { cx: x(i), cy: y(p.count), r: 3, class: "trend-dot" },
      s("title", {}, `${when(p.at)}: ${number(p.count)} (${p.entered} entered, ${p.left} left)`))));
    trend.append(h("span", { class: "meta" }, `Size at the last ${points.length} evaluations`), svg);
  }

  // ---- Members -----------------------------------------------------------------------------------

  async function loadMembers() {
    const segment = state.segment;
    const company = segment.subject === "COMPANY";
    const list = $("member-list");
    list.replaceChildren(h("li", { class: "empty" }, "Loading…"));
    let page;
    try {
      const data = await gql(company ? COMPANIES : MEMBERS, {
        id: segment.id, first: PAGE_SIZE, after: state.cursors[state.page], search: state.search,
      });
      page = company ? data.segment.companies : data.segment.members;
    } catch (error) {
      list.replaceChildren(h("li", { class: "empty error" }, error.message));
      return;
    }
    if (segment !== state.segment) return;
    const items = company ? page.companies : page.people;
    list.replaceChildren();
    if (!items.length) list.append(h("li", { class: "empty" }, state.search ? "No member matches." : "No members."));
    for (const item of items) {
      const id = company ? item.id : item.email;
      const detail = company
        ? `${item.accounts.map((a) => a.name || a.sourceKey).join(" · ")} · won ${number(item.wonTotal)}`
        : [[item.firstName, item.lastName].filter(Boolean).join(" "), item.title,
           item.companies.map((c) => c.id).join(", ")].filter(Boolean).join(" · ");
      list.append(h("li", {},
        h("button", { type: "button", class: "member", "data-id": id, onclick: () => explain(id) },
          h("span", { class: "member-id" }, id), h("small", {}, detail))));
    }
    state.cursors[state.page + 1] = page.hasNextPage ? page.endCursor : undefined;
    $("prev").disabled = state.page === 0;
    $("next").disabled = !page.hasNextPage;
    $("page-label").textContent = `page ${state.page + 1}`;
  }

  // ---- Explanation -------------------------------------------------------------------------------

  const OPS = { GT: ">", GTE: "≥", LT: "<", LTE: "≤", EQ: "=", NE: "≠" };

  // The condition of the rule at an evidence's path ("and[0].opportunities"), or null.
  function conditionAt(rule, path) {
    let node = rule;
    for (const part of String(path).split(".").filter(Boolean)) {
      const match = /^(\w+)(?:\[(\d+)\])?$/.exec(part);
      if (!match || node === null || typeof node !== "object") return null;
      node = node[match[1]];
      if (match[2] !== undefined) node = Array.isArray(node) ? node[Number(match[2])] : null;
    }
    return node && typeof node === "object" ? node : null;
  }

  function describeFigure(condition) {
    if (!condition) return { label: "company figure", test: "" };
    const aggregate = (condition.aggregate || "SUM").toLowerCase();
    const status = condition.status ? ` ${condition.status.toLowerCase()}` : "";
    const op = OPS[condition.op] || condition.op || "";
    const threshold = condition.value !== undefined ? number(condition.value) : "";
    return { label: `${aggregate} of${status} deals`, test: `${op} ${threshold}`.trim() };
  }

  const recordLabel = (record) => `${record.source} · ${record.sourceKey}`;
  const recordKey = (record) => `${record.source}\u0000${record.sourceKey}`;

  async function explain(id) {
    const segment = state.segment;
    const company = segment.subject === "COMPANY";
    state.selected = id;
    for (const item of document.querySelectorAll(".member")) item.classList.toggle("selected", item.dataset.id === id);
    const target = $("explanation");
    target.replaceChildren(h("p", { class: "meta" }, `Explaining ${id}…`));
    let rows;
    try {
      const data = company
        ? await gql(EXPLAIN_ACCOUNTS, { id: segment.id, ids: [id] })
        : await gql(EXPLAIN, { id: segment.id, emails: [id] });
      rows = company ? data.segment.now.explainAccounts : data.segment.now.explain;
    } catch (error) {
      target.replaceChildren(h("p", { class: "error" }, error.message));
      return;
    }
    if (state.selected !== id) return;
    if (!rows.length) {
      target.replaceChildren(h("p", { class: "error" }, `${id} is no longer in the graph.`));
      return;
    }
    target.replaceChildren(drawExplanation(segment, rows[0], company));
  }

  // Boxes of the picture: a title, a second line, the record's source and id, and a tooltip.
  function box(svg, { x, y, width, height = 46, title, line, record, tooltip, cls }) {
    const group = s("g", { class: `node ${cls || ""}`, transform: `translate(${x},${y})` },
      s("title", {}, tooltip || [title, line, record].filter(Boolean).join("\n")),
      s("rect", { width, height, rx: 6, ry: 6 }),
      s("text", { x: 8, y: 16, class: "node-title" }, fit(title, Math.floor(width / 7.2))));
    if (line) group.append(s("text", { x: 8, y: 30, class: "node-line" }, fit(line, Math.floor(width / 6.4))));
    if (record) group.append(s("text", { x: 8, y: line ? 42 : 30, class: "node-record" }, fit(record, Math.floor(width / 6))));
    svg.append(group);
    return { x, y, width, height, left: [x, y + height / 2], right: [x + width, y + height / 2] };
  }

  function edge(svg, from, to, cls, label) {
    const [x1, y1] = from;
    const [x2, y2] = to;
    const middle = (x1 + x2) / 2;
    svg.insertBefore(s("path", { class: `edge ${cls || ""}`, d: `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}` }),
                     svg.firstChild);
    if (label) svg.append(s("text", { class: "edge-label", x: middle, y: (y1 + y2) / 2 - 4, "text-anchor": "middle" }, label));
  }

  function drawExplanation(segment, row, company) {
    const evidence = row.explanation;
    const figures = evidence.filter((e) => e.kind === "opportunities");
    const visits = evidence.flatMap((e) => e.visits.map((v) => ({ visit: v, evidence: e })));
    const others = evidence.filter((e) => e.kind !== "opportunities" && e.kind !== "visits");
    // The companies in the picture: those of opportunity conditions, else any evidence naming one.
    const companies = new Map();
    for (const e of evidence) {
      for (const c of e.companies) if (c.company && !companies.has(c.companyId)) companies.set(c.companyId, c);
    }
    if (company && row.company && !companies.has(row.company.id)) {
      companies.set(row.company.id, { companyId: row.company.id, company: row.company, accounts: [], deals: [] });
    }

    const COL = { person: 16, account: 270, deal: 560, sum: 850 };
    const WIDTH = 1090;
    const svg = s("svg", { id: "explanation-svg", class: "explanation", role: "img",
                           "aria-label": `Why ${company ? row.companyId : row.email} is in ${segment.name}` });
    svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
                                             markerHeight: 7, orient: "auto-start-reverse" },
                                  s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }))));
    const heads = [["person", company ? "Company" : "Person"], ["account", "Accounts (linked by MDM)"],
                   ["deal", "Deals counted"], ["sum", "Figure and threshold"]];
    for (const [column, text] of heads) svg.append(s("text", { x: COL[column], y: 16, class: "column-head" }, text));

    let y = 34;
    let personBox = null;
    if (!company) {
      const person = row.person || { email: row.email };
      const name = [person.firstName, person.lastName].filter(Boolean).join(" ");
      const known = (person.knownAs || []).map(recordLabel).join(", ");
      personBox = box(svg, { x: COL.person, y, width: 220, height: 58, title: person.email,
                             line: [name, person.title].filter(Boolean).join(", "), record: known,
                             tooltip: `${person.email}\n${name}\nKnown as: ${known}`, cls: "person" });
    }

    for (const [companyId, c] of companies) {
      const accounts = (c.company && c.company.accounts) || c.accounts;
      const mine = new Set(c.accounts.map(recordKey));
      const top = y;
      const groupHeight = accounts.length * 58 + 30;
      svg.append(s("rect", { class: "company-group", x: COL.account - 10, y: top, width: 250, height: groupHeight, rx: 10 },
                   s("title", {}, `Company ${companyId}: ${accounts.length} accounts linked as SAME_COMPANY`)));
      svg.append(s("text", { class: "company-label", x: COL.account, y: top + 16 },
                   `Company ${fit(companyId, 26)}`));
      const accountBoxes = new Map();
      accounts.forEach((account, i) => {
        const b = box(svg, { x: COL.account, y: top + 24 + i * 58, width: 230, title: account.name || "(no name)",
                             line: mine.has(recordKey(account)) ? (company ? "account of the company" : "their account") : "linked account",
                             record: recordLabel(account),
                             tooltip: `Account ${account.name}\nSource: ${account.source}\nId there: ${account.sourceKey}` +
                                      (account.industry ? `\nIndustry: ${account.industry}` : ""),
                             cls: mine.has(recordKey(account)) ? "account mine" : "account" });
        accountBoxes.set(recordKey(account), b);
        if (personBox && mine.has(recordKey(account))) {
          edge(svg, personBox.right, b.left, "works");
        }
        if (company && i === 0) edge(svg, [COL.person + 220, top + 40], b.left, "works");
      });
      if (company) {
        box(svg, { x: COL.person, y: top + 12, width: 220, height: 52, title: companyId,
                   line: `won ${number(c.company && c.company.wonTotal)}`, record: `${accounts.length} accounts`,
                   cls: "person" });
      }
      for (let i = 1; i < accounts.length; i++) {
        const a = accountBoxes.get(recordKey(accounts[i - 1]));
        const b = accountBoxes.get(recordKey(accounts[i]));
        svg.append(s("path", { class: "edge same", d: `M${a.x + 60},${a.y + a.height} L${b.x + 60},${b.y}` },
                     s("title", {}, "SAME_COMPANY: MDM says these accounts are one company")));
        svg.append(s("text", { class: "edge-label", x: a.x + 66, y: (a.y + a.height + b.y) / 2 + 4 },
                     "same company (MDM)"));
      }
      // The deals of each opportunity condition on this company, and its figure against the threshold.
      let dealY = top;
      for (const e of figures) {
        const value = e.companies.find((v) => v.companyId === companyId);
        if (!value) continue;
        const figure = describeFigure(conditionAt(segment.rule, e.path));
        const dealBoxes = value.deals.map((deal, i) => {
          const b = box(svg, { x: COL.deal, y: dealY + 24 + i * 58, width: 240, title: `${number(deal.amount)} ${deal.currency || ""}`.trim(),
                               line: fit(`${deal.name || "(no name)"} · ${deal.stage || ""}`, 40), record: recordLabel(deal),
                               tooltip: `Deal ${deal.name}\nAmount: ${number(deal.amount)} ${deal.currency || ""}\nStage: ${deal.stage}` +
                                        `\nClosed: ${deal.closeDate || "–"}\nSource: ${deal.source}\nId there: ${deal.sourceKey}` +
                                        (deal.account ? `\nAccount: ${deal.account.name} (${recordLabel(deal.account)})` : ""),
                               cls: "deal" });
          const from = deal.account && accountBoxes.get(recordKey(deal.account));
          if (from) edge(svg, from.right, b.left, "owns");
          return b;
        });
        if (value.moreDeals > 0) {
          svg.append(s("text", { class: "node-line", x: COL.deal, y: dealY + 24 + value.deals.length * 58 + 12 },
                       `… and ${value.moreDeals} more deals`));
        }
        const sumTop = dealY + 24 + Math.max(0, (value.deals.length * 58 - 70) / 2);
        const sum = box(svg, { x: COL.sum, y: sumTop, width: 230, height: 58, title: `${number(value.value)} ${figure.test}`,
                               line: `${figure.label}, each once`,
                               record: `${value.matched ? "✓ passes" : "✗ does not pass"} · ${value.dealCount} deals`,
                               tooltip: `${e.path}: ${figure.label} over every account of ${companyId}, each deal once\n` +
                                        `= ${number(value.value)} (${value.dealCount} deals), threshold ${figure.test}`,
                               cls: value.matched ? "sum passed" : "sum failed" });
        for (const b of dealBoxes) edge(svg, b.right, sum.left, "adds");
        dealY += Math.max(value.deals.length * 58 + 40, 110);
      }
      y = Math.max(top + groupHeight, dealY) + 20;
    }
    if (!companies.size) y += 70;

    // The visits that matched, from the person.
    if (visits.length) {
      svg.append(s("text", { x: COL.account, y: y + 10, class: "column-head" }, "Visits that matched"));
      visits.forEach(({ visit, evidence: e }, i) => {
        const condition = conditionAt(segment.rule, e.path) || {};
        const window = condition.withinDays ? ` (within ${condition.withinDays} days)` : "";
        const b = box(svg, { x: COL.account, y: y + 20 + i * 58, width: 580, title: visit.url,
                             line: `${when(visit.visitedAt)} · ${daysAgo(visit.visitedAt)}${window}`,
                             record: recordLabel(visit),
                             tooltip: `Visit of ${visit.url}\nAt: ${visit.visitedAt}\nSource: ${visit.source}\nId there: ${visit.sourceKey}`,
                             cls: e.matched ? "visit passed" : "visit" });
        if (personBox) edge(svg, [personBox.x + 110, personBox.y + personBox.height], b.left, "visited", "visited");
      });
      y += 20 + visits.length * 58 + 10;
    }

    // Every other condition, as a line each.
    if (others.length) {
      svg.append(s("text", { x: COL.person, y: y + 12, class: "column-head" }, "Other conditions"));
      y += 20;
      for (const e of others) {
        const parts = [
          ...e.accounts.map((a) => `${a.name} (${recordLabel(a)})`),
          ...e.memberships.map((m) => `${m.kind} ${m.name || m.id} (${m.source} · ${m.id})${m.status ? " " + m.status : ""}`),
          ...e.contactRoles.map((r) => `${r.role} on ${r.opportunity.name} (${recordLabel(r.opportunity)})`),
          ...(e.peopleCount ? [`${e.peopleCount} people: ${e.people.map((p) => p.email).join(", ")}`] : []),
        ];
        svg.append(s("text", { x: COL.person, y: y + 12, class: e.matched ? "other passed" : "other failed" },
                     s("title", {}, parts.join("\n")),
                     `${e.matched ? "✓" : "✗"} ${e.path} (${e.kind})${parts.length ? ": " + fit(parts.join("; "), 130) : ""}`));
        y += 20;
      }
    }
    const height = y + 10;
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`); // scaled to the column's width by the style sheet
    const verdict = evidence.every((e) => e.matched) ? "every condition holds" : "not every condition holds now";
    return h("figure", {}, svg,
      h("figcaption", { class: "meta" }, `${company ? row.companyId : row.email} in “${segment.name}”, evaluated now: ${verdict}.`));
  }

  // ---- Activations and deliveries ----------------------------------------------------------------

  function table(headers, rows) {
    return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))));
  }

  async function loadActivations() {
    const segment = state.segment;
    const activations = $("activations");
    const deliveries = $("deliveries");
    activations.replaceChildren(h("p", { class: "meta" }, "Loading…"));
    deliveries.replaceChildren();
    try {
      const data = await gql(ACTIVATIONS, { id: segment.id });
      const rows = data.segment.activations;
      activations.replaceChildren(rows.length
        ? table(["When", "Destination", "Sent", "No consent", "Unknown there", "Entered", "Left", "Files / batches"],
                rows.map((a) => [when(a.at), a.destination, number(a.sent), number(a.withoutConsent),
                                 number(a.unknownToDestination), number(a.entered), number(a.left),
                                 a.files.length ? a.downloads.join("\n") : `${a.batches.length} webhook batches`]))
        : h("p", { class: "meta" }, "Never activated."));
    } catch (error) {
      activations.replaceChildren(h("p", { class: "error" }, error.message));
    }
    try {
      const data = await gql(DELIVERIES, { id: segment.id });
      const rows = data.deliveries;
      deliveries.replaceChildren(rows.length
        ? table(["Created", "Destination", "Status", "Attempts", "Batches delivered", "People", "Entered", "Left", "Delivered", "Last error"],
                rows.map((d) => [when(d.createdAt), d.destination, d.status, number(d.attempts),
                                 `${d.batchesDelivered} of ${d.batchIds.length}`, number(d.people), number(d.entered),
                                 number(d.left), when(d.deliveredAt), d.lastError || ""]))
        : h("p", { class: "meta" }, "No live deliveries to webhooks."));
    } catch (error) {
      const text = error.code === "FORBIDDEN" ? "Webhook deliveries need a key with the admin scope." : error.message;
      deliveries.replaceChildren(h("p", { class: "meta" }, text));
    }
  }

  // ---- Wiring ------------------------------------------------------------------------------------

  async function start() {
    try {
      await loadSegments();
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    state.key = key;
    saveKey(key);
    $("key").value = "";
    $("key").placeholder = "key set (type another to change it)";
    start();
  });
  $("keep").addEventListener("change", () => {
    if (!$("keep").checked) localStorage.removeItem(KEY_STORE);
    else if (state.key) localStorage.setItem(KEY_STORE, state.key);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.search = $("search").value.trim() || null;
    state.cursors = [null];
    state.page = 0;
    loadMembers();
  });
  $("next").addEventListener("click", () => {
    if (state.cursors[state.page + 1] === undefined) return;
    state.page += 1;
    loadMembers();
  });
  $("prev").addEventListener("click", () => {
    if (state.page === 0) return;
    state.page -= 1;
    loadMembers();
  });

  state.key = loadKey();
  if (state.key) {
    $("key").placeholder = "key set (type another to change it)";
    start();
  } else {
    setStatus("Put your API key above to begin.");
  }
})();
