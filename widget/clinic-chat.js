/*!
 * clinic-chat.js — the spine clinic's patient chat widget. Dependency-free, no build step.
 *
 * Embed with one tag (the stylesheet clinic-chat.css is loaded from beside this file):
 *   <script src="/widget/clinic-chat.js" data-server="https://chat.example-clinic.org"
 *           data-clinic-name="Example Spine Clinic" data-lang="en" defer></script>
 * Optional: set window.ClinicChatConfig = {...} in a separate (non-inline) script loaded first;
 * see widget/README.md for every option.
 *
 * Security rules this file keeps (tests/browser/test_static.py checks them):
 *  - server and patient text only ever becomes text nodes (textContent); never HTML;
 *  - links are built from text with createElement('a'), http(s) only, and never from the patient's
 *    own words a reply quotes (the server marks them: `segments`, docs/patient-api.md);
 *  - no inline event handlers, no eval, no inline styles in markup (CSSOM properties only),
 *    so it works under a CSP without 'unsafe-inline' / 'unsafe-eval'.
 * Talks to the guarded REST patient channel (docs/patient-api.md).
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // Every patient-facing string of the widget, per language. The one place to review the wording.
  // A clinic can override single strings with ClinicChatConfig.strings = {key: "text"}.
  // tests/test_readability.py reads this table (plain language, and the emergency advice in every
  // error text), so keep its form: `key: "text"` or `key: ["text", ...]`, one per line.
  // ---------------------------------------------------------------------------------------------
  var STRINGS = {
    en: {
      launcher: "Chat with us",
      title: "Clinic assistant",
      subtitle: "Automated assistant \u00b7 not medical advice",
      close: "Close chat",
      startOver: "Start over",
      startOverConfirm: "Start a new conversation? This chat will be cleared from this window.",
      startOverYes: "Yes, start over",
      startOverNo: "Cancel",
      noticeTitle: "Before you start",
      // The emergency line comes first, highlighted, with the call link when a number is configured.
      noticeEmergency: "In an emergency, call your local emergency number now. Do not wait for a reply here.",
      notice: [
        "This is an automated assistant, not a doctor. It gives general facts from the clinic's information sheet. It is not medical advice.",
        "Conversations are stored and reviewed by the clinic's staff. Please share only the personal details that are needed."
      ],
      noticeOk: "OK, I understand",
      footer: "Not medical advice. In an emergency, call your local emergency number.",
      logLabel: "Conversation",
      messagesLabel: "Messages",
      quickReplies: "Suggested replies",
      emptyLog: "Ask a question about spinal endoscopy, for example: \u201cHow long is recovery?\u201d",
      inputLabel: "Your message",
      inputPlaceholder: "Type your question\u2026",
      send: "Send",
      human: "Talk to a person",
      humanMessage: "I want to talk to a person",
      you: "You said:",
      bot: "Assistant said:",
      typing: "The assistant is typing\u2026",
      slow: "This is taking longer than usual. Please wait\u2026 In an emergency, do not wait: call your local emergency number now.",
      sending: "Sending\u2026",
      notSent: "Not sent.",
      retry: "Retry",
      errorOffline: "We could not reach the assistant. Your message was kept: check your connection and press Retry. In an emergency, call your local emergency number now.",
      errorTimeout: "The assistant did not answer in time. Your message was kept: press Retry. In an emergency, call your local emergency number now.",
      errorServer: "Something went wrong on our side. Your message was kept: press Retry. In an emergency, call your local emergency number now.",
      tooLong: "Your message is too long. Please keep it under {max} characters. In an emergency, call your local emergency number now.",
      emergencyLabel: "Emergency",
      crisisLabel: "Please reach out now",
      urgentLabel: "See a doctor today",
      // Tap-to-call links, only for numbers the clinic configured (data-emergency-number, ...).
      callEmergency: "Call the emergency number: {number}",
      callEmergencyShort: "Call {number}",
      callCrisis: "Call a crisis line: {number}",
      callClinic: "Call the clinic: {number}",
      contactPage: "Contact page",
      newSession: "Your earlier conversation had expired, so a new one was started.",
      newTab: "(opens in a new tab)",
      rateQuestion: "Was this answer helpful?",
      rateUp: "Helpful",
      rateDown: "Not helpful",
      rateThanks: "Thanks for your feedback",
      rateFailed: "Your feedback could not be sent. Please try again. In an emergency, call your local emergency number now.",
      unreadOne: "{label}, 1 new message",
      unreadMany: "{label}, {n} new messages"
    },
    // Draft translation: to be reviewed by the clinic before use.
    de: {
      launcher: "Chat starten",
      title: "Klinik-Assistent",
      subtitle: "Automatischer Assistent \u00b7 keine medizinische Beratung",
      close: "Chat schlie\u00dfen",
      startOver: "Neu beginnen",
      startOverConfirm: "Ein neues Gespr\u00e4ch beginnen? Dieser Chat wird aus diesem Fenster gel\u00f6scht.",
      startOverYes: "Ja, neu beginnen",
      startOverNo: "Abbrechen",
      noticeTitle: "Bevor Sie beginnen",
      noticeEmergency: "Rufen Sie im Notfall sofort den Notruf an. Warten Sie nicht auf eine Antwort hier.",
      notice: [
        "Dies ist ein automatischer Assistent, keine \u00c4rztin und kein Arzt. Er gibt allgemeine Informationen aus dem Informationsblatt der Klinik, keine medizinische Beratung.",
        "Gespr\u00e4che werden gespeichert und vom Personal der Klinik gelesen. Bitte teilen Sie nur die pers\u00f6nlichen Angaben, die n\u00f6tig sind."
      ],
      noticeOk: "Verstanden",
      footer: "Keine medizinische Beratung. Im Notfall rufen Sie den Notruf an.",
      logLabel: "Gespr\u00e4ch",
      messagesLabel: "Nachrichten",
      quickReplies: "Antwortvorschl\u00e4ge",
      emptyLog: "Stellen Sie eine Frage zur Wirbels\u00e4ulen-Endoskopie (der Assistent antwortet auf Englisch).",
      inputLabel: "Ihre Nachricht",
      inputPlaceholder: "Ihre Frage\u2026",
      send: "Senden",
      human: "Mit einem Menschen sprechen",
      humanMessage: "I want to talk to a person",
      you: "Sie:",
      bot: "Assistent:",
      typing: "Der Assistent schreibt\u2026",
      slow: "Das dauert l\u00e4nger als sonst. Bitte warten Sie\u2026 Im Notfall nicht warten: Rufen Sie den Notruf an.",
      sending: "Wird gesendet\u2026",
      notSent: "Nicht gesendet.",
      retry: "Erneut senden",
      errorOffline: "Der Assistent ist nicht erreichbar. Ihre Nachricht wurde behalten: pr\u00fcfen Sie Ihre Verbindung und dr\u00fccken Sie \u201eErneut senden\u201c. Im Notfall rufen Sie den Notruf an.",
      errorTimeout: "Der Assistent hat nicht rechtzeitig geantwortet. Ihre Nachricht wurde behalten: dr\u00fccken Sie \u201eErneut senden\u201c. Im Notfall rufen Sie den Notruf an.",
      errorServer: "Bei uns ist ein Fehler aufgetreten. Ihre Nachricht wurde behalten: dr\u00fccken Sie \u201eErneut senden\u201c. Im Notfall rufen Sie den Notruf an.",
      tooLong: "Ihre Nachricht ist zu lang. Bitte bleiben Sie unter {max} Zeichen. Im Notfall rufen Sie den Notruf an.",
      emergencyLabel: "Notfall",
      crisisLabel: "Bitte holen Sie sich jetzt Hilfe",
      urgentLabel: "Heute zum Arzt",
      callEmergency: "Notruf anrufen: {number}",
      callEmergencyShort: "{number} anrufen",
      callCrisis: "Krisentelefon anrufen: {number}",
      callClinic: "Klinik anrufen: {number}",
      contactPage: "Kontaktseite",
      newSession: "Ihr fr\u00fcheres Gespr\u00e4ch war abgelaufen, daher wurde ein neues begonnen.",
      newTab: "(\u00f6ffnet in einem neuen Tab)",
      rateQuestion: "War diese Antwort hilfreich?",
      rateUp: "Hilfreich",
      rateDown: "Nicht hilfreich",
      rateThanks: "Danke f\u00fcr Ihre R\u00fcckmeldung",
      rateFailed: "Ihre R\u00fcckmeldung konnte nicht gesendet werden. Bitte versuchen Sie es erneut. Im Notfall rufen Sie den Notruf an.",
      unreadOne: "{label}, 1 neue Nachricht",
      unreadMany: "{label}, {n} neue Nachrichten"
    }
  };

  var DEFAULTS = {
    server: "",               // base URL of the Rasa server; "" = same origin as the page
    clinicName: "",           // shown as the panel title; empty = STRINGS.title
    lang: "en",
    position: "right",        // "right" | "left"
    colors: {},               // {primary: "#0b5c86", primaryText: "#ffffff"} (hex only)
    strings: {},              // overrides of STRINGS[lang]
    stylesheet: "",           // URL of clinic-chat.css; empty = beside this script
    // Phone numbers for tap-to-call links. Only what the clinic configures: empty = no link.
    emergencyNumber: "",      // the local emergency number, e.g. "112"
    clinicPhone: "",          // the clinic's phone (the same as the bot's CLINIC_PHONE)
    crisisLine: "",           // a self-harm crisis line (the same as the bot's CRISIS_LINE)
    contactUrl: "",           // the site's contact page: a "Contact page" link beside "Talk to a person"
    timeoutMs: 30000,         // give up on a request after this long (message kept, Retry shown)
    slowMs: 8000,             // then say "taking longer than usual"
    maxMessageChars: 2000,    // until the server says otherwise (POST /session)
    maxStoredItems: 300
  };
  var STORAGE_VERSION = "v1";
  var SAFE_MESSAGE_ID = /^[A-Za-z0-9_-]{8,64}$/;
  var BUSY_AUTO_RETRIES = 3;  // after a 503 "busy" or "not_ready" the message is sent again by itself this many times, then waits for Retry
  // Same breakpoint as clinic-chat.css: at this width the open panel fills the screen and is modal.
  var PHONE_QUERY = "(max-width: 480px)";

  var script = document.currentScript;

  // ------------------------------------------------------------------ configuration
  function readConfig() {
    var cfg = {};
    var k;
    for (k in DEFAULTS) cfg[k] = DEFAULTS[k];
    cfg.colors = {};
    cfg.strings = {};
    var ds = (script && script.dataset) || {};
    if (ds.server !== undefined) cfg.server = ds.server;
    if (ds.clinicName) cfg.clinicName = ds.clinicName;
    if (ds.lang) cfg.lang = ds.lang;
    if (ds.position) cfg.position = ds.position;
    if (ds.colorPrimary) cfg.colors.primary = ds.colorPrimary;
    if (ds.colorPrimaryText) cfg.colors.primaryText = ds.colorPrimaryText;
    if (ds.stylesheet) cfg.stylesheet = ds.stylesheet;
    if (ds.emergencyNumber) cfg.emergencyNumber = ds.emergencyNumber;
    if (ds.clinicPhone) cfg.clinicPhone = ds.clinicPhone;
    if (ds.crisisLine) cfg.crisisLine = ds.crisisLine;
    if (ds.contactUrl) cfg.contactUrl = ds.contactUrl;
    var extra = window.ClinicChatConfig;
    if (extra && typeof extra === "object") {
      for (k in extra) {
        if (!Object.prototype.hasOwnProperty.call(extra, k)) continue;
        if (k === "colors" || k === "strings") {
          var src = extra[k] || {};
          for (var j in src) if (Object.prototype.hasOwnProperty.call(src, j)) cfg[k][j] = src[j];
        } else if (k in DEFAULTS) {
          cfg[k] = extra[k];
        }
      }
    }
    cfg.server = String(cfg.server || "").replace(/\/+$/, "");
    cfg.lang = String(cfg.lang || "en").toLowerCase();
    if (!STRINGS[cfg.lang]) cfg.lang = cfg.lang.split("-")[0];
    if (!STRINGS[cfg.lang]) cfg.lang = "en";
    if (!cfg.stylesheet) {
      cfg.stylesheet = script && script.src ? new URL("clinic-chat.css", script.src).href : "clinic-chat.css";
    }
    cfg.phones = {
      emergency: phoneNumber(cfg.emergencyNumber, "emergencyNumber"),
      clinic: phoneNumber(cfg.clinicPhone, "clinicPhone"),
      crisis: phoneNumber(cfg.crisisLine, "crisisLine")
    };
    cfg.contactHref = pageUrl(cfg.contactUrl, "contactUrl");
    return cfg;
  }

  // A configured phone number -> {text, href} for a tel: link, or null (not set, or not a number:
  // digits, spaces and ( ) . / - only, an optional leading +, at least 2 digits).
  function phoneNumber(value, name) {
    var text = String(value || "").trim();
    if (!text) return null;
    var digits = text.replace(/[^0-9]/g, "");
    if (!/^\+?[0-9][0-9 ().\/-]*$/.test(text) || digits.length < 2 || digits.length > 20) {
      console.warn("clinic-chat: " + name + " is not a phone number; no call link is shown");
      return null;
    }
    return { text: text, href: "tel:" + (text.charAt(0) === "+" ? "+" : "") + digits };
  }

  // A configured page address (absolute or relative to the page), http(s) only; else null.
  function pageUrl(value, name) {
    var text = String(value || "").trim();
    if (!text) return null;
    var url = null;
    try { url = new URL(text, location.href); } catch (e) { url = null; }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      console.warn("clinic-chat: " + name + " must be an http(s) address; ignored");
      return null;
    }
    return text;
  }

  function makeStrings(cfg) {
    var s = {};
    var base = STRINGS[cfg.lang];
    var k;
    for (k in STRINGS.en) s[k] = STRINGS.en[k];
    for (k in base) s[k] = base[k];
    for (k in cfg.strings) if (k in s) s[k] = cfg.strings[k];
    return s;
  }

  // ------------------------------------------------------------------ colour contrast (WCAG 2.1)
  function parseHex(c) {
    var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c || "").trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function applyColors(host, cfg) {
    var primary = parseHex(cfg.colors.primary);
    if (cfg.colors.primary && !primary) console.warn("clinic-chat: colors.primary must be #rgb or #rrggbb; ignored");
    if (!primary) return;
    var text = parseHex(cfg.colors.primaryText);
    if (!text) {
      // Pick white or near-black, whichever reads better on the clinic's colour.
      text = contrast(primary, [255, 255, 255]) >= contrast(primary, [17, 17, 17]) ? [255, 255, 255] : [17, 17, 17];
    }
    if (contrast(primary, text) < 4.5) {
      console.warn("clinic-chat: colour contrast " + contrast(primary, text).toFixed(2) + ":1 is below WCAG AA (4.5:1)");
    }
    // CSSOM (not a style attribute): allowed under a CSP without 'unsafe-inline'.
    host.style.setProperty("--cc-primary", "rgb(" + primary.join(",") + ")");
    host.style.setProperty("--cc-on-primary", "rgb(" + text.join(",") + ")");
  }

  // ------------------------------------------------------------------ small helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svgIcon(kind) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "cc-icon");
    var path = document.createElementNS(ns, "path");
    var d = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
      close: "M6 6l12 12M18 6L6 18",
      send: "M3 11l18-8-8 18-2-8-8-2z",
      alert: "M12 3l10 18H2L12 3zm0 6v5m0 3v.5",
      up: "M7 11v10H4a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1h3zm0 0l4-8a2.5 2.5 0 0 1 3 2.6L13.5 9H19a2 2 0 0 1 2 2.3l-1.2 7.5A2.5 2.5 0 0 1 17.3 21H7",
      down: "M17 13V3h3a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-3zm0 0l-4 8a2.5 2.5 0 0 1-3-2.6l.5-3.4H5a2 2 0 0 1-2-2.3l1.2-7.5A2.5 2.5 0 0 1 6.7 3H17"
    }[kind];
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }
  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function fmt(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  // A tel: link for a configured number (phoneNumber()), with its own text.
  function callLink(phone, text, cls) {
    var a = el("a", cls || "cc-call", text);
    a.href = phone.href;
    return a;
  }

  // Plain text, with the configured phone numbers in it turned into tel: links (no other number:
  // the widget never guesses that digits are a phone number).
  function appendPlainText(parent, text, phones) {
    var list = (phones || []).filter(Boolean).sort(function (a, b) { return b.text.length - a.text.length; });
    var find = function (p) {   // the first occurrence not inside a longer run of digits
      for (var i = text.indexOf(p.text); i !== -1; i = text.indexOf(p.text, i + 1)) {
        if (!/[0-9]/.test(text.charAt(i - 1) || "") && !/[0-9]/.test(text.charAt(i + p.text.length) || "")) return i;
      }
      return -1;
    };
    while (text) {
      var at = -1, hit = null;
      list.forEach(function (p) {
        var i = find(p);
        if (i !== -1 && (at === -1 || i < at)) { at = i; hit = p; }
      });
      if (!hit) { parent.appendChild(document.createTextNode(text)); return; }
      if (at > 0) parent.appendChild(document.createTextNode(text.slice(0, at)));
      parent.appendChild(callLink(hit, hit.text, "cc-link cc-tel"));
      text = text.slice(at + hit.text.length);
    }
  }

  // Text -> DOM nodes: plain text, with http(s) URLs turned into safe links and configured phone
  // numbers into tel: links. Never parses HTML.
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  function appendRichText(parent, text, s, phones) {
    text = String(text == null ? "" : text);
    var last = 0;
    var m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      var raw = m[0];
      var trail = /[.,;:!?)\]}]+$/.exec(raw);   // "see https://x.org." -> link without the full stop
      if (trail) raw = raw.slice(0, raw.length - trail[0].length);
      var url = null;
      try { url = new URL(raw); } catch (e) { url = null; }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
      if (m.index > last) appendPlainText(parent, text.slice(last, m.index), phones);
      var a = document.createElement("a");
      a.href = url.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.className = "cc-link";
      a.textContent = raw;
      var hint = el("span", "cc-sr-only", " " + s.newTab);
      a.appendChild(hint);
      parent.appendChild(a);
      last = m.index + raw.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) appendPlainText(parent, text.slice(last), phones);
  }

  // The server's segments of a reply that quotes the patient (docs/patient-api.md): kept only when they
  // join back to the reply's text exactly; the ones marked `patient` are shown as plain text.
  function patientSegments(m) {
    if (!Array.isArray(m.segments) || typeof m.text !== "string") return null;
    var ok = m.segments.every(function (seg) { return seg && typeof seg.text === "string"; });
    if (!ok) return null;
    var joined = m.segments.map(function (seg) { return seg.text; }).join("");
    if (joined !== m.text) return null;
    return m.segments.map(function (seg) { return { text: seg.text, patient: seg.patient === true }; });
  }

  // A leading warning sign in a reply's text ("\u26a0\ufe0f This could be ..."), with its space.
  var WARNING_SIGN = /^\s*\u26a0\ufe0f?\s*/;

  // The triage level of a bot item: "emergency", "crisis", "urgent" or null (older servers send only
  // emergency: true).
  function levelOf(item) {
    if (!item || item.kind !== "bot") return null;
    return item.level || (item.emergency ? "emergency" : null);
  }

  // sessionStorage, falling back to memory when it is unavailable (privacy modes, quota).
  function makeStore(key) {
    var memory = null;
    return {
      load: function () {
        try {
          var raw = window.sessionStorage.getItem(key);
          return raw ? JSON.parse(raw) : memory;
        } catch (e) { return memory; }
      },
      save: function (value) {
        memory = value;
        try { window.sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* memory only */ }
      }
    };
  }

  function freshState() {
    return { sessionId: null, maxChars: null, noticeSeen: false, open: false, unread: 0, items: [] };
  }

  // ------------------------------------------------------------------ the widget
  function ClinicChat(cfg) {
    this.cfg = cfg;
    this.s = makeStrings(cfg);
    this.store = makeStore("clinic-chat:" + STORAGE_VERSION + ":" + (cfg.server || location.origin));
    this.state = this.store.load() || freshState();
    if (!Array.isArray(this.state.items)) this.state = freshState();
    this.busy = false;
    this.generation = 0;      // bumped by "start over": late answers of the old chat are dropped
    this.itemEls = {};
    this.rateEls = {};        // user message id -> its rating group (under the last reply to it)
    this.modal = false;       // true while the panel fills a phone screen (focus kept inside)
    this.inerted = [];        // page elements made inert/aria-hidden by the modal phone panel
    this.phoneQuery = typeof window.matchMedia === "function" ? window.matchMedia(PHONE_QUERY) : null;
    this.build();
  }

  ClinicChat.prototype.save = function () {
    var items = this.state.items;
    if (items.length > this.cfg.maxStoredItems) items.splice(0, items.length - this.cfg.maxStoredItems);
    this.store.save(this.state);
  };

  ClinicChat.prototype.build = function () {
    var s = this.s, cfg = this.cfg, self = this;
    var host = el("div");
    host.id = "clinic-chat";
    host.hidden = true;   // until the stylesheet has loaded (no flash of unstyled widget)
    applyColors(host, cfg);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    this.host = host;
    this.root = root;

    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = cfg.stylesheet;
    var reveal = function () {
      host.hidden = false;
      if (!self.panel.hidden) self.scrollToStart();   // sizes are known only now (after a reload)
    };
    link.addEventListener("load", reveal);
    link.addEventListener("error", function () {
      console.error("clinic-chat: could not load " + cfg.stylesheet);
      reveal();
    });
    root.appendChild(link);

    var wrap = el("div", "cc-root cc-" + (cfg.position === "left" ? "left" : "right"));
    wrap.lang = cfg.lang;
    root.appendChild(wrap);

    // Launcher
    var launcher = el("button", "cc-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "cc-panel");
    launcher.appendChild(svgIcon("chat"));
    launcher.appendChild(el("span", "cc-launcher-text", s.launcher));
    // Replies that arrived while the panel was closed: a visible count (the launcher's accessible
    // name says it in words, see renderUnread) and a polite announcement outside the hidden panel.
    var badge = el("span", "cc-badge");
    badge.setAttribute("aria-hidden", "true");
    badge.hidden = true;
    launcher.appendChild(badge);
    launcher.addEventListener("click", function () { self.toggle(); });
    wrap.appendChild(launcher);
    this.launcher = launcher;
    this.badge = badge;
    var unreadStatus = el("span", "cc-sr-only cc-unread-status");
    unreadStatus.setAttribute("role", "status");
    unreadStatus.setAttribute("aria-live", "polite");
    wrap.appendChild(unreadStatus);
    this.unreadStatus = unreadStatus;

    // Panel
    var panel = el("div", "cc-panel");
    panel.id = "cc-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "cc-title");
    panel.setAttribute("aria-describedby", "cc-subtitle");
    panel.hidden = true;
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" || e.key === "Esc") {
        e.preventDefault();
        if (!self.confirmBox.hidden) self.hideConfirm(); else self.close(true);
      } else if (e.key === "Tab" && self.modal) {
        self.trapTab(e);
      }
    });
    wrap.appendChild(panel);
    this.panel = panel;

    var header = el("div", "cc-header");
    var titles = el("div", "cc-titles");
    var title = el("h2", "cc-title", cfg.clinicName || s.title);
    title.id = "cc-title";
    var subtitle = el("p", "cc-subtitle", s.subtitle);
    subtitle.id = "cc-subtitle";
    titles.appendChild(title);
    titles.appendChild(subtitle);
    header.appendChild(titles);
    var restart = el("button", "cc-restart cc-header-btn", s.startOver);
    restart.type = "button";
    restart.addEventListener("click", function () { self.showConfirm(); });
    header.appendChild(restart);
    var closeBtn = el("button", "cc-close cc-header-btn");
    closeBtn.type = "button";
    closeBtn.setAttribute("aria-label", s.close);
    closeBtn.appendChild(svgIcon("close"));
    closeBtn.addEventListener("click", function () { self.close(true); });
    header.appendChild(closeBtn);
    panel.appendChild(header);
    this.restartBtn = restart;

    // "Start over?" confirmation
    var confirmBox = el("div", "cc-confirm");
    confirmBox.setAttribute("role", "group");
    confirmBox.setAttribute("aria-labelledby", "cc-confirm-text");
    confirmBox.hidden = true;
    var ctext = el("p", "cc-confirm-text", s.startOverConfirm);
    ctext.id = "cc-confirm-text";
    confirmBox.appendChild(ctext);
    var yes = el("button", "cc-btn cc-btn-primary cc-confirm-yes", s.startOverYes);
    yes.type = "button";
    yes.addEventListener("click", function () { self.reset(); });
    var no = el("button", "cc-btn cc-confirm-no", s.startOverNo);
    no.type = "button";
    no.addEventListener("click", function () { self.hideConfirm(); });
    confirmBox.appendChild(yes);
    confirmBox.appendChild(no);
    panel.appendChild(confirmBox);
    this.confirmBox = confirmBox;
    this.confirmYes = yes;

    // First-open notice
    var notice = el("section", "cc-notice");
    notice.id = "cc-notice";
    notice.setAttribute("aria-labelledby", "cc-notice-title");
    var nt = el("h3", "cc-notice-title", s.noticeTitle);
    nt.id = "cc-notice-title";
    notice.appendChild(nt);
    // The emergency line first (with a call link when the number is configured), so that it is on
    // screen without scrolling even on a small phone.
    var ne = el("p", "cc-notice-emergency");
    ne.appendChild(el("span", "cc-notice-emergency-text", s.noticeEmergency));
    if (cfg.phones.emergency) {
      ne.appendChild(document.createTextNode(" "));
      ne.appendChild(callLink(cfg.phones.emergency, fmt(s.callEmergency, { number: cfg.phones.emergency.text })));
    }
    notice.appendChild(ne);
    var ul = el("ul", "cc-notice-list");
    (Array.isArray(s.notice) ? s.notice : [s.notice]).forEach(function (line) { ul.appendChild(el("li", null, line)); });
    notice.appendChild(ul);
    var ok = el("button", "cc-btn cc-btn-primary cc-notice-ok", s.noticeOk);
    ok.type = "button";
    ok.addEventListener("click", function () {
      self.state.noticeSeen = true;
      self.save();
      self.renderNotice();
      self.input.focus();
    });
    notice.appendChild(ok);
    this.notice = notice;

    // Scrolling area: the notice, then the message log (so the notice scrolls away as the
    // conversation grows and never squeezes the messages).
    var scroller = el("div", "cc-scroll");
    scroller.setAttribute("role", "region");
    scroller.setAttribute("aria-label", s.logLabel);
    scroller.tabIndex = 0;   // scrollable with the keyboard
    scroller.appendChild(notice);
    var log = el("div", "cc-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", s.messagesLabel);
    scroller.appendChild(log);
    panel.appendChild(scroller);
    this.scroller = scroller;
    this.log = log;
    this.empty = el("p", "cc-empty", s.emptyLog);

    // Typing / slow indicator (polite status) and error banner (alert)
    var status = el("div", "cc-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    panel.appendChild(status);
    this.status = status;

    var error = el("div", "cc-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var etext = el("p", "cc-error-text");
    var retry = el("button", "cc-btn cc-btn-primary cc-retry", s.retry);
    retry.type = "button";
    retry.addEventListener("click", function () { self.retry(); });
    error.appendChild(etext);
    error.appendChild(retry);
    panel.appendChild(error);
    this.errorBox = error;
    this.errorText = etext;
    this.retryBtn = retry;

    // Always-reachable "talk to a person"
    var actions = el("div", "cc-actions");
    var human = el("button", "cc-btn cc-human", s.human);
    human.type = "button";
    human.addEventListener("click", function () { self.send(s.humanMessage); });
    actions.appendChild(human);
    if (cfg.contactHref) {
      var contact = el("a", "cc-contact", s.contactPage);
      contact.href = cfg.contactHref;
      actions.appendChild(contact);
    }
    panel.appendChild(actions);
    this.humanBtn = human;

    // Composer
    var form = el("form", "cc-form");
    form.noValidate = true;
    var label = el("label", "cc-sr-only", s.inputLabel);
    label.htmlFor = "cc-input";
    var input = el("textarea", "cc-input");
    input.id = "cc-input";
    input.rows = 1;
    input.placeholder = s.inputPlaceholder;
    // No maxLength: the browser would cut a pasted story at the limit without a word, and its end (a
    // red flag, say) would be lost unseen. An over-long text stays whole and the patient is told.
    input.autocomplete = "off";
    input.setAttribute("enterkeyhint", "send");
    input.addEventListener("input", function () { self.checkLength(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        self.submit();
      }
    });
    var sendBtn = el("button", "cc-send");
    sendBtn.type = "submit";
    sendBtn.setAttribute("aria-label", s.send);
    sendBtn.appendChild(svgIcon("send"));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submit();
    });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendBtn);
    panel.appendChild(form);
    this.input = input;

    // The footer keeps "not medical advice" and the emergency advice pinned below the input.
    var footer = el("p", "cc-footer", s.footer);
    if (cfg.phones.emergency) {
      footer.appendChild(document.createTextNode(" "));
      footer.appendChild(callLink(cfg.phones.emergency, fmt(s.callEmergencyShort, { number: cfg.phones.emergency.text }),
                                  "cc-call-footer"));
    }
    panel.appendChild(footer);

    // Restore the conversation of this tab (before attaching: nothing is re-announced).
    this.renderAll();
    this.renderNotice();
    this.renderUnread(false);

    // Phone layout: the open panel is modal (see updateModal). Follow rotation / resizing.
    if (this.phoneQuery) {
      var onChange = function () { self.updateModal(); };
      if (this.phoneQuery.addEventListener) this.phoneQuery.addEventListener("change", onChange);
      else if (this.phoneQuery.addListener) this.phoneQuery.addListener(onChange);
    }
    // Should focus still land outside the modal panel (e.g. a script focuses the page), bring it back.
    document.addEventListener("focusin", function (e) {
      if (self.modal && e.target !== host) self.input.focus();
    });
    // The page's own controls: an element with data-clinic-chat="open" opens the chat, one with
    // data-clinic-chat="person" opens it and asks for a person (the bot then offers a callback).
    // (A listener, not inline handlers: the page keeps its strict CSP.)
    document.addEventListener("click", function (e) {
      var t = e.target && e.target.closest ? e.target.closest("[data-clinic-chat]") : null;
      if (!t) return;
      var what = t.getAttribute("data-clinic-chat");
      if (what !== "open" && what !== "person") return;
      e.preventDefault();
      if (what === "person") self.send(s.humanMessage); else self.open(true);
    });

    var attach = function () {
      document.body.appendChild(host);
      if (self.state.open) self.open(false);
      self.restoreError();
      self.pump();   // messages that were in flight when the page was left are re-sent (same message_id)
    };
    if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
  };

  ClinicChat.prototype.maxChars = function () {
    return this.state.maxChars || this.cfg.maxMessageChars;
  };

  // ------------------------------------------------------------------ open / close
  ClinicChat.prototype.open = function (moveFocus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.host.classList && this.host.classList.add("cc-is-open");
    this.panel.parentNode.classList.add("cc-open");
    if (!this.state.open || this.state.unread) { this.state.open = true; this.state.unread = 0; this.save(); }
    this.renderUnread(false);
    this.updateModal();
    this.scrollToStart();
    if (moveFocus !== false) this.input.focus();
  };
  ClinicChat.prototype.close = function (returnFocus) {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.host.classList && this.host.classList.remove("cc-is-open");
    this.panel.parentNode.classList.remove("cc-open");
    this.hideConfirm();
    this.updateModal();
    if (this.state.open) { this.state.open = false; this.save(); }
    if (returnFocus) this.launcher.focus();
  };

  // Phone layout (PHONE_QUERY): the open panel covers the whole screen, so it behaves as a modal
  // dialog. The rest of the page is made inert and hidden from assistive technology, and Tab /
  // Shift+Tab cycle within the panel. On wider screens the panel stays a non-modal dialog.
  ClinicChat.prototype.updateModal = function () {
    var on = !this.panel.hidden && !!this.phoneQuery && this.phoneQuery.matches;
    if (on === this.modal) return;
    this.modal = on;
    if (on) {
      var active = document.activeElement;   // (before the page is made inert, which may blur it)
      this.panel.setAttribute("aria-modal", "true");
      var changed = [];
      // Every sibling of the widget and of its ancestors up to <body> (the page behind).
      for (var node = this.host; node && node.parentElement && node !== document.body; node = node.parentElement) {
        Array.prototype.forEach.call(node.parentElement.children, function (n) {
          if (n === node) return;
          var rec = { node: n, inert: !n.hasAttribute("inert"), hidden: !n.hasAttribute("aria-hidden") };
          if (rec.inert) n.setAttribute("inert", "");
          if (rec.hidden) n.setAttribute("aria-hidden", "true");
          if (rec.inert || rec.hidden) changed.push(rec);
        });
      }
      this.inerted = changed;
      // Focus left in the page behind (now inert) or on the launcher (hidden now) moves to the input.
      if (active === this.host ? !this.panel.contains(this.root.activeElement) : active && active !== document.body) {
        this.input.focus();
      }
    } else {
      this.panel.removeAttribute("aria-modal");
      this.inerted.forEach(function (rec) {
        if (rec.inert) rec.node.removeAttribute("inert");
        if (rec.hidden) rec.node.removeAttribute("aria-hidden");
      });
      this.inerted = [];
    }
  };

  ClinicChat.prototype.focusables = function () {
    var list = this.panel.querySelectorAll('button, a[href], textarea, input, select, [tabindex]');
    return Array.prototype.filter.call(list, function (n) {
      return !n.disabled && n.tabIndex >= 0 && n.getClientRects().length > 0;
    });
  };

  ClinicChat.prototype.trapTab = function (e) {
    var list = this.focusables();
    if (!list.length) return;
    var i = list.indexOf(this.root.activeElement);
    if (e.shiftKey && i <= 0) {
      e.preventDefault();
      list[list.length - 1].focus();
    } else if (!e.shiftKey && (i === -1 || i === list.length - 1)) {
      e.preventDefault();
      list[0].focus();
    }
  };

  // The launcher while replies wait unseen: a badge with the count, and the count in its name.
  ClinicChat.prototype.renderUnread = function (announce) {
    var n = this.state.unread || 0;
    var s = this.s;
    this.badge.hidden = !n;
    this.badge.textContent = n ? String(n > 99 ? "99+" : n) : "";
    if (n) {
      var name = fmt(n === 1 ? s.unreadOne : s.unreadMany, { label: s.launcher, n: n });
      this.launcher.setAttribute("aria-label", name);
      if (announce) this.unreadStatus.textContent = name;
    } else {
      this.launcher.removeAttribute("aria-label");
      this.unreadStatus.textContent = "";
    }
  };
  ClinicChat.prototype.toggle = function () {
    if (this.panel.hidden) this.open(true); else this.close(true);
  };

  ClinicChat.prototype.renderNotice = function () {
    this.notice.hidden = !!this.state.noticeSeen;
    this.panel.setAttribute("aria-describedby", this.state.noticeSeen ? "cc-subtitle" : "cc-subtitle cc-notice");
  };

  ClinicChat.prototype.showConfirm = function () {
    this.confirmBox.hidden = false;
    this.confirmYes.focus();
  };
  ClinicChat.prototype.hideConfirm = function () {
    if (this.confirmBox.hidden) return;
    this.confirmBox.hidden = true;
    if (!this.panel.hidden) this.restartBtn.focus();
  };

  // ------------------------------------------------------------------ rendering
  ClinicChat.prototype.renderAll = function () {
    var self = this;
    this.log.textContent = "";
    this.itemEls = {};
    this.rateEls = {};
    if (!this.state.items.length) this.log.appendChild(this.empty);
    this.state.items.forEach(function (item) { self.log.appendChild(self.renderItem(item, false)); });
    this.renderQuickReplies();
    this.renderRatings();
  };

  ClinicChat.prototype.renderItem = function (item, live) {
    var s = this.s;
    var row, bubble;
    if (item.kind === "user") {
      row = el("div", "cc-row cc-row-user");
      bubble = el("div", "cc-msg cc-user");
      bubble.appendChild(el("span", "cc-sr-only", s.you + " "));
      bubble.appendChild(el("span", "cc-text", item.display || item.text));
      row.appendChild(bubble);
      var st = el("div", "cc-msg-status");
      row.appendChild(st);
      this.itemEls[item.id] = row;
      this.updateUserStatus(item, row);
    } else if (item.kind === "bot") {
      row = el("div", "cc-row cc-row-bot");
      // The triage level of the reply (docs/triage-levels.md), each in its own style: emergency red
      // with the warning icon, crisis calm (no alarm colours or icon), urgent amber. Emergency and
      // crisis are announced at once.
      var level = levelOf(item);
      var phones = this.cfg.phones;
      bubble = el("div", "cc-msg cc-bot" + (level ? " cc-" + level : ""));
      var text = item.text;
      if (level) {
        if (live && (level === "emergency" || level === "crisis")) bubble.setAttribute("role", "alert");
        var lab = el("strong", "cc-" + level + "-label");
        if (level !== "crisis") {
          lab.appendChild(svgIcon("alert"));
          text = String(text || "").replace(WARNING_SIGN, "");   // the label's icon is the one warning sign
        }
        lab.appendChild(document.createTextNode(
          level === "crisis" ? s.crisisLabel : level === "urgent" ? s.urgentLabel : s.emergencyLabel));
        bubble.appendChild(lab);
      }
      bubble.appendChild(el("span", "cc-sr-only", s.bot + " "));
      var body = el("span", "cc-text");
      var phoneList = [phones.emergency, phones.clinic, phones.crisis];
      if (item.segments && text === item.text) {
        // The patient's own words a reply quotes stay plain text: never a link, whatever they hold.
        item.segments.forEach(function (seg) {
          if (seg.patient) body.appendChild(document.createTextNode(seg.text));
          else appendRichText(body, seg.text, s, phoneList);
        });
      } else {
        appendRichText(body, text, s, phoneList);
      }
      bubble.appendChild(body);
      // Tap-to-call for the level's configured numbers.
      var calls = [];
      if (level === "emergency") calls.push([phones.emergency, s.callEmergency]);
      if (level === "crisis") calls.push([phones.crisis, s.callCrisis], [phones.emergency, s.callEmergency]);
      if (level === "urgent") calls.push([phones.clinic, s.callClinic]);
      calls = calls.filter(function (c) { return c[0]; });
      if (calls.length) {
        var callBox = el("span", "cc-calls");
        calls.forEach(function (c) { callBox.appendChild(callLink(c[0], fmt(c[1], { number: c[0].text }))); });
        bubble.appendChild(callBox);
      }
      row.appendChild(bubble);
      row.cc_item = item;
    } else {
      row = el("p", "cc-note", item.text);
    }
    return row;
  };

  ClinicChat.prototype.updateUserStatus = function (item, row) {
    row = row || this.itemEls[item.id];
    if (!row) return;
    var st = row.querySelector(".cc-msg-status");
    st.textContent = "";
    row.classList.remove("cc-pending", "cc-failed", "cc-rejected");
    if (item.status === "pending") {
      row.classList.add("cc-pending");
      st.textContent = this.s.sending;
    } else if (item.status === "failed") {
      row.classList.add("cc-failed");
      st.appendChild(el("span", "cc-msg-status-text", this.s.notSent + " "));
      var self = this;
      var b = el("button", "cc-linkbtn cc-retry-inline", this.s.retry);
      b.type = "button";
      b.addEventListener("click", function () { self.retry(); });
      st.appendChild(b);
    } else if (item.status === "rejected") {
      row.classList.add("cc-rejected");
      st.textContent = this.s.notSent + " " + (item.error || "");
    }
  };

  // Quick replies: only those of the bot's latest turn (the server accepts a button payload only
  // right after it was offered).
  ClinicChat.prototype.renderQuickReplies = function () {
    var self = this;
    var old = this.log.querySelectorAll(".cc-buttons");
    Array.prototype.forEach.call(old, function (n) { n.parentNode.removeChild(n); });
    var items = this.state.items;
    var i = items.length - 1;
    while (i >= 0 && items[i].kind !== "user") i--;
    if (i >= 0 && items[i].status !== "sent") return;   // a message of the patient is still open
    var rows = this.log.querySelectorAll(".cc-row-bot");
    Array.prototype.forEach.call(rows, function (row) {
      var item = row.cc_item;
      if (!item || !item.buttons || !item.buttons.length) return;
      if (items.indexOf(item) <= i) return;
      var group = el("div", "cc-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", self.s.quickReplies);
      item.buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string") return;
        var btn = el("button", "cc-btn cc-quick", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () {
          self.send(typeof b.payload === "string" && b.payload ? b.payload : b.title, b.title);
        });
        group.appendChild(btn);
      });
      row.appendChild(group);
    });
  };

  // Ratings: "Helpful" / "Not helpful" under the last reply to each patient message the server
  // took (status "sent"). Not under notes, nor under replies that came with an error, nor under a
  // turn with an emergency or crisis reply (urgent replies keep theirs).
  ClinicChat.prototype.renderRatings = function () {
    var self = this;
    var lastReply = {};
    var alarm = {};   // turns with an emergency or crisis reply: a rating there would be out of place
    var rows = this.log.querySelectorAll(".cc-row-bot");
    Array.prototype.forEach.call(rows, function (row) {
      if (!row.cc_item || !row.cc_item.replyTo) return;
      lastReply[row.cc_item.replyTo] = row;
      var level = levelOf(row.cc_item);
      if (level === "emergency" || level === "crisis") alarm[row.cc_item.replyTo] = true;
    });
    this.state.items.forEach(function (item) {
      var row = lastReply[item.id];
      if (item.kind !== "user" || item.status !== "sent" || !row || !SAFE_MESSAGE_ID.test(item.id)) return;
      if (alarm[item.id]) {
        if (self.rateEls[item.id] && self.rateEls[item.id].parentNode) self.rateEls[item.id].parentNode.removeChild(self.rateEls[item.id]);
        return;
      }
      var group = self.rateEls[item.id] || (self.rateEls[item.id] = self.buildRating(item));
      if (group.parentNode !== row) row.insertBefore(group, row.querySelector(".cc-buttons"));
    });
  };

  ClinicChat.prototype.buildRating = function (item) {
    var self = this, s = this.s;
    var group = el("div", "cc-rate");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", s.rateQuestion);
    [["up", s.rateUp], ["down", s.rateDown]].forEach(function (r) {
      var b = el("button", "cc-rate-btn cc-rate-" + r[0]);
      b.type = "button";
      b.title = r[1];
      b.cc_rating = r[0];
      b.appendChild(svgIcon(r[0]));
      b.appendChild(el("span", "cc-sr-only", r[1]));
      b.addEventListener("click", function () { self.rate(item, r[0], group); });
      group.appendChild(b);
    });
    var st = el("span", "cc-rate-status");
    st.setAttribute("role", "status");
    group.appendChild(st);
    this.showRating(group, item.rating, item.rating ? s.rateThanks : "", false);
    return group;
  };

  ClinicChat.prototype.showRating = function (group, rating, text, failed) {
    Array.prototype.forEach.call(group.querySelectorAll(".cc-rate-btn"), function (b) {
      b.setAttribute("aria-pressed", b.cc_rating === rating ? "true" : "false");
    });
    var st = group.querySelector(".cc-rate-status");
    st.textContent = text || "";
    st.classList.toggle("cc-rate-failed", !!failed);
  };

  // POST /feedback for the patient message the turn answered. The choice shows at once; it is
  // kept (sessionStorage) when the server confirms, and undone with a short explanation if not.
  ClinicChat.prototype.rate = function (item, rating, group) {
    var self = this, s = this.s;
    if (group.cc_busy || item.rating === rating) return;
    var gen = this.generation;
    group.cc_busy = true;
    this.showRating(group, rating, "", false);
    this.post("/webhooks/patient/feedback", {
      session_id: item.sid || this.state.sessionId, message_id: item.id, rating: rating
    }).then(function (r) {
      group.cc_busy = false;
      if (gen !== self.generation) return;   // "start over" meanwhile
      if (r.ok && r.data && r.data.ok === true) {
        item.rating = rating;
        self.save();
        self.showRating(group, rating, s.rateThanks, false);
      } else {
        self.showRating(group, item.rating, s.rateFailed, true);
      }
    });
  };

  ClinicChat.prototype.append = function (item) {
    this.state.items.push(item);
    if (this.empty.parentNode) this.empty.parentNode.removeChild(this.empty);
    var row = this.renderItem(item, true);
    this.log.appendChild(row);
    return row;
  };

  ClinicChat.prototype.appendBotMessages = function (messages, item) {
    var self = this;
    var first = null;
    var count = 0;
    messages.forEach(function (m) {
      if (!m || (typeof m.text !== "string" && !Array.isArray(m.buttons))) return;
      var row = self.append({
        kind: "bot",
        text: typeof m.text === "string" ? m.text : "",
        buttons: Array.isArray(m.buttons) ? m.buttons.filter(function (b) { return b && typeof b.title === "string"; }) : [],
        emergency: m.emergency === true,
        level: m.level === "emergency" || m.level === "crisis" || m.level === "urgent" ? m.level : null,
        segments: patientSegments(m),
        replyTo: item.id
      });
      first = first || row;
      count++;
    });
    this.firstNewReply = first;
    var emergency = messages.some(function (m) { return m && m.emergency === true; });
    if (count && this.panel.hidden) {
      if (emergency) {
        // An emergency reply is never left behind a closed panel: show it at once (its role="alert"
        // announces it); focus stays where the patient is.
        this.open(false);
        this.scrollToReply(first);
      } else {
        this.state.unread = (this.state.unread || 0) + count;
        this.renderUnread(true);
      }
    }
  };

  ClinicChat.prototype.scrollToEnd = function () {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  };

  // Where an opened (or reloaded) panel starts: the notice from its top while nothing has been said
  // yet, else the latest message.
  ClinicChat.prototype.scrollToStart = function () {
    if (!this.notice.hidden && !this.state.items.length) this.scroller.scrollTop = 0;
    else this.scrollToEnd();
  };

  // Show a new answer from its first line (a long or emergency answer must not scroll past its start).
  ClinicChat.prototype.scrollToReply = function (row) {
    if (!row) return this.scrollToEnd();
    this.scroller.scrollTop = Math.max(0, row.offsetTop - 12);
  };

  ClinicChat.prototype.setTyping = function (on) {
    var self = this;
    clearTimeout(this.slowTimer);
    this.status.textContent = "";
    if (!on) return;
    var t = el("div", "cc-typing");
    var dots = el("span", "cc-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    t.appendChild(dots);
    t.appendChild(el("span", "cc-typing-text cc-sr-only", this.s.typing));
    this.status.appendChild(t);
    this.slowTimer = setTimeout(function () {
      var txt = self.status.querySelector(".cc-typing-text");
      if (txt) { txt.textContent = self.s.slow; txt.classList.remove("cc-sr-only"); }
    }, this.cfg.slowMs);
  };

  ClinicChat.prototype.showError = function (text) {
    this.errorText.textContent = text;
    this.errorBox.hidden = false;
    this.state.error = text;
  };
  ClinicChat.prototype.clearError = function () {
    this.errorBox.hidden = true;
    this.errorText.textContent = "";
    this.state.error = null;
  };
  ClinicChat.prototype.restoreError = function () {
    var failed = this.state.items.some(function (i) { return i.kind === "user" && i.status === "failed"; });
    if (failed) this.showError(this.state.error || this.s.errorOffline); else this.clearError();
  };

  // ------------------------------------------------------------------ sending
  ClinicChat.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) { this.input.focus(); return; }
    if (text.length > this.maxChars()) {
      this.showInputError(fmt(this.s.tooLong, { max: this.maxChars() }));
      return;
    }
    this.input.value = "";
    this.send(text);
  };

  // While the text is over the limit, say so at once (as a paste happens), not only on Send; the
  // message is kept whole so the patient can shorten it. Back under the limit, the note goes.
  ClinicChat.prototype.checkLength = function () {
    var over = this.input.value.trim().length > this.maxChars();
    var shown = this.input.getAttribute("aria-invalid") === "true" && this.status.querySelector(".cc-input-error");
    if (over && !shown) {
      this.status.textContent = "";
      this.status.appendChild(el("p", "cc-input-error", fmt(this.s.tooLong, { max: this.maxChars() })));
      this.input.setAttribute("aria-invalid", "true");
    } else if (!over) {
      if (shown) this.status.textContent = "";
      this.input.removeAttribute("aria-invalid");  // also when another status replaced the note
    }
  };

  ClinicChat.prototype.showInputError = function (text) {
    this.status.textContent = "";
    this.status.appendChild(el("p", "cc-input-error", text));
    this.input.setAttribute("aria-invalid", "true");
    this.input.focus();
  };

  // text: what the server gets; display: what the patient sees (a button's title).
  ClinicChat.prototype.send = function (text, display) {
    if (this.panel.hidden) this.open(false);
    this.hideConfirm();
    this.input.removeAttribute("aria-invalid");
    var item = { kind: "user", id: newId(), text: text, display: display || text, status: "pending" };
    this.requeueFailed();   // sending again is trying again: earlier unsent messages go first
    this.append(item);
    this.renderQuickReplies();
    this.save();
    this.scrollToEnd();
    this.input.focus();   // buttons that had focus may just have been removed
    this.pump();
  };

  ClinicChat.prototype.requeueFailed = function () {
    var self = this;
    this.state.items.forEach(function (i) {
      if (i.kind === "user" && i.status === "failed") { i.status = "pending"; self.updateUserStatus(i); }
    });
    this.clearError();
  };

  ClinicChat.prototype.retry = function () {
    this.requeueFailed();
    this.save();
    this.input.focus();
    this.pump();
  };

  ClinicChat.prototype.post = function (path, body) {
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timedOut = false;
    var timer = setTimeout(function () { timedOut = true; if (ctrl) ctrl.abort(); }, this.cfg.timeoutMs);
    return window.fetch(this.cfg.server + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (resp) {
      return resp.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        clearTimeout(timer);
        return { status: resp.status, ok: resp.ok, data: data };
      });
    }, function () {
      clearTimeout(timer);
      return { status: 0, ok: false, data: null, timeout: timedOut };
    });
  };

  ClinicChat.prototype.ensureSession = function () {
    var self = this;
    if (this.state.sessionId) return Promise.resolve({ ok: true });
    return this.post("/webhooks/patient/session", {}).then(function (r) {
      if (r.ok && r.data && typeof r.data.session_id === "string") {
        self.state.sessionId = r.data.session_id;
        if (typeof r.data.max_message_chars === "number" && r.data.max_message_chars > 0) {
          self.state.maxChars = r.data.max_message_chars;
          self.checkLength();
        }
        self.save();
        return { ok: true };
      }
      return r;
    });
  };

  function serverMessage(r) {
    return r && r.data && typeof r.data.message === "string" && r.data.message ? r.data.message : null;
  }

  // Deliver the patient's messages one at a time, in order. A failure stops the queue (the
  // message keeps its message_id, so Retry cannot double it on the server).
  ClinicChat.prototype.pump = function () {
    var self = this;
    if (this.busy) return;
    var items = this.state.items;
    if (items.some(function (i) { return i.kind === "user" && i.status === "failed"; })) return;
    var item = null;
    for (var n = 0; n < items.length; n++) {
      if (items[n].kind === "user" && items[n].status === "pending") { item = items[n]; break; }
    }
    if (!item) return;
    if (!SAFE_MESSAGE_ID.test(item.id)) item.id = newId();
    var gen = this.generation;
    this.busy = true;
    this.setTyping(true);

    var fail = function (text) {
      item.status = "failed";
      self.updateUserStatus(item);
      self.showError(text);
    };
    self.firstNewReply = null;
    var finish = function (again) {
      self.busy = false;
      self.setTyping(false);
      self.save();
      self.renderQuickReplies();
      self.renderRatings();
      self.scrollToReply(self.firstNewReply);
      if (again) self.pump();
    };

    this.ensureSession().then(function (r) {
      if (gen !== self.generation) return { stale: true };
      if (!r.ok) return r;
      // "retry": true from the second attempt on, so the server answers again what it may already
      // have answered (the first answer may have been lost on the way) instead of handling it twice.
      var body = { session_id: self.state.sessionId, message: item.text, message_id: item.id, retry: !!item.tries };
      item.sid = body.session_id;   // the conversation this message is stored in (for its rating)
      item.tries = (item.tries || 0) + 1;
      self.save();
      return self.post("/webhooks/patient/message", body);
    }).then(function (r) {
      if (r.stale || gen !== self.generation) return;   // "start over" happened: reset() freed the queue
      if (r.ok && r.data && Array.isArray(r.data.messages)) {
        item.status = "sent";
        self.updateUserStatus(item);
        self.clearError();
        self.appendBotMessages(r.data.messages, item);
        return finish(true);
      }
      // An error may still carry replies (e.g. 503 not_saved with the emergency advice): show them.
      if (r.data && Array.isArray(r.data.messages)) self.appendBotMessages(r.data.messages, item);
      if (r.status === 403 && !item.renewed) {
        // The server no longer knows this conversation: start a new one and send again.
        item.renewed = true;
        self.state.sessionId = null;
        self.append({ kind: "note", text: self.s.newSession });
        return finish(true);
      }
      if (r.status === 400 || r.status === 413 || r.status === 422) {
        // The server will never take this message as it is: say why and give the text back.
        item.status = "rejected";
        item.error = serverMessage(r) || self.s.errorServer;
        self.updateUserStatus(item);
        if (!self.input.value) self.input.value = item.text;
        return finish(true);
      }
      if (r.status === 503 && r.data && (r.data.error === "busy" || r.data.error === "not_ready") &&
          (item.busyWaits || 0) < BUSY_AUTO_RETRIES) {
        // The server did not take the message (a burst, or it is still starting): say so, then send
        // it again by itself after the wait it asked for (Retry stays available; no focus change).
        item.busyWaits = (item.busyWaits || 0) + 1;
        var wait = Math.min(30, Math.max(1, Number(r.data.retry_after) || 3)) * 1000;
        fail(serverMessage(r) || self.s.errorServer);
        setTimeout(function () {
          if (gen !== self.generation || item.status !== "failed") return;   // start over, or Retry was pressed
          self.requeueFailed();
          self.save();
          self.pump();
        }, wait);
        return finish(false);
      }
      if (r.status === 0) fail(r.timeout ? self.s.errorTimeout : self.s.errorOffline);
      else fail(serverMessage(r) || self.s.errorServer);
      return finish(false);
    }).catch(function (e) {
      console.error("clinic-chat:", e);
      if (gen === self.generation) { fail(self.s.errorServer); finish(false); }
    });
  };

  // ------------------------------------------------------------------ start over
  ClinicChat.prototype.reset = function () {
    this.generation++;
    this.busy = false;
    this.setTyping(false);
    var noticeSeen = this.state.noticeSeen;
    this.state = freshState();
    this.state.noticeSeen = noticeSeen;
    this.state.open = !this.panel.hidden;
    this.clearError();
    this.confirmBox.hidden = true;
    this.input.value = "";
    this.input.removeAttribute("aria-invalid");
    this.save();
    this.renderAll();
    this.renderNotice();
    this.renderUnread(false);
    this.input.focus();
  };

  // ------------------------------------------------------------------ boot
  function boot() {
    if (window.ClinicChat && window.ClinicChat.instance) return;   // embedded twice
    var widget = new ClinicChat(readConfig());
    window.ClinicChat = {
      instance: widget,
      open: function () { widget.open(true); },
      close: function () { widget.close(false); },
      startOver: function () { widget.reset(); }
    };
  }
  boot();
})();
