// Block Kit and mrkdwn, rendered the way Slack's client shows them (the subset Engage uses).
//
// Safety rule: every piece of message text is HTML-escaped before any markup is added, and
// the only tags produced are the ones written below; links must be http(s) or mailto.
"use strict";

const EngageBlocks = (() => {
  const EMOJI = {
    raising_hand: "🙋", white_check_mark: "✅", no_entry_sign: "🚫", arrow_right: "➡️",
    large_yellow_circle: "🟡", outbox_tray: "📤", warning: "⚠️",
    arrows_counterclockwise: "🔄", x: "❌", heavy_check_mark: "✔️", wave: "👋", tada: "🎉",
    eyes: "👀", speech_balloon: "💬", hourglass_flowing_sand: "⏳", bell: "🔔", mega: "📣",
    email: "📧", inbox_tray: "📥", red_circle: "🔴", large_green_circle: "🟢",
    information_source: "ℹ️", link: "🔗", memo: "📝", rotating_light: "🚨", clock3: "🕒",
    star: "⭐", alarm_clock: "⏰", leftwards_arrow_with_hook: "↩️", incoming_envelope: "📨",
    busts_in_silhouette: "👥", bar_chart: "📊", arrow_down: "⬇️", raised_hand: "✋",
    wastebasket: "🗑️",
  };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  // Slack escapes &, < and > in text; undo that before escaping for HTML.
  function unslack(s) {
    return String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }
  function emojify(s) {
    return String(s).replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }
  function plain(obj) {
    return obj && typeof obj.text === "string" ? emojify(obj.text) : "";
  }

  // ------------------------------------------------------------------ dates
  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }
  function dayDiff(date, now) {
    const a = new Date(date.getFullYear(), date.getMonth(), date.getDate());
    const b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((a - b) / 86400000);
  }
  function clockTime(date, secs) {
    const opts = { hour: "numeric", minute: "2-digit" };
    if (secs) opts.second = "2-digit";
    return date.toLocaleTimeString([], opts);
  }
  function formatDate(ts, format, now) {
    const d = new Date(ts * 1000);
    const short = `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
    const long = `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const pretty = (plainText) => {
      const diff = dayDiff(d, now);
      return diff === 0 ? "today" : diff === -1 ? "yesterday" : diff === 1 ? "tomorrow"
        : plainText;
    };
    const pad = (n) => String(n).padStart(2, "0");
    const tokens = {
      date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      date: long, date_short: short, date_long: `${DAYS[d.getDay()]}, ${long}`,
      date_pretty: pretty(long), date_short_pretty: pretty(short),
      date_long_pretty: pretty(`${DAYS[d.getDay()]}, ${long}`),
      time: clockTime(d, false), time_secs: clockTime(d, true), ago: ago(d, now),
    };
    const out = format.replace(/\{(\w+)\}/g, (m, name) => tokens[name] ?? m);
    return out.charAt(0).toUpperCase() + out.slice(1);
  }
  function ago(d, now) {
    const mins = Math.round((now - d) / 60000);
    if (Math.abs(mins) < 1) return "just now";
    const [n, unit] = Math.abs(mins) < 60 ? [mins, "minute"] : Math.abs(mins) < 1440
      ? [Math.round(mins / 60), "hour"] : [Math.round(mins / 1440), "day"];
    const s = `${Math.abs(n)} ${unit}${Math.abs(n) === 1 ? "" : "s"}`;
    return n >= 0 ? `${s} ago` : `in ${s}`;
  }

  // ------------------------------------------------------------------ mrkdwn
  function control(inner, ctx) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : unslack(inner.slice(bar + 1));
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `<span class="mention">@${escapeHtml(ctx.names[id] || label || id)}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return `<span class="mention">#${escapeHtml(label || ctx.channels[id] || id)}</span>`;
    }
    if (target.startsWith("!")) {
      const parts = target.slice(1).split("^");
      if (parts[0] === "date") {
        const ts = Number(parts[1]);
        const text = Number.isFinite(ts) && parts[2]
          ? formatDate(ts, parts[2], ctx.now) : label || target;
        return `<time title="${escapeHtml(label)}">${escapeHtml(text)}</time>`;
      }
      if (["here", "channel", "everyone"].includes(parts[0])) {
        return `<span class="mention">@${parts[0]}</span>`;
      }
      return `<span class="mention">${escapeHtml(label || "@" + parts[0])}</span>`;
    }
    const url = unslack(target);
    if (/^(https?:\/\/|mailto:)/i.test(url)) {
      return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">` +
        `${escapeHtml(label || url)}</a>`;
    }
    return escapeHtml("<" + unslack(inner) + ">");
  }

  function inline(html) {
    const wrap = (mark, tag) => {
      const m = mark.replace(/[*~]/g, "\\$&");
      const re = new RegExp(`(^|[^\\w${m}])${m}(?=\\S)([^${m}\\n]*?\\S)${m}(?![\\w${m}])`, "g");
      html = html.replace(re, (all, pre, body) => `${pre}<${tag}>${body}</${tag}>`);
    };
    wrap("*", "b");
    wrap("_", "i");
    wrap("~", "s");
    return html;
  }

  // mrkdwn -> safe HTML. ctx: {names: {id: name}, channels: {id: name}, now: Date}
  function mrkdwn(text, ctx) {
    const held = [];
    const hold = (html) => {
      held.push(html);
      return "\uE000" + String.fromCharCode(0xE100 + held.length - 1) + "\uE001";
    };
    let s = String(text ?? "").replace(/[\uE000\uE001]/g, "");
    s = s.replace(/```([\s\S]*?)```/g, (m, code) => hold(`<pre>${escapeHtml(unslack(code))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (m, code) => hold(`<code>${escapeHtml(unslack(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (m, inner) => hold(control(inner, ctx)));
    s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? hold(EMOJI[name]) : m));
    const out = [];
    let quote = null;
    for (const line of s.split("\n")) {
      const q = /^(?:>|&gt;) ?/.exec(line);
      const html = inline(escapeHtml(unslack(q ? line.slice(q[0].length) : line)));
      if (q) {
        quote = quote || [];
        quote.push(html);
        continue;
      }
      if (quote) {
        out.push(`<blockquote>${quote.join("\n")}</blockquote>`);
        quote = null;
      }
      out.push(html + "\n");
    }
    if (quote) out.push(`<blockquote>${quote.join("\n")}</blockquote>`);
    const html = out.join("").replace(/\n$/, "");
    return html.replace(/\uE000(.)\uE001/g, (m, c) => held[c.charCodeAt(0) - 0xE100] ?? "");
  }

  function textHtml(obj, ctx) {
    if (!obj) return "";
    return obj.type === "mrkdwn" ? mrkdwn(obj.text, ctx) : escapeHtml(plain(obj));
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, cls, html) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }
  function textEl(tag, cls, text) {
    const node = el(tag, cls);
    node.textContent = text;
    return node;
  }
  function unsupported(what) {
    return textEl("div", "b-unsupported", `(${what} is not shown in the sandbox)`);
  }

  // ------------------------------------------------------------------ elements
  // ctx.onAction(element, blockId, value, node) is called for interactive elements; without
  // it (e.g. an ephemeral message, whose clicks the sandbox does not send) they are disabled.
  function element(elt, blockId, ctx) {
    switch (elt.type) {
      case "button": {
        const b = el("button", "btn" + (elt.style ? " " + elt.style : ""));
        b.type = "button";
        b.textContent = plain(elt.text) + (elt.url ? " ↗" : "");
        b.dataset.action = elt.action_id || "";
        if (elt.url) b.title = elt.url;
        if (!ctx.onAction) {
          b.disabled = true;
          b.title = "The sandbox does not send this click";
        }
        b.addEventListener("click", () => {
          if (elt.confirm && !window.confirm(plain(elt.confirm.title) + "\n\n" +
              unslack(elt.confirm.text?.text || ""))) return;
          if (elt.url && /^https?:\/\//i.test(elt.url)) {
            window.open(elt.url, "_blank", "noopener,noreferrer");
          }
          ctx.onAction(elt, blockId, undefined, b);
        });
        return b;
      }
      case "static_select":
      case "overflow": {
        const sel = el("select", "select");
        const first = new Option(elt.type === "overflow" ? "⋯" : plain(elt.placeholder) ||
          "Select an item", "");
        first.disabled = true;
        first.selected = true;
        sel.add(first);
        fillOptions(sel, elt);
        if (!ctx.onAction) sel.disabled = true;
        sel.addEventListener("change", () => ctx.onAction(elt, blockId, sel.value, sel));
        return sel;
      }
      case "external_select": {
        // Options come from the app (block_suggestion): asked for when the menu is focused.
        const sel = el("select", "select");
        const first = new Option(plain(elt.placeholder) || "Select an item", "");
        first.disabled = true;
        sel.add(first);
        const init = elt.initial_option;
        if (init) sel.add(new Option(plain(init.text), init.value));
        sel.selectedIndex = sel.options.length - 1;
        if (!ctx.onAction || !ctx.onSuggest) sel.disabled = true;
        sel.addEventListener("focus", async () => {
          if (sel.dataset.loaded) return;
          sel.dataset.loaded = "1";
          fillOptions(sel, { options: await ctx.onSuggest(elt, blockId, "") });
        }, { once: true });
        sel.addEventListener("change", () => ctx.onAction(elt, blockId, sel.value, sel));
        return sel;
      }
      case "image": {
        const img = el("img", "b-thumb");
        img.src = elt.image_url || "";
        img.alt = elt.alt_text || "";
        return img;
      }
      default:
        return unsupported(`a ${elt.type} element`);
    }
  }

  function fillOptions(sel, elt) {
    const add = (parent, opt) => parent.appendChild(new Option(plain(opt.text), opt.value));
    for (const opt of elt.options || []) add(sel, opt);
    for (const group of elt.option_groups || []) {
      const g = document.createElement("optgroup");
      g.label = plain(group.label);
      for (const opt of group.options || []) add(g, opt);
      sel.appendChild(g);
    }
  }

  // ------------------------------------------------------------------ inputs (modals)
  function input(block, ctx) {
    const wrap = el("div", "b-input");
    const elt = block.element || {};
    const id = `in-${block.block_id}`;
    wrap.dataset.block = block.block_id;
    wrap.dataset.action = elt.action_id || "";
    wrap.dataset.kind = elt.type;
    wrap.dataset.optional = block.optional ? "1" : "";
    const label = textEl("label", "b-label", plain(block.label));
    label.htmlFor = id;
    if (block.optional) label.appendChild(textEl("span", "optional", " (optional)"));
    wrap.appendChild(label);
    let field;
    switch (elt.type) {
      case "plain_text_input":
      case "email_text_input":
      case "url_text_input":
      case "number_input":
        if (elt.multiline) {
          field = el("textarea", "field");
          field.rows = 4;
        } else {
          field = el("input", "field");
          field.type = { email_text_input: "email", url_text_input: "url",
            number_input: "number" }[elt.type] || "text";
        }
        field.value = elt.initial_value || "";
        if (elt.max_length) field.maxLength = elt.max_length;
        field.placeholder = plain(elt.placeholder);
        break;
      case "static_select":
      case "multi_static_select":
      case "users_select":
      case "multi_users_select":
      case "conversations_select":
      case "multi_conversations_select":
      case "channels_select":
      case "multi_channels_select": {
        const multi = elt.type.startsWith("multi_");
        field = el("select", "field");
        if (multi) field.multiple = true;
        else field.add(new Option(plain(elt.placeholder) || "Select an item", ""));
        const who = /users/.test(elt.type) ? ctx.names : /conv|chan/.test(elt.type) ? ctx.channels
          : null; // people and channels: the workspace's own, as Slack lists them
        if (who) for (const [v, name] of Object.entries(who)) field.add(new Option(name, v));
        else fillOptions(field, elt);
        const chosen = new Set([...(elt.initial_options || []).map((o) => o.value),
          elt.initial_option?.value, ...(elt.initial_users || []), elt.initial_user,
          ...(elt.initial_conversations || elt.initial_channels || []),
          elt.initial_conversation, elt.initial_channel].filter(Boolean));
        for (const opt of field.options) opt.selected = chosen.has(opt.value);
        break;
      }
      case "datepicker":
      case "timepicker":
        field = el("input", "field");
        field.type = elt.type === "datepicker" ? "date" : "time";
        field.value = elt.initial_date || elt.initial_time || "";
        break;
      case "checkboxes":
      case "radio_buttons": {
        field = el("div", "choices");
        const chosen = new Set((elt.initial_options || (elt.initial_option ? [elt.initial_option]
          : [])).map((o) => o.value));
        for (const opt of elt.options || []) {
          const row = el("label", "choice");
          const box = el("input");
          box.type = elt.type === "checkboxes" ? "checkbox" : "radio";
          box.name = id;
          box.value = opt.value;
          box.checked = chosen.has(opt.value);
          row.appendChild(box);
          const text = el("span", "", textHtml(opt.text, ctx));
          if (opt.description) text.appendChild(el("small", "", textHtml(opt.description, ctx)));
          row.appendChild(text);
          field.appendChild(row);
        }
        break;
      }
      default: // still with its error slot: Slack can name this block in an error
        wrap.append(unsupported(`a ${elt.type} input`), el("div", "b-error"));
        return wrap;
    }
    field.id = id;
    field.classList.add("b-field");
    wrap.appendChild(field);
    if (block.hint) wrap.appendChild(textEl("div", "b-hint", plain(block.hint)));
    wrap.appendChild(el("div", "b-error"));
    return wrap;
  }

  // {values: {block_id: {action_id: value}}, missing: [block_id]} as Slack's client would
  // send them; required inputs left empty are reported instead, as Slack refuses to submit.
  function collect(root) {
    const values = {};
    const missing = [];
    for (const wrap of root.querySelectorAll(".b-input[data-block]")) {
      const { block, action, kind, optional } = wrap.dataset;
      let value;
      const many = kind === "checkboxes" || kind?.startsWith("multi_");
      if (kind === "checkboxes") {
        value = [...wrap.querySelectorAll("input:checked")].map((b) => b.value);
      } else if (many) {
        value = [...(wrap.querySelector("select")?.selectedOptions || [])].map((o) => o.value);
      } else if (kind === "radio_buttons") {
        value = wrap.querySelector("input:checked")?.value || "";
      } else {
        value = wrap.querySelector(".b-field")?.value ?? "";
      }
      const empty = Array.isArray(value) ? value.length === 0 : !String(value).trim();
      if (empty && !optional) missing.push(block);
      if (!empty || many) values[block] = { [action]: value };
    }
    return { values, missing };
  }

  // ------------------------------------------------------------------ blocks
  function render(blocks, ctx) {
    const root = el("div", "blocks");
    for (const block of blocks || []) {
      let node;
      switch (block.type) {
        case "header":
          node = textEl("div", "b-header", plain(block.text));
          break;
        case "section": {
          node = el("div", "b-section");
          const body = el("div", "b-section-body");
          if (block.text) body.appendChild(el("div", "b-text", textHtml(block.text, ctx)));
          if (block.fields) {
            const fields = el("div", "b-fields");
            for (const f of block.fields) fields.appendChild(el("div", "", textHtml(f, ctx)));
            body.appendChild(fields);
          }
          node.appendChild(body);
          if (block.accessory) node.appendChild(element(block.accessory, block.block_id, ctx));
          break;
        }
        case "context":
          node = el("div", "b-context");
          for (const item of block.elements || []) {
            node.appendChild(item.type === "image" ? element(item, block.block_id, ctx)
              : el("span", "", textHtml(item, ctx)));
          }
          break;
        case "divider":
          node = el("hr", "b-divider");
          break;
        case "actions":
          node = el("div", "b-actions");
          for (const elt of block.elements || []) {
            node.appendChild(element(elt, block.block_id, ctx));
          }
          break;
        case "image": {
          node = el("figure", "b-image");
          if (block.title) node.appendChild(textEl("figcaption", "", plain(block.title)));
          const img = el("img");
          img.src = block.image_url || "";
          img.alt = block.alt_text || "";
          node.appendChild(img);
          break;
        }
        case "input":
          node = ctx.inputs ? input(block, ctx) : unsupported("an input block");
          break;
        default:
          node = unsupported(`a ${block.type} block`);
      }
      if (block.block_id) node.dataset.blockId = block.block_id;
      root.appendChild(node);
    }
    return root;
  }

  return { mrkdwn, render, collect, escapeHtml, formatDate, el, textEl };
})();
