// herald-notifications.js: Herald's client library (SPEC section 8).
//
// A plain ES module on top of the official socket.io-client v4, which every Herald gateway serves
// beside it (/vendor/socket.io.min.js): no build step, nothing from the internet.
//
//   import { connect } from "/client/herald-notifications.js";
//   const herald = connect({ url: location.origin, token });
//   herald.on("points_added", (payload) => ...);
//   herald.store.subscribe(() => render(herald.store));
//
// The store is the notification center of SPEC section 4, kept in step with the server's (sync on
// every connection that did not recover, `notification_updated` from every other tab and device).

import "../vendor/socket.io.min.js"; // the UMD bundle defines globalThis.io

const io = globalThis.io;

/// The events that are notifications (and toasts), SPEC section 4.
export const NOTIFICATION_EVENTS = ["points_added", "points_redeemed", "card_created", "guest_registered", "system_alert"];

/// The seed's reconnection policy: 1 s, backing off to at most 5 s, 5 attempts, then `gave_up`.
export const RECONNECTION = Object.freeze({ delay: 1000, maxDelay: 5000, attempts: 5 });

/// Connection states, in the order a connection goes through them.
export const STATES = Object.freeze(["connecting", "connected", "reconnecting", "gave_up", "refused", "disconnected"]);

const ACK_TIMEOUT = 5000;

/// Connects to a Herald gateway. `token` is the JWT of SPEC section 3.
export function connect({ url = globalThis.location?.origin, token, path = "/socket.io/", toastLifetime = 5000, transports } = {}) {
  if (!io) throw new Error("socket.io-client is not loaded");
  if (!token) throw new Error("connect needs a token");
  return new HeraldClient({ url, token, path, toastLifetime, transports });
}

/// A title and a line of text for a notification, for toasts and lists.
export function describe(event, payload = {}) {
  const at = payload.restaurantName || payload.restaurantId || "";
  switch (event) {
    case "points_added":
      return { title: `+${payload.amount} points`, message: `${at} · balance ${payload.newBalance}` };
    case "points_redeemed":
      return { title: `−${payload.amount} points redeemed`, message: `${at} · balance ${payload.newBalance}` };
    case "card_created":
      return { title: "New loyalty card", message: `${payload.guestId} at ${at}` };
    case "guest_registered":
      return { title: "Guest registered", message: `${payload.name} (${payload.guestId})` };
    case "system_alert":
      return { title: `System alert: ${payload.level}`, message: payload.message };
    default:
      return { title: event, message: "" };
  }
}

class Listeners {
  #byEvent = new Map();

  on(event, fn) {
    if (!this.#byEvent.has(event)) this.#byEvent.set(event, new Set());
    this.#byEvent.get(event).add(fn);
    return () => this.#byEvent.get(event)?.delete(fn);
  }

  emit(event, ...args) {
    for (const fn of [...(this.#byEvent.get(event) ?? [])]) {
      try {
        fn(...args);
      } catch (error) {
        console.warn(`[herald] a ${event} listener threw`, error);
      }
    }
  }
}

/// The notification center as this tab sees it: newest first, at most 100 (as on the server).
export class NotificationStore {
  notifications = [];
  unreadCount = 0;
  toasts = [];
  #client;
  #listeners = new Listeners();
  #toastLifetime;
  #toastTimers = new Map();

  constructor(client, toastLifetime) {
    this.#client = client;
    this.#toastLifetime = toastLifetime;
  }

  /// Calls `fn(store)` after every change; returns the function that stops it.
  subscribe(fn) {
    return this.#listeners.on("change", fn);
  }

  markAsRead(id) {
    const item = this.notifications.find((n) => n.id === id);
    if (item && !item.read) {
      item.read = true;
      this.unreadCount = Math.max(0, this.unreadCount - 1);
      this.#changed();
    }
    return this.#client.action({ type: "mark_read", id });
  }

  markAllAsRead() {
    for (const item of this.notifications) item.read = true;
    this.unreadCount = 0;
    this.#changed();
    return this.#client.action({ type: "mark_all_read" });
  }

  deleteNotification(id) {
    const item = this.notifications.find((n) => n.id === id);
    if (item) {
      this.notifications = this.notifications.filter((n) => n.id !== id);
      if (!item.read) this.unreadCount = Math.max(0, this.unreadCount - 1);
      this.#changed();
    }
    return this.#client.action({ type: "delete", id });
  }

  dismissToast(id) {
    clearTimeout(this.#toastTimers.get(id));
    this.#toastTimers.delete(id);
    const before = this.toasts.length;
    this.toasts = this.toasts.filter((t) => t.id !== id);
    if (this.toasts.length !== before) this.#changed();
  }

  // The client's side, not for applications.

  _replace({ notifications = [], unreadCount = 0 } = {}) {
    this.notifications = notifications.map((n) => ({ ...n }));
    this.unreadCount = unreadCount;
    this.#changed();
  }

  _arrived(event, payload) {
    const id = payload?.eventId;
    if (!id) return;
    if (!this.notifications.some((n) => n.id === id)) {
      this.notifications.unshift({ id, event, payload, read: false, timestamp: payload.timestamp ?? Date.now() });
      this.notifications.length = Math.min(this.notifications.length, 100);
      this.unreadCount += 1;
    }
    if (!this.toasts.some((t) => t.id === id)) {
      this.toasts = [...this.toasts, { id, event, payload, ...describe(event, payload) }].slice(-5);
      this.#toastTimers.set(id, setTimeout(() => this.dismissToast(id), this.#toastLifetime));
    }
    this.#changed();
  }

  _updated({ id, read, deleted, unreadCount } = {}) {
    if (id === undefined || id === null) {
      if (read) for (const item of this.notifications) item.read = true;
    } else if (deleted) {
      this.notifications = this.notifications.filter((n) => n.id !== id);
    } else if (read !== undefined) {
      const item = this.notifications.find((n) => n.id === id);
      if (item) item.read = read;
    }
    if (typeof unreadCount === "number") this.unreadCount = unreadCount;
    this.#changed();
  }

  #changed() {
    this.#listeners.emit("change", this);
  }
}

/// One connection to Herald: its state, its rooms, its events and its notification center.
export class HeraldClient {
  /// One of STATES.
  state = "connecting";
  /// The `connected` payload of the current connection: {socketId, userId, role, rooms, nodeId, recovered}.
  info = null;
  /// The last refusal or error message, if any.
  lastError = null;
  store;
  #socket;
  #listeners = new Listeners();

  constructor({ url, token, path, toastLifetime, transports }) {
    this.store = new NotificationStore(this, toastLifetime);
    const options = {
      path,
      auth: { token },
      reconnection: true,
      reconnectionDelay: RECONNECTION.delay,
      reconnectionDelayMax: RECONNECTION.maxDelay,
      reconnectionAttempts: RECONNECTION.attempts,
    };
    if (transports) options.transports = transports;
    const socket = io(url, options);
    this.#socket = socket;

    socket.on("connect", () => {
      this.lastError = null;
      this.#setState("connected");
      // A recovered connection got what it missed, in order; any other needs the center again.
      if (!socket.recovered) this.sync();
    });
    socket.on("connected", (info) => {
      this.info = info;
      this.#listeners.emit("connected", info);
    });
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") this.#setState("disconnected");
      else if (reason === "io server disconnect") {
        // The server closed this socket on purpose (socket.io-client does not retry then).
        this.lastError = "disconnected by the server";
        this.#setState("disconnected");
      } else this.#setState("reconnecting");
    });
    socket.on("connect_error", (error) => {
      this.lastError = error?.message ?? String(error);
      // A CONNECT_ERROR from the server (a bad token) is final; a transport error is retried.
      if (!socket.active) this.#setState("refused");
      else if (this.state !== "connecting") this.#setState("reconnecting");
    });
    socket.io.on("reconnect_attempt", () => this.#setState("reconnecting"));
    socket.io.on("reconnect_failed", () => this.#setState("gave_up"));
    for (const event of NOTIFICATION_EVENTS) {
      socket.on(event, (payload) => this.store._arrived(event, payload));
    }
    socket.on("notification_updated", (update) => this.store._updated(update));
    socket.on("error", (error) => {
      this.lastError = error?.message ?? error?.code ?? "error";
      this.#listeners.emit("server_error", error);
    });
  }

  get isConnected() {
    return this.#socket.connected;
  }

  get socketId() {
    return this.#socket.id ?? null;
  }

  /// Whether the current connection recovered the last one's session (SPEC 4.1).
  get recovered() {
    return this.#socket.recovered === true;
  }

  /// Listens to a server event (`points_added`, ...) or to the client's own: `state` (the new
  /// state), `connected` (its payload), `server_error`. Returns the function that stops it.
  on(event, fn) {
    if (["state", "connected", "server_error"].includes(event)) return this.#listeners.on(event, fn);
    this.#socket.on(event, fn);
    return () => this.#socket.off(event, fn);
  }

  /// Joins a channel (SPEC section 3); resolves with the server's ack, `{ok, channel}` or `{ok: false, error}`.
  subscribe(channel) {
    return this.#request("subscribe", { channel });
  }

  unsubscribe(channel) {
    return this.#request("unsubscribe", { channel });
  }

  /// Sends a notification-center action; resolves with its ack.
  action(body) {
    return this.#request("action", body);
  }

  /// Fetches the notification center again.
  async sync() {
    const answer = await this.#request("sync");
    if (answer && Array.isArray(answer.notifications)) this.store._replace(answer);
    return answer;
  }

  /// Starts over after `gave_up`, `refused` or `disconnected`, with a fresh round of attempts.
  reconnect() {
    this.#setState("connecting");
    this.#socket.connect();
  }

  disconnect() {
    this.#socket.disconnect();
  }

  #request(event, body) {
    return new Promise((resolve) => {
      const done = (error, answer) => resolve(error ? { ok: false, error: { code: "timeout", message: String(error.message ?? error) } } : answer);
      if (body === undefined) this.#socket.timeout(ACK_TIMEOUT).emit(event, done);
      else this.#socket.timeout(ACK_TIMEOUT).emit(event, body, done);
    });
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.#listeners.emit("state", state);
  }
}
