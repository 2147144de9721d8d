// Herald's web app: sign in, then the notifications of a guest, a restaurant or an admin, live.
// Everything it knows comes through /client/herald-notifications.js and the points API.
import { connect, describe, NOTIFICATION_EVENTS } from "/client/herald-notifications.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "herald.session";
const SOUND_KEY = "herald.sound";
const STATE_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  gave_up: "Gave up",
  refused: "Refused",
  disconnected: "Disconnected",
};

let herald = null;
let presenceTimer = null;
const watched = new Set();

// MARK: Sign-in

async function start() {
  const demo = await fetch("/demo").then((r) => (r.ok ? r.json() : { demo: false })).catch(() => ({ demo: false }));
  $("demo-fields").hidden = !demo.demo;
  $("roles").hidden = !demo.demo;
  $("token-field").hidden = demo.demo;
  $("sub").required = demo.demo;
  $("sub").value = `guest-${Math.random().toString(36).slice(2, 8)}`;
  for (const radio of document.querySelectorAll('input[name="role"]')) radio.addEventListener("change", roleChanged);
  $("sign-in-form").addEventListener("submit", (event) => signIn(event, demo.demo));
  $("sign-out").addEventListener("click", signOut);
  const saved = readSession();
  if (saved) enter(saved);
  else $("sign-in").hidden = false;
}

function roleChanged() {
  const role = document.querySelector('input[name="role"]:checked').value;
  $("restaurant-field").hidden = role !== "restaurant";
  $("sub").value = `${role === "restaurant" ? "staff" : role}-${Math.random().toString(36).slice(2, 8)}`;
}

async function signIn(event, demo) {
  event.preventDefault();
  unlockSound();
  $("sign-in-error").hidden = true;
  try {
    let token;
    if (demo) {
      const role = document.querySelector('input[name="role"]:checked').value;
      const body = { role, sub: $("sub").value.trim() };
      if (role === "restaurant") body.restaurantId = $("restaurant-id").value.trim();
      const answer = await fetch("/demo/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const json = await answer.json();
      if (!answer.ok) throw new Error(json.error?.message ?? "could not sign in");
      token = json.token;
    } else {
      token = $("token").value.trim();
    }
    const claims = decodeClaims(token);
    if (!claims) throw new Error("that is not a Herald token");
    const session = { token, sub: claims.sub, role: claims.role, restaurantId: claims.restaurantId ?? null };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    enter(session);
  } catch (error) {
    $("sign-in-error").textContent = error.message;
    $("sign-in-error").hidden = false;
  }
}

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    if (claims.exp && claims.exp * 1000 < Date.now()) return null;
    return claims.sub && claims.role ? claims : null;
  } catch {
    return null;
  }
}

function readSession() {
  try {
    const session = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return session && decodeClaims(session.token) ? session : null;
  } catch {
    return null;
  }
}

function signOut() {
  localStorage.removeItem(SESSION_KEY);
  herald?.disconnect();
  location.reload();
}

// MARK: The app

function enter(session) {
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("tools").hidden = false;
  $("who").hidden = false;
  $("who").textContent = `${session.sub} · ${session.role}${session.restaurantId ? ` at ${session.restaurantId}` : ""}`;
  $("guest-view").hidden = session.role !== "guest";
  $("staff-view").hidden = session.role !== "restaurant" && session.role !== "admin";
  $("admin-view").hidden = session.role !== "admin";

  herald = connect({ url: location.origin, token: session.token });
  window.herald = herald; // for the console, and the browser tests
  herald.on("state", showState);
  herald.store.subscribe(render);
  for (const event of NOTIFICATION_EVENTS) herald.on(event, (payload) => arrived(event, payload));

  $("reconnect").addEventListener("click", () => herald.reconnect());
  $("bell").addEventListener("click", () => openCenter($("center").hidden));
  $("close-center").addEventListener("click", () => openCenter(false));
  $("mark-all").addEventListener("click", () => herald.store.markAllAsRead());
  $("notifications").addEventListener("click", centerAction);
  $("toasts").addEventListener("click", (event) => {
    const id = event.target.closest("[data-dismiss]")?.dataset.dismiss;
    if (id) herald.store.dismissToast(id);
  });
  setUpSound();
  setUpStaff(session);
  if (session.role === "admin") setUpAdmin(session);
  showState(herald.state);
  render(herald.store);
}

function showState(state) {
  $("connection").dataset.state = state;
  $("connection-text").textContent = STATE_TEXT[state] ?? state;
  $("reconnect").hidden = !["gave_up", "refused", "disconnected"].includes(state);
  if (state === "refused" && herald?.lastError) $("connection-text").textContent = `Refused: ${herald.lastError}`;
}

function arrived(event, payload) {
  playSound();
  const feed = $("feed");
  feed.querySelector(".empty")?.remove();
  feed.prepend(eventItem(event, payload));
  while (feed.children.length > 50) feed.lastElementChild.remove();
  if ((event === "points_added" || event === "points_redeemed") && payload.guestId === readSession()?.sub) {
    $("balance").textContent = payload.newBalance;
    $("balance-note").textContent = `After ${describe(event, payload).title.toLowerCase()} at ${payload.restaurantName ?? payload.restaurantId}.`;
  }
}

function eventItem(event, payload, extra) {
  const item = document.createElement("li");
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.dataset.event = event;
  kind.textContent = { points_added: "+", points_redeemed: "−", card_created: "C", guest_registered: "G", system_alert: "!" }[event] ?? "•";
  const what = document.createElement("div");
  what.className = "what";
  const { title, message } = describe(event, payload);
  const strong = document.createElement("strong");
  strong.textContent = title;
  const line = document.createElement("span");
  line.textContent = message;
  what.append(strong, line);
  const time = document.createElement("time");
  const at = new Date(payload.timestamp ?? Date.now());
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  item.append(kind, what, time);
  if (extra) item.append(extra);
  return item;
}

function render(store) {
  const badge = $("badge");
  badge.textContent = store.unreadCount > 99 ? "99+" : String(store.unreadCount);
  badge.hidden = store.unreadCount === 0;
  $("bell").title = `Notifications (${store.unreadCount} unread)`;

  const list = $("notifications");
  list.replaceChildren();
  if (store.notifications.length === 0) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No notifications.";
    list.append(empty);
  }
  for (const notification of store.notifications) {
    const actions = document.createElement("div");
    actions.className = "item-actions";
    if (!notification.read) actions.append(button("Mark read", "read", notification.id));
    actions.append(button("Delete", "delete", notification.id));
    const item = eventItem(notification.event, notification.payload, actions);
    item.dataset.id = notification.id;
    item.dataset.read = String(notification.read);
    list.append(item);
  }

  const toasts = $("toasts");
  const shown = new Set([...toasts.children].map((t) => t.dataset.id));
  for (const child of [...toasts.children]) if (!store.toasts.some((t) => t.id === child.dataset.id)) child.remove();
  for (const toast of store.toasts) {
    if (shown.has(toast.id)) continue;
    const element = document.createElement("div");
    element.className = "toast";
    element.dataset.id = toast.id;
    element.dataset.event = toast.event;
    element.setAttribute("role", "status");
    const title = document.createElement("strong");
    title.textContent = toast.title;
    const message = document.createElement("span");
    message.textContent = toast.message;
    const close = button("✕", "dismiss", toast.id);
    close.dataset.dismiss = toast.id;
    close.title = "Dismiss";
    element.append(title, message, close);
    toasts.append(element);
  }
}

function button(text, action, id) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "link";
  element.textContent = text;
  element.dataset.action = action;
  element.dataset.id = id;
  return element;
}

function openCenter(open) {
  $("center").hidden = !open;
  $("bell").setAttribute("aria-expanded", String(open));
}

function centerAction(event) {
  const target = event.target.closest("button[data-action]");
  if (!target) return;
  if (target.dataset.action === "read") herald.store.markAsRead(target.dataset.id);
  if (target.dataset.action === "delete") herald.store.deleteNotification(target.dataset.id);
}

// MARK: Sound: a short chime on arrival, which can be switched off (and stays so)

let audio = null;

function soundOn() {
  return localStorage.getItem(SOUND_KEY) !== "off";
}

function setUpSound() {
  const toggle = $("sound");
  const show = () => {
    toggle.setAttribute("aria-pressed", String(soundOn()));
    toggle.title = soundOn() ? "Sound on arrival: on" : "Sound on arrival: off";
  };
  toggle.addEventListener("click", () => {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    unlockSound();
    show();
  });
  // Browsers let a page make sound only after the user touched it.
  for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, unlockSound, { once: true });
  show();
}

function unlockSound() {
  if (audio || !globalThis.AudioContext) return;
  audio = new AudioContext();
}

function playSound() {
  if (!soundOn() || !audio || audio.state !== "running") return;
  const now = audio.currentTime;
  const gain = audio.createGain();
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.5);
  gain.connect(audio.destination);
  for (const [frequency, delay] of [[880, 0], [1320, 0.08]]) {
    const tone = audio.createOscillator();
    tone.frequency.value = frequency;
    tone.connect(gain);
    tone.start(now + delay);
    tone.stop(now + 0.5);
  }
}

// MARK: Staff: points, guests

async function api(session, method, path, body) {
  const answer = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${session.token}`, "content-type": "application/json", "idempotency-key": requestKey() },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(json.error?.message ?? `HTTP ${answer.status}`);
  return json;
}

/// A fresh Idempotency-Key (crypto.randomUUID exists only on HTTPS and localhost).
function requestKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function setUpStaff(session) {
  const restaurantId = session.restaurantId ?? "r-demo";
  const result = $("staff-result");
  const say = (text, bad = false) => {
    result.textContent = text;
    result.classList.toggle("bad", bad);
  };
  $("points-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const redeem = event.submitter?.value === "redeem";
    try {
      const answer = await api(session, "POST", redeem ? "/api/points/redeem" : "/api/points/add", {
        guestId: form.get("guestId"), restaurantId, amount: Number(form.get("amount")), description: form.get("description") || "",
      });
      say(`${redeem ? "Redeemed" : "Added"} ${form.get("amount")} points: ${form.get("guestId")} now has ${answer.newBalance}.`);
    } catch (error) {
      say(error.message, true);
    }
  });
  $("guest-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await api(session, "POST", "/api/guests", { guestId: form.get("guestId"), name: form.get("name"), restaurantId });
      say(`${form.get("name")} is registered at ${restaurantId}.`);
    } catch (error) {
      say(error.message, true);
    }
  });
}

// MARK: Admin: alerts, and the cluster live

function setUpAdmin(session) {
  $("alert-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await api(session, "POST", "/api/alerts", { level: form.get("level"), message: form.get("message") });
      $("alert-result").textContent = "Alert sent to every admin.";
    } catch (error) {
      $("alert-result").textContent = error.message;
    }
  });
  $("watch-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const room = new FormData(event.target).get("room").trim();
    if (room) watched.add(room);
    refreshPresence(session);
  });
  watched.add("admin");
  watched.add("restaurant:r-demo");
  refreshPresence(session);
  presenceTimer = setInterval(() => refreshPresence(session), 3000);
}

async function refreshPresence(session) {
  if (herald && !herald.isConnected) return;
  try {
    const cluster = await api(session, "GET", "/api/presence");
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    $("totals").textContent = `${plural(cluster.sockets, "connection")} of ${plural(cluster.users, "user")} in ` +
      `${plural(cluster.rooms, "room")}, on ${plural(cluster.servers, "node")}.`;
    fillTable("nodes", Object.entries(cluster.nodes).sort().map(([node, sockets]) => [node, sockets]));
  } catch (error) {
    $("totals").textContent = error.message;
  }
  const rows = [];
  for (const room of watched) {
    try {
      const answer = await api(session, "GET", `/api/presence/${room}`);
      rows.push([room, answer.sockets, answer.users, Object.entries(answer.nodes ?? {}).map(([n, c]) => `${n}: ${c}`).join(", ") || "—"]);
    } catch (error) {
      rows.push([room, "—", "—", error.message]);
    }
  }
  fillTable("rooms", rows);
}

function fillTable(id, rows) {
  $(id).replaceChildren(...rows.map((cells) => {
    const row = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = String(cell);
      row.append(td);
    }
    return row;
  }));
}

window.addEventListener("pagehide", () => clearInterval(presenceTimer));
start();
