/* The graph explorer: a client of the public GraphQL API only.
 *
 * Every search, expansion, path and record is one POST to /graphql under the signed-in
 * caller's token and stated purpose, so the page shows exactly that caller's view and the
 * gateway audits every read. The token lives in this closure only: never in localStorage or
 * sessionStorage, gone with the page. Data reaches the DOM through textContent, never as HTML.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("explorer-config").textContent);
  var params = new URLSearchParams(window.location.search);
  // Persons drawn per expansion step (the rest wait behind "more"); ?batch= for demos and tests.
  var BATCH = bounded(params.get("batch"), 1, 200, 25);
  var MAX_DRAWN = 500; // beyond this the layout would make the page sluggish: clear first
  var REQUEST_TIMEOUT_MS = 30000;
  var LIVE_NOTICE = { REQUESTED: true, PUBLISHED: true };
  var COLOURS = [
    ["notice-red", "#d62728", "Red Notice"],
    ["notice-yellow", "#f2c80f", "Yellow Notice"],
    ["notice-blue", "#1f77b4", "Blue Notice"],
    ["notice-black", "#222222", "Black Notice"],
    ["notice-green", "#2ca02c", "Green Notice"],
    ["notice-orange", "#ff7f0e", "Orange Notice"],
    ["notice-purple", "#9467bd", "Purple Notice"],
    ["notice-un_special", "#17becf", "UN Special Notice"],
    ["diffusion", "#8c564b", "Active diffusion"],
    ["inactive", "#c7c7c7", "Only cancelled, refused or expired items"],
    ["none", "#ffffff", "No notice or diffusion you can see"],
  ];

  var SUMMARY = "fragment Summary on Person { id familyName givenNames notices { type status } diffusions { status } }";
  var Q = {
    me: "query ExplorerMe { me { user countryCode public agency { id name } } }",
    // A name, or a person's id: both are asked in one request.
    search:
      "query ExplorerSearch($name: String!, $id: ID!) { byId: person(id: $id) { id familyName givenNames dateOfBirth } " +
      "persons(filter: {name: $name}, first: 20) { totalCount edges { node { id familyName givenNames dateOfBirth } } } }",
    links:
      "query ExplorerLinks($id: ID!) { links(personId: $id, depth: 1) { truncated nodes { ...Summary } " +
      "edges { source target kind } } } " + SUMMARY,
    path:
      "query ExplorerPath($from: ID!, $to: ID!) { path(fromPersonId: $from, toPersonId: $to, maxDepth: 6) " +
      "{ length nodes { ...Summary } edges { source target kind } } } " + SUMMARY,
    record:
      "query ExplorerRecord($id: ID!) { person(id: $id) { id familyName givenNames aliases " +
      "nameOriginalScript script nameVariants dateOfBirth sex fingerprintRef dnaRef " +
      "nationalities { code name } recordedBy { id name } " +
      "travelDocuments { number type status issuingCountryCode } " +
      "notices { id type status statusReason sourceCountryCode requestedAt publishedAt expiresAt offenceSummary } " +
      "diffusions { id purpose status statusReason sourceCountryCode sentAt subjectToReview } " +
      "asylumApplications { id status receivingCountryCode lodgedAt decidedAt } } }",
  };

  var $ = function (id) { return document.getElementById(id); };
  var session = null; // { token, purpose }: memory only
  var inFlight = 0;
  var waiting = {}; // person id -> neighbours found by its expansion, not drawn yet (nearest first)
  var truncated = {}; // person id -> the gateway returned its 200 nearest and more exist
  var edgesKnown = {}; // edge key -> { source, target, kind }
  var selected = null;
  var recordSeq = 0;

  var cy = cytoscape({
    container: $("graph"),
    minZoom: 0.1,
    maxZoom: 4,
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)", "text-wrap": "wrap", "text-max-width": "140px", "font-size": 10,
          "text-valign": "bottom", "text-margin-y": 4, width: 26, height: 26,
          "border-width": 1, "border-color": "#445", "background-color": "#ffffff",
        },
      },
      { selector: "node.has-more", style: { "border-width": 4, "border-style": "dashed", "border-color": "#203047" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#0a5cff", "border-style": "solid" } },
      { selector: "node.on-path", style: { "underlay-color": "#0a5cff", "underlay-opacity": 0.25, "underlay-padding": 6, "underlay-shape": "ellipse" } },
      {
        selector: "edge",
        style: {
          width: 1.5, "line-color": "#8892a6", "curve-style": "bezier", label: "data(kind)",
          "font-size": 8, color: "#556", "text-rotation": "autorotate",
        },
      },
      { selector: "edge.on-path", style: { width: 4, "line-color": "#0a5cff" } },
    ].concat(COLOURS.map(function (c) {
      return { selector: "node." + c[0], style: { "background-color": c[1] } };
    })),
  });

  function bounded(text, low, high, fallback) {
    var n = parseInt(text || "", 10);
    return isNaN(n) ? fallback : Math.min(high, Math.max(low, n));
  }

  function say(message, isError) {
    $("status").textContent = message;
    $("status").classList.toggle("error", Boolean(isError));
  }

  function busy(delta) {
    inFlight += delta;
    document.body.classList.toggle("busy", inFlight > 0);
  }

  // One GraphQL request; resolves to `data`, rejects with the first error's code and message.
  function request(token, purpose, query, variables) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    $("status").classList.remove("error"); // an earlier failure is no longer the news
    busy(1);
    return fetch(config.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: "Bearer " + token,
        "X-Purpose": purpose,
      },
      // The operation's name reaches the audit log (e.g. "ExplorerLinks:links").
      body: JSON.stringify({ query: query, operationName: /^query (\w+)/.exec(query)[1], variables: variables || {} }),
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    })
      .then(function (response) {
        return response.json().catch(function () { throw new Error("HTTP " + response.status); });
      })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          var code = body.errors[0].extensions && body.errors[0].extensions.code;
          throw new Error((code ? code + ": " : "") + body.errors[0].message);
        }
        return body.data;
      })
      .catch(function (error) {
        if (error.name === "AbortError") throw new Error("the gateway did not answer within 30 s");
        throw error;
      })
      .finally(function () {
        clearTimeout(timer);
        busy(-1);
      });
  }

  function gql(query, variables) {
    if (!session) return Promise.reject(new Error("sign in first"));
    return request(session.token, session.purpose, query, variables);
  }

  function failed(error) { say(String(error.message || error), true); }

  // --- Colours ------------------------------------------------------------------------

  // The strongest thing the caller sees on a person: a live notice by type, then an active
  // diffusion, then items that are over; the API decides what is visible, the page only sorts.
  function colourOf(person) {
    var notices = person.notices || [];
    var diffusions = person.diffusions || [];
    var live = {};
    notices.forEach(function (n) { if (LIVE_NOTICE[n.status]) live["notice-" + n.type.toLowerCase()] = true; });
    for (var i = 0; i < COLOURS.length; i++) if (live[COLOURS[i][0]]) return COLOURS[i][0];
    if (diffusions.some(function (d) { return d.status === "ACTIVE"; })) return "diffusion";
    return notices.length || diffusions.length ? "inactive" : "none";
  }

  function displayName(p) {
    var name = [p.familyName, p.givenNames].filter(Boolean).join(", ");
    return name || "(name not visible)";
  }

  // --- Drawing ------------------------------------------------------------------------

  function edgeKey(e) {
    var ends = [e.source, e.target].sort();
    return ends[0] + "|" + ends[1] + "|" + (e.kind || "");
  }

  function drawPerson(p, near) {
    var colour = colourOf(p);
    var node = cy.getElementById(p.id);
    if (node.nonempty()) {
      node.data("label", displayName(p) + "\n" + p.id);
      COLOURS.forEach(function (c) { node.removeClass(c[0]); });
      node.addClass(colour);
      return false;
    }
    var at = { x: 0, y: 0 };
    var anchor = near ? cy.getElementById(near) : null;
    if (anchor && anchor.nonempty()) {
      var angle = Math.random() * 2 * Math.PI;
      at = { x: anchor.position("x") + 80 * Math.cos(angle), y: anchor.position("y") + 80 * Math.sin(angle) };
    }
    cy.add({ group: "nodes", data: { id: p.id, label: displayName(p) + "\n" + p.id }, classes: colour, position: at });
    return true;
  }

  function rememberEdges(edges) {
    edges.forEach(function (e) { edgesKnown[edgeKey(e)] = e; });
  }

  function drawEdges() {
    Object.keys(edgesKnown).forEach(function (key) {
      var e = edgesKnown[key];
      if (cy.getElementById(key).empty() && cy.getElementById(e.source).nonempty() &&
          cy.getElementById(e.target).nonempty()) {
        cy.add({ group: "edges", data: { id: key, source: e.source, target: e.target, kind: e.kind || "" } });
      }
    });
  }

  function layout() {
    cy.layout({
      name: "cose", animate: false, randomize: false, fit: true, padding: 40,
      nodeDimensionsIncludeLabels: true, numIter: cy.nodes().length > 150 ? 300 : 1000,
    }).run();
    fitView();
  }

  function fitView() {
    cy.fit(undefined, 40);
    if (cy.zoom() > 1.2) { // a few persons: keep labels readable rather than fill the canvas
      cy.zoom(1.2);
      cy.center();
    }
  }

  function room() { return MAX_DRAWN - cy.nodes().length; }

  function undrawn(id) {
    return (waiting[id] || []).filter(function (p) { return cy.getElementById(p.id).empty(); });
  }

  // Draw the next batch of a person's waiting neighbours.
  function drawMore(id) {
    var queue = undrawn(id);
    var take = Math.min(BATCH, queue.length, Math.max(0, room()));
    if (queue.length && take === 0) say("The drawing holds " + MAX_DRAWN + " persons: clear it to go on.", true);
    queue.slice(0, take).forEach(function (p) { drawPerson(p, id); });
    waiting[id] = queue.slice(take);
    drawEdges();
    Object.keys(waiting).forEach(markMore); // persons drawn now may have been waiting elsewhere too
    layout();
    if (selected === id) showActions(id);
  }

  function markMore(id) {
    var node = cy.getElementById(id);
    var left = undrawn(id).length;
    node.toggleClass("has-more", left > 0 || Boolean(truncated[id]));
  }

  function expand(id) {
    say("Expanding " + id + "…");
    return gql(Q.links, { id: id })
      .then(function (data) {
        var graph = data.links;
        if (!graph) {
          say(id + ": no such person, or not visible to you.", true);
          return;
        }
        graph.nodes.forEach(function (p) { if (p.id === id) drawPerson(p, null); });
        rememberEdges(graph.edges);
        waiting[id] = graph.nodes.filter(function (p) { return p.id !== id; });
        truncated[id] = graph.truncated;
        drawMore(id);
        var left = undrawn(id).length;
        say(id + ": " + (graph.nodes.length - 1) + " linked persons visible to you" +
          (graph.truncated ? " (the gateway's 200 nearest; more exist)" : "") +
          (left ? "; " + left + " wait behind “more”." : "."));
      })
      .catch(failed);
  }

  // --- Side panel ---------------------------------------------------------------------

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(value) {
    if (value === null || value === undefined) return "—";
    if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value);
  }

  function pairs(list) {
    var dl = el("dl");
    list.forEach(function (pair) {
      dl.appendChild(el("dt", pair[0]));
      dl.appendChild(el("dd", show(pair[1])));
    });
    return dl;
  }

  // One card per item: its first columns as a heading, the rest as name–value pairs.
  function items(title, rows, heading, columns) {
    var box = document.createElement("section");
    box.appendChild(el("h3", title + " (" + rows.length + ")"));
    rows.forEach(function (row) {
      box.appendChild(el("h4", heading.map(function (c) { return show(row[c]); }).join(" · ")));
      box.appendChild(pairs(columns.map(function (c) { return [c, row[c]]; })));
    });
    return box;
  }

  function showRecord(person) {
    var box = $("panel-record");
    box.replaceChildren();
    box.appendChild(pairs([
      ["id", person.id], ["family name", person.familyName], ["given names", person.givenNames],
      ["aliases", person.aliases], ["original script", person.nameOriginalScript], ["script", person.script],
      ["name variants", person.nameVariants], ["date of birth", person.dateOfBirth], ["sex", person.sex],
      ["nationalities", (person.nationalities || []).map(function (c) { return c.code; })],
      ["recorded by", person.recordedBy ? person.recordedBy.name : null],
      ["fingerprint ref", person.fingerprintRef], ["DNA ref", person.dnaRef],
    ]));
    box.appendChild(items("Notices", person.notices || [], ["id", "type", "status"],
      ["statusReason", "sourceCountryCode", "requestedAt", "publishedAt", "expiresAt", "offenceSummary"]));
    box.appendChild(items("Diffusions", person.diffusions || [], ["id", "purpose", "status"],
      ["statusReason", "sourceCountryCode", "sentAt", "subjectToReview"]));
    box.appendChild(items("Travel documents", person.travelDocuments || [], ["number", "type"],
      ["status", "issuingCountryCode"]));
    box.appendChild(items("Asylum applications", person.asylumApplications || [], ["id", "status"],
      ["receivingCountryCode", "lodgedAt", "decidedAt"]));
  }

  function showActions(id) {
    var left = undrawn(id).length;
    $("more").hidden = left === 0;
    $("more").textContent = "Show " + Math.min(BATCH, left) + " more (" + left + " waiting)";
    $("panel-note").textContent = truncated[id]
      ? "The gateway returns the 200 nearest linked persons; more exist beyond them."
      : waiting[id] === undefined ? "Not expanded yet." : "";
  }

  function select(id) {
    selected = id;
    var seq = ++recordSeq;
    if ($("panel").hidden) {
      $("panel").hidden = false;
      cy.resize(); // the panel narrows the drawing's container
      fitView();
    }
    $("panel-title").textContent = id;
    $("panel-record").replaceChildren(el("p", "Loading…"));
    showActions(id);
    return gql(Q.record, { id: id })
      .then(function (data) {
        if (seq !== recordSeq) return; // another person was chosen meanwhile
        if (!data.person) {
          $("panel-record").replaceChildren(el("p", "No such person, or not visible to you."));
          return;
        }
        $("panel-title").textContent = displayName(data.person);
        showRecord(data.person);
      })
      .catch(failed);
  }

  // --- Forms --------------------------------------------------------------------------

  function clearDrawing() {
    cy.elements().remove();
    waiting = {};
    truncated = {};
    edgesKnown = {};
    selected = null;
    $("panel").hidden = true;
    $("path-result").textContent = "";
  }

  function signedIn(label) {
    $("signin").hidden = !!label;
    $("whoami").hidden = !label;
    $("whoami-text").textContent = label || "";
  }

  $("signin").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = $("token").value.trim();
    if (!token) { say("Paste a token, or choose a demo agency.", true); return; }
    var purpose = $("purpose").value;
    request(token, purpose, Q.me, {})
      .then(function (data) {
        var me = data.me;
        if (me.public) throw new Error("the token was not accepted");
        var label = (me.user || "?") + " · " + (me.agency ? me.agency.name : "?") +
          (me.countryCode ? " (" + me.countryCode + ")" : "") + " · purpose " + purpose;
        session = { token: token, purpose: purpose };
        $("token").value = "";
        $("demo-agency").value = "";
        signedIn(label);
        say("Signed in. Search a person by name.");
      })
      .catch(failed);
  });

  $("signout").addEventListener("click", function () {
    session = null;
    clearDrawing();
    $("results").replaceChildren();
    signedIn(null);
    say("Signed out.");
  });

  $("demo-agency").addEventListener("change", function () {
    var chosen = config.demoTokens.filter(function (d) { return d.agency === $("demo-agency").value; })[0];
    $("token").value = chosen ? chosen.token : "";
  });

  $("search").addEventListener("submit", function (event) {
    event.preventDefault();
    var name = $("search-name").value.trim();
    if (!name) return;
    gql(Q.search, { name: name, id: name })
      .then(function (data) {
        var list = $("results");
        list.replaceChildren();
        var edges = data.persons.edges;
        var found = edges.map(function (edge) { return edge.node; });
        if (data.byId && !found.some(function (p) { return p.id === data.byId.id; })) found.unshift(data.byId);
        found.forEach(function (p) {
          var button = el("button", displayName(p) + (p.dateOfBirth ? " (" + p.dateOfBirth + ")" : "") + " · " + p.id);
          button.type = "button";
          button.dataset.id = p.id;
          button.addEventListener("click", function () {
            expand(p.id).then(function () {
              if (cy.getElementById(p.id).nonempty()) {
                cy.$(":selected").unselect();
                cy.getElementById(p.id).select();
                select(p.id);
              }
            });
          });
          var item = el("li");
          item.appendChild(button);
          list.appendChild(item);
        });
        say(data.persons.totalCount + " persons visible to you match the name" +
          (data.persons.totalCount > edges.length ? "; the first " + edges.length + " are listed" : "") +
          (data.byId ? "; one has this id." : "."));
      })
      .catch(failed);
  });

  $("path").addEventListener("submit", function (event) {
    event.preventDefault();
    var from = $("path-from").value.trim();
    var to = $("path-to").value.trim();
    gql(Q.path, { from: from, to: to })
      .then(function (data) {
        cy.elements().removeClass("on-path");
        if (!data.path) {
          $("path-result").textContent = "No path through persons visible to you within 6 links.";
          say($("path-result").textContent);
          return;
        }
        data.path.nodes.forEach(function (p, i) { drawPerson(p, i ? data.path.nodes[i - 1].id : null); });
        rememberEdges(data.path.edges);
        drawEdges();
        data.path.nodes.forEach(function (p) { cy.getElementById(p.id).addClass("on-path"); });
        data.path.edges.forEach(function (e) { cy.getElementById(edgeKey(e)).addClass("on-path"); });
        layout();
        $("path-result").textContent = "Path of " + data.path.length + " link" + (data.path.length === 1 ? "" : "s") +
          ": " + data.path.nodes.map(function (p) { return p.id; }).join(" – ");
        say($("path-result").textContent);
      })
      .catch(failed);
  });

  $("clear").addEventListener("click", clearDrawing);
  $("expand").addEventListener("click", function () { if (selected) expand(selected); });
  $("more").addEventListener("click", function () { if (selected) drawMore(selected); });
  $("set-from").addEventListener("click", function () { if (selected) $("path-from").value = selected; });
  $("set-to").addEventListener("click", function () { if (selected) $("path-to").value = selected; });

  cy.on("tap", "node", function (event) { select(event.target.id()); });
  cy.on("dbltap", "node", function (event) { expand(event.target.id()); });

  // --- Start --------------------------------------------------------------------------

  config.purposes.forEach(function (p) { $("purpose").appendChild(el("option", p)).value = p; });
  if (config.demoTokens.length) {
    $("demo-label").hidden = false;
    config.demoTokens.forEach(function (d) { $("demo-agency").appendChild(el("option", d.agency)).value = d.agency; });
  }
  COLOURS.forEach(function (c) {
    var item = el("li");
    var swatch = el("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = c[1];
    item.appendChild(swatch);
    item.appendChild(el("span", c[2]));
    $("legend").appendChild(item);
  });
  signedIn(null);
  say(config.demoTokens.length ? "Development: choose a demo agency, or paste a token." : "Paste a token to sign in.");

  // For tests and demos: what is drawn, never the token.
  window.explorer = Object.freeze({
    nodes: function () { return cy.nodes().map(function (n) { return n.id(); }).sort(); },
    edges: function () {
      return cy.edges().map(function (e) { return [e.data("source"), e.data("target"), e.data("kind")]; });
    },
    colour: function (id) {
      var node = cy.getElementById(id);
      var found = COLOURS.filter(function (c) { return node.hasClass(c[0]); })[0];
      return found ? found[0] : null;
    },
    waiting: function (id) { return undrawn(id).length; },
    idle: function () { return inFlight === 0; },
  });
})();
