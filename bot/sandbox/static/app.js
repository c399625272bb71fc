// The sandbox page: polls /api/state once a second and draws a Slack-like client from it.
// Everything the visitor does is one POST to /api/*; the server turns it into Slack's own
// request to the bot. No framework, no build step.
"use strict";

(() => {
  const B = EngageBlocks;
  const $ = (id) => document.getElementById(id);
  const ROLES = { staff: "staff", lead: "department lead", comms: "comms team", app: "app" };
  const TOUR = [
    ["citizen", "📣 Post as a citizen", "Top right. Watch the card arrive in its channel."],
    ["claim", "🙋 Claim a card", "Click Claim: the card says you took it."],
    ["refused", "🔁 Be someone else, try Release", "“Acting as”, top right: Engage says no."],
    ["answer", "✅ Answer it", "As the claimer: Answered, write the reply, Save."],
    ["home", "🏠 Open Engage's Home", "Apps, bottom left: what waits for you."],
    ["clock", "⏩ Move the clock", "+1 hour or +1 day: time passes for the bot."],
  ];
  const TOPICS = {
    triage: "Mentions no rule matched: look at them and hand them over.",
  };

  const S = {
    user: localStorage.getItem("engage.user") || "",
    state: null,
    version: null,
    where: { kind: "channel", id: null }, // or {kind: "app"}
    thread: null, // "channel:ts" of the open thread
    pane: null, // "thread" | "citizen"
    seen: {}, // channel -> newest ts the visitor has looked at
    shownEphemerals: null, // Set of ephemeral ts already announced
    dismissed: new Set(),
    modalKey: null,
    follow: null, // after a citizen post: the messages that existed before it
    flash: null,
    tour: JSON.parse(localStorage.getItem("engage.tour") || "{}"),
  };

  // ------------------------------------------------------------------ helpers
  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    let data;
    try {
      const res = await fetch(path, opts);
      data = await res.json();
    } catch (err) {
      data = { ok: false, error: "the sandbox is not answering (is `engage sandbox` running?)" };
    }
    if (!data.ok && body !== undefined) toast(data.error || "something went wrong", "error");
    return data;
  }
  function toast(text, kind, html) {
    const node = B.el("div", "toast " + (kind || ""));
    if (html) node.innerHTML = html; else node.textContent = text;
    const box = $("toasts");
    box.appendChild(node);
    while (box.children.length > 3) box.firstChild.remove();
    setTimeout(() => node.classList.add("gone"), 4000);
    setTimeout(() => node.remove(), 4500);
  }
  function ctx(extra) {
    const st = S.state;
    const names = {};
    for (const p of st.people) names[p.id] = p.name;
    const channels = {};
    for (const c of st.channels) channels[c.id] = c.name;
    return { names, channels, now: new Date(st.now), ...extra };
  }
  function person(id) {
    return S.state.people.find((p) => p.id === id) || { id, name: id, role: "" };
  }
  function colorOf(id) {
    let h = 0;
    for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
    return `hsl(${h}, 45%, 42%)`;
  }
  function avatar(id, small) {
    const p = person(id);
    const a = B.el("span", "avatar" + (small ? " small" : "") + (p.role === "app" ? " app" : ""));
    a.textContent = p.role === "app" ? "E" : p.name.charAt(0).toUpperCase();
    if (p.role !== "app") a.style.background = colorOf(id);
    return a;
  }
  function when(msg) {
    const d = new Date(msg.shown_at * 1000);
    const now = new Date(S.state.now);
    const time = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    if (d.toDateString() === now.toDateString()) return time;
    return d.toLocaleDateString([], { weekday: "short", month: "short", day: "numeric" }) +
      ", " + time;
  }
  function channelName(id) {
    return S.state.channels.find((c) => c.id === id)?.name || id;
  }
  function done(step) {
    if (S.tour[step]) return;
    S.tour[step] = true;
    localStorage.setItem("engage.tour", JSON.stringify(S.tour));
    renderTour();
  }

  // ------------------------------------------------------------------ polling
  async function refresh() {
    const q = new URLSearchParams({ user: S.user });
    if (S.thread) q.set("thread", S.thread);
    const st = await api("/api/state?" + q);
    if (!st.ok) {
      if (/unknown person/.test(st.error || "") && S.user) {
        S.user = "";
        return refresh();
      }
      $("now").textContent = "(sandbox stopped)";
      return;
    }
    const first = S.state === null;
    S.state = st;
    if (!S.user) S.user = st.me;
    renderClock();
    if (first) setup();
    // Redraw when something changed, or when time moved ("today" may have become "yesterday").
    const version = `${st.version}:${st.offset_seconds}`;
    if (version === S.version) return;
    S.version = version;
    follow();
    announceEphemerals();
    renderSidebar();
    renderMain();
    renderPane();
    renderModal();
  }
  // One request at a time: an action asks for a poll at once; a poll asked for while one is
  // running follows it; otherwise the page polls once a second.
  let timer = null, running = false, again = false;
  async function poll() {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await refresh();
    } catch (err) {
      console.error(err); // keep polling: the next state may draw fine
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      poll();
      return;
    }
    timer = setTimeout(poll, 1000);
  }

  // ------------------------------------------------------------------ first state
  function setup() {
    const st = S.state;
    const sel = $("user");
    for (const p of st.people.filter((x) => x.role !== "app")) {
      sel.add(new Option(`${p.name} · ${ROLES[p.role] || p.role}`, p.id));
    }
    sel.value = S.user;
    renderMe();
    sel.addEventListener("change", () => {
      S.user = sel.value;
      localStorage.setItem("engage.user", S.user);
      S.modalKey = null;
      S.version = null;
      S.shownEphemerals = null;
      renderMe();
      if (S.where.kind === "app") openHome();
      const p = person(S.user);
      toast(`You are now ${p.name} (${ROLES[p.role] || p.role}).`, "info");
      poll();
    });
    const source = $("citizen-source");
    for (const s of st.sources) source.add(new Option(s.label, s.id));
    source.addEventListener("change", () => {
      $("citizen-author").value = st.sources.find((s) => s.id === source.value).author;
    });
    source.dispatchEvent(new Event("change"));
    S.where.id = st.channels[0]?.id;
    renderTour();
  }
  function renderMe() {
    const slot = $("me-avatar");
    slot.replaceWith(Object.assign(avatar(S.user, true), { id: "me-avatar" }));
  }

  // ------------------------------------------------------------------ top bar
  function renderClock() {
    const now = new Date(S.state.now);
    $("now").textContent = now.toLocaleString([], {
      weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
    });
    const ahead = S.state.offset_seconds;
    const days = Math.floor(ahead / 86400), hours = Math.floor((ahead % 86400) / 3600);
    const mins = Math.floor((ahead % 3600) / 60);
    const parts = [days && `${days} d`, hours && `${hours} h`, mins && `${mins} min`];
    $("ahead").textContent = ahead >= 60 ? `(${parts.filter(Boolean).join(" ")} ahead)` : "";
  }

  // ------------------------------------------------------------------ sidebar
  function renderSidebar() {
    const list = $("channels");
    list.replaceChildren();
    for (const c of S.state.channels) {
      const here = S.where.kind === "channel" && S.where.id === c.id;
      if (here) markSeen(c);
      const unread = c.messages.filter((m) => m.ts > (S.seen[c.id] || "0")).length;
      const li = B.el("li");
      const a = B.el("button", "nav-item" + (here ? " active" : "") + (unread ? " unread" : ""));
      a.type = "button";
      a.dataset.channel = c.id;
      a.append(B.textEl("span", "hash", "#"), B.textEl("span", "nav-name", c.name));
      if (unread) a.appendChild(B.textEl("span", "badge", String(unread)));
      a.addEventListener("click", () => go({ kind: "channel", id: c.id }));
      li.appendChild(a);
      list.appendChild(li);
    }
    $("apps-section").hidden = false;
    {
      const a = B.el("button", "nav-item" + (S.where.kind === "app" ? " active" : ""));
      a.type = "button";
      const here = S.where.kind === "app";
      if (here) markSeen({ id: "app", messages: S.state.direct });
      const unread = S.state.direct.filter((m) => m.ts > (S.seen.app || "0")).length;
      a.classList.toggle("unread", unread > 0);
      a.append(avatar(S.state.people.find((p) => p.role === "app").id, true),
        B.textEl("span", "nav-name", "Engage"));
      if (unread) a.appendChild(B.textEl("span", "badge", String(unread)));
      a.addEventListener("click", () => go({ kind: "app" }));
      $("apps").replaceChildren(B.el("li"));
      $("apps").firstChild.appendChild(a);
    }
  }
  function markSeen(c) {
    const newest = c.messages.reduce((max, m) => (m.ts > max ? m.ts : max), "0");
    if (newest > (S.seen[c.id] || "0")) S.seen[c.id] = newest;
  }
  function go(where) {
    if (where.kind === "app") openHome();
    S.where = where;
    S.scrollToEnd = true;
    renderSidebar();
    renderMain();
  }

  function renderTour() {
    const ol = $("tour-steps");
    ol.replaceChildren();
    for (const [id, title, how] of TOUR) {
      const li = B.el("li", S.tour[id] ? "done" : "");
      li.dataset.step = id;
      li.append(B.textEl("span", "check", S.tour[id] ? "✓" : ""), B.textEl("strong", "", title),
        B.textEl("span", "how", how));
      ol.appendChild(li);
    }
    const n = TOUR.filter(([id]) => S.tour[id]).length;
    $("tour-count").textContent = n === TOUR.length ? "🎉 done!" : `${n}/${TOUR.length}`;
  }

  // ------------------------------------------------------------------ messages
  function message(msg, opts) {
    const node = B.el("div", "msg" + (msg.ephemeral ? " ephemeral" : ""));
    node.dataset.ts = msg.ts;
    node.dataset.channel = msg.channel;
    if (S.flash === `${msg.channel}:${msg.ts}`) node.classList.add("flash");
    // Ephemerals carry the user they are shown to; the app wrote them.
    const author = msg.bot || msg.ephemeral ? S.state.people.find((p) => p.role === "app").id
      : msg.user;
    node.appendChild(avatar(author || "?"));
    const body = B.el("div", "msg-body");
    const head = B.el("div", "msg-head");
    head.appendChild(B.textEl("span", "name", person(author).name));
    if (msg.bot || msg.ephemeral) head.appendChild(B.textEl("span", "app-badge", "APP"));
    head.appendChild(B.textEl("span", "time", when(msg)));
    if (msg.edited) head.appendChild(B.textEl("span", "edited", "(edited)"));
    body.appendChild(head);
    if (msg.ephemeral) {
      const note = B.el("div", "only-you");
      note.append(B.textEl("span", "", "👁 Only visible to you"));
      const dismiss = B.textEl("button", "link", "Dismiss");
      dismiss.type = "button";
      dismiss.addEventListener("click", () => {
        S.dismissed.add(msg.ts);
        renderMain();
        renderPane();
      });
      note.appendChild(dismiss);
      body.appendChild(note);
    }
    const c = ctx({ onAction: (elt, blockId, value, button) =>
      click(msg, elt, blockId, value, button) });
    if (msg.root && !opts?.inThread) { // a reply also sent to the channel: which thread
      const root = B.el("button", "broadcast-of");
      root.type = "button";
      root.innerHTML = "replied to a thread: " + B.mrkdwn(msg.root.text, c);
      root.addEventListener("click", () => openThread({ channel: msg.channel, ts: msg.root.ts }));
      body.appendChild(root);
    }
    if (msg.blocks && msg.blocks.length) body.appendChild(B.render(msg.blocks, c));
    else if (msg.text || !msg.files?.length) {
      body.appendChild(B.el("div", "b-text", B.mrkdwn(msg.text, c)));
    }
    for (const f of msg.files || []) body.appendChild(file(f));
    if (!opts?.inThread && !msg.ephemeral && msg.reply_count) {
      const link = B.el("button", "replies");
      link.type = "button";
      for (const u of (msg.reply_users || []).slice(0, 3)) link.appendChild(avatar(u, true));
      link.appendChild(B.textEl("span", "", `${msg.reply_count} ${msg.reply_count === 1
        ? "reply" : "replies"}`));
      link.addEventListener("click", () => openThread(msg));
      body.appendChild(link);
    }
    node.appendChild(body);
    if (!opts?.inThread && !msg.ephemeral) {
      const tools = B.el("div", "msg-tools");
      const reply = B.textEl("button", "", "💬 Reply in thread");
      reply.type = "button";
      reply.addEventListener("click", () => openThread(msg));
      tools.appendChild(reply);
      node.appendChild(tools);
    }
    return node;
  }

  function file(f) { // a shared file: images inline with their description, as Slack does
    const box = B.el("figure", "file");
    box.appendChild(B.textEl("figcaption", "", f.title || f.name || "file"));
    if (/^image\//.test(f.mimetype || "")) {
      const img = B.el("img");
      img.src = f.url;
      img.alt = f.alt_txt || f.title || "";
      box.appendChild(img);
    }
    return box;
  }

  function renderMain() {
    const st = S.state;
    const box = $("messages");
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const keep = box.scrollTop;
    box.replaceChildren();
    $("composer").hidden = S.where.kind !== "channel";
    document.querySelector(".composer-hint").hidden = S.where.kind !== "channel";
    if (S.where.kind === "app") {
      renderApp(box);
      return;
    }
    const c = st.channels.find((x) => x.id === S.where.id) || st.channels[0];
    $("channel-name").textContent = "# " + c.name;
    $("channel-topic").textContent = TOPICS[c.name] ||
      "Mentions the rules send to this department.";
    $("composer-text").placeholder = `Message #${c.name}, or /engage help`;
    const items = [...c.messages, ...st.ephemerals.filter((e) => e.channel === c.id &&
      !e.thread_ts && !S.dismissed.has(e.ts))].sort((a, b) => a.shown_at - b.shown_at ||
      (a.ts < b.ts ? -1 : 1));
    if (!items.length) {
      box.appendChild(B.el("div", "empty",
        `<strong>Nothing in #${B.escapeHtml(c.name)} yet.</strong><br>` +
        "Post as a citizen (top right) and Engage brings the post here if a rule sends it."));
    }
    for (const m of items) box.appendChild(message(m));
    if (atEnd || S.scrollToEnd) box.scrollTop = box.scrollHeight;
    else box.scrollTop = keep;
    S.scrollToEnd = false;
    const flashed = S.flash && box.querySelector(".msg.flash");
    if (flashed) flashed.scrollIntoView({ block: "center" });
  }

  function renderApp(box) {
    const st = S.state;
    $("channel-name").textContent = "Engage";
    $("channel-topic").textContent = "The app's Home tab and its messages to you.";
    if (!st.home) box.appendChild(B.textEl("div", "empty", "Opening the Home tab…"));
    if (st.home) {
      const home = B.el("div", "home");
      home.appendChild(B.textEl("div", "home-title", "Home"));
      home.appendChild(B.render(st.home.blocks, ctx({ onAction: (elt, blockId, value, button) =>
        clickView(st.home.id, elt, blockId, value, button) })));
      box.appendChild(home);
    }
    for (const m of st.direct) box.appendChild(message(m, { inThread: true }));
  }

  async function click(msg, elt, blockId, value, button) {
    if (button) button.disabled = true;
    const res = await api(msg.ephemeral ? "/api/click_ephemeral" : "/api/click", {
      user: S.user, channel: msg.channel, ts: msg.ts, action_id: elt.action_id,
      block_id: blockId, value,
    });
    if (res.ok && /claim$/.test(elt.action_id || "")) done("claim");
    poll();
  }

  async function openHome() { // as Slack does on each visit: the bot publishes the tab again
    const res = await api("/api/home", { user: S.user });
    if (res.ok) done("home");
    poll();
  }

  async function clickView(viewId, elt, blockId, value, button) {
    if (button) button.disabled = true;
    await api("/api/click_view", {
      user: S.user, view_id: viewId, action_id: elt.action_id, block_id: blockId, value,
    });
    poll();
  }

  // ------------------------------------------------------------------ ephemerals & follow
  function announceEphemerals() {
    const mine = S.state.ephemerals;
    if (S.shownEphemerals === null) {
      S.shownEphemerals = new Set(mine.map((e) => e.ts));
      return;
    }
    for (const e of mine) {
      if (S.shownEphemerals.has(e.ts)) continue;
      S.shownEphemerals.add(e.ts);
      if (S.tour.claim) done("refused");
      if (S.where.kind === "channel" && S.where.id === e.channel) {
        S.scrollToEnd = true; // it shows at the end of this channel
        continue;
      }
      const where = ` in #${B.escapeHtml(channelName(e.channel))}`;
      toast("", "info", `<strong>Engage</strong> (only to you${where}): ` +
        B.mrkdwn(e.text, ctx()));
    }
  }

  function follow() {
    if (!S.follow) return;
    if (Date.now() > S.follow.until) {
      S.follow = null;
      return;
    }
    for (const c of S.state.channels) {
      const fresh = c.messages.find((m) => !S.follow.known.has(`${c.id}:${m.ts}`) &&
        (m.text || "").includes(S.follow.needle));
      if (!fresh) continue;
      S.follow = null;
      S.where = { kind: "channel", id: c.id };
      S.flash = `${c.id}:${fresh.ts}`;
      setTimeout(() => { S.flash = null; }, 3000);
      toast("", "ok", `The post arrived as a card in <strong>#${B.escapeHtml(c.name)}</strong>.`);
      return;
    }
  }

  // ------------------------------------------------------------------ right pane
  function openThread(msg) {
    S.thread = `${msg.channel}:${msg.ts}`;
    S.pane = "thread";
    S.version = null;
    poll();
    setTimeout(() => $("thread-text").focus(), 50);
  }
  function openPane(kind) {
    S.pane = kind;
    if (kind !== "thread") S.thread = null;
    renderPane();
  }
  function renderPane() {
    $("pane").hidden = !S.pane;
    $("thread").hidden = S.pane !== "thread";
    $("citizen").hidden = S.pane !== "citizen";
    if (S.pane === "citizen") {
      $("pane-title").textContent = "Post as a citizen";
      $("pane-sub").textContent = "";
    }
    if (S.pane !== "thread") return;
    const th = S.state.thread;
    const box = $("thread-messages");
    $("pane-title").textContent = "Thread";
    if (!th) {
      box.replaceChildren(B.textEl("div", "empty", "Loading…"));
      return;
    }
    $("pane-sub").textContent = "#" + channelName(th.channel);
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.replaceChildren(message(th.parent, { inThread: true }));
    const n = th.replies.length;
    box.appendChild(B.textEl("div", "divider-label", n ? `${n} ${n === 1 ? "reply" : "replies"}`
      : "No replies yet"));
    const eph = S.state.ephemerals.filter((e) => e.thread_ts === th.ts && e.channel === th.channel
      && !S.dismissed.has(e.ts));
    for (const m of [...th.replies, ...eph]) box.appendChild(message(m, { inThread: true }));
    if (atEnd) box.scrollTop = box.scrollHeight;
  }

  // ------------------------------------------------------------------ modal
  function renderModal() {
    const view = S.state.modal;
    const key = view ? `${view.id}:${view.hash}` : null;
    if (key === S.modalKey) return;
    S.modalKey = key;
    $("overlay").hidden = !view;
    if (!view) return;
    $("modal-title").textContent = view.title?.text || "";
    $("modal-error").hidden = true;
    $("modal-body").replaceChildren(B.render(view.blocks, ctx({ inputs: true,
      onAction: (elt, blockId, value, button) => clickView(view.id, elt, blockId, value, button),
      onSuggest: async (elt, blockId, value) => (await api("/api/suggest", {
        user: S.user, view_id: view.id, action_id: elt.action_id, value })).options || [] })));
    $("modal-close").textContent = view.close?.text || (view.submit ? "Cancel" : "Close");
    $("modal-submit").hidden = !view.submit;
    $("modal-submit").textContent = view.submit?.text || "";
    $("modal-submit").disabled = false;
    $("modal").dataset.view = view.id;
    $("modal").dataset.callback = view.callback_id || "";
    setTimeout(() => $("modal-body").querySelector(".b-field")?.focus(), 30);
  }
  function showErrors(errors) {
    let shown = false;
    for (const wrap of $("modal-body").querySelectorAll(".b-input")) {
      const text = errors[wrap.dataset.block];
      wrap.classList.toggle("has-error", Boolean(text));
      const slot = wrap.querySelector(".b-error") || wrap.appendChild(B.el("div", "b-error"));
      slot.textContent = text ? names(text) : "";
      shown = shown || Boolean(text);
    }
    const rest = Object.entries(errors).filter(([block]) =>
      !$("modal-body").querySelector(`.b-input[data-block="${CSS.escape(block)}"]`));
    $("modal-error").hidden = !rest.length;
    $("modal-error").textContent = rest.map(([, text]) => names(text)).join(" ");
    return shown || rest.length > 0;
  }
  function names(text) { // plain-text errors name people as @U123: show their names
    return String(text).replace(/@(U[A-Z0-9]+)/g, (m, id) => "@" + person(id).name);
  }
  async function submitModal(ev) {
    ev.preventDefault();
    const id = $("modal").dataset.view;
    const { values, missing } = B.collect($("modal-body"));
    const required = {};
    for (const block of missing) required[block] = "Please complete this required field.";
    if (showErrors(required)) return;
    $("modal-submit").disabled = true;
    const res = await api("/api/submit", { user: S.user, view_id: id, values });
    $("modal-submit").disabled = false;
    if (!res.ok) return;
    if (showErrors(res.errors || {})) return;
    if (!res.open) {
      if (/answer/.test($("modal").dataset.callback)) done("answer");
      $("overlay").hidden = true;
      S.modalKey = null;
      toast("Saved.", "ok");
    }
    poll();
  }
  async function closeModal() {
    const id = $("modal").dataset.view;
    $("overlay").hidden = true;
    await api("/api/close", { user: S.user, view_id: id });
    S.modalKey = null;
    poll();
  }

  // ------------------------------------------------------------------ forms
  async function send(text, threadTs) {
    const c = S.where.id;
    if (text.startsWith("/")) {
      const res = await api("/api/command", { user: S.user, channel: c, text });
      if (res.ok) S.scrollToEnd = true;
      return res.ok;
    }
    const channel = threadTs ? S.thread.split(":")[0] : c;
    const res = await api("/api/message", { user: S.user, channel, text, thread_ts: threadTs });
    return res.ok;
  }

  function wire() {
    $("composer").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = $("composer-text").value.trim();
      if (!text) return;
      if (await send(text)) $("composer-text").value = "";
      poll();
    });
    $("thread-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = $("thread-text").value.trim();
      if (!text || !S.thread) return;
      if (await send(text, S.thread.split(":")[1])) $("thread-text").value = "";
      poll();
    });
    $("thread-text").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        $("thread-form").requestSubmit();
      }
    });
    $("citizen-open").addEventListener("click", () => {
      openPane("citizen");
      $("citizen-text").focus();
    });
    $("pane-close").addEventListener("click", () => {
      S.pane = null;
      S.thread = null;
      renderPane();
    });
    for (const chip of document.querySelectorAll(".chip")) {
      chip.addEventListener("click", () => { $("citizen-text").value = chip.textContent; });
    }
    $("citizen").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = $("citizen-text").value.trim();
      if (!text) {
        toast("Write what the citizen says first.", "error");
        return;
      }
      const known = new Set();
      for (const c of S.state.channels) for (const m of c.messages) known.add(`${c.id}:${m.ts}`);
      $("citizen-post").disabled = true;
      const res = await api("/api/citizen", {
        source: $("citizen-source").value, author: $("citizen-author").value,
        title: $("citizen-title").value, text,
      });
      $("citizen-post").disabled = false;
      if (!res.ok) return;
      // A card's fallback text quotes the start of the post, escaped as Slack escapes it.
      const needle = text.split(/\s+/).join(" ").slice(0, 40).replace(/&/g, "&amp;")
        .replace(/</g, "&lt;").replace(/>/g, "&gt;");
      S.follow = { known, needle, until: Date.now() + 20000 };
      $("citizen-text").value = "";
      $("citizen-title").value = "";
      S.pane = null;
      renderPane();
      done("citizen");
      toast("Posted. Engage is routing it…", "info");
      poll();
    });
    for (const b of document.querySelectorAll(".clock-btn")) {
      b.addEventListener("click", async () => {
        b.disabled = true;
        const res = await api("/api/clock", { minutes: Number(b.dataset.minutes) });
        b.disabled = false;
        if (res.ok) {
          done("clock");
          const digests = Object.keys(res.ran || {}).filter((j) => j.startsWith("digest")).length;
          toast(`Time moved forward ${b.textContent.slice(1)}.` + (digests
            ? ` The weekly digest went out (${digests}).` : ""), "info");
        }
        poll();
      });
    }
    $("modal-form").addEventListener("submit", submitModal);
    $("modal-body").addEventListener("change", (ev) => { // selects say "change", not "input"
      ev.target.closest(".b-input")?.classList.remove("has-error");
    });
    $("modal-body").addEventListener("input", (ev) => {
      const wrap = ev.target.closest(".b-input");
      if (!wrap) return;
      wrap.classList.remove("has-error");
      const slot = wrap.querySelector(".b-error");
      if (slot) slot.textContent = "";
    });
    $("modal-close").addEventListener("click", closeModal);
    $("modal-x").addEventListener("click", closeModal);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !$("overlay").hidden) closeModal();
    });
  }

  wire();
  poll();
})();
