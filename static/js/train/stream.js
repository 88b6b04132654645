/**
 * Follows one run's events over the websocket and survives dropped connections.
 *
 * The server replays every stored event after `?after=SEQ` and then streams
 * live ones, so resuming is just reconnecting with the last seq we applied:
 * the model drops duplicates, and a gap (which should not happen) triggers a
 * reconnect from the last good seq rather than a silently broken curve.
 * The socket closes normally after the final status; then we stop for good.
 */
import {openRunSocket, runEvents} from "../api.js";
import {isFinal} from "./run-model.js";

const MAX_DELAY_MS = 5000;
const NO_RUN = 4404; // the server's close code for a run that does not exist: never retry

export class RunStream {
  /**
   * @param {import("./run-model.js").RunModel} model  receives every event
   * @param {{onEvents?: Function, onState?: Function}} hooks
   *   onEvents(events) after a batch is applied; onState("live"|"reconnecting"|"closed")
   */
  constructor(model, hooks = {}) {
    this.model = model;
    this.hooks = hooks;
    this.socket = null;
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.pending = [];
    this.flushScheduled = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const socket = openRunSocket(this.model.id, this.model.lastSeq);
    this.socket = socket;
    socket.onopen = () => { this.attempt = 0; this.hooks.onState?.("live"); };
    socket.onmessage = (msg) => this._receive(socket, msg.data);
    socket.onclose = (ev) => {
      if (socket !== this.socket) return; // an older socket we replaced on purpose
      this.socket = null;
      if (this.closed || isFinal(this.model.status)) return this.close();
      if (ev.code === NO_RUN) { this.hooks.onState?.("gone"); return this.close(); }
      // A normal close means "run finished": if its last events did not reach
      // us, fetch them over REST instead of reconnecting in a loop.
      if (ev.code === 1000) return this._catchUp();
      this._retry();
    };
    // An error is always followed by close; retrying happens there.
    socket.onerror = () => {};
  }

  _receive(socket, text) {
    let event;
    try { event = JSON.parse(text); } catch { return; }
    const result = this._apply(event);
    if (result === "gap") {
      // Resume from what we have; the server replays the missing part.
      this.socket = null;
      socket.close();
      this._retry(0);
      return;
    }
  }

  /** Apply one event to the model and queue it for the next frame's redraw. */
  _apply(event) {
    const result = this.model.add(event);
    if (result !== "ok") return result;
    this.pending.push(event);
    // Many events can arrive per frame; hand them over in one batch so the
    // charts redraw once per animation frame, not once per message.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      requestAnimationFrame(() => this._flush());
    }
    if (isFinal(this.model.status)) this.closed = true;
    return result;
  }

  async _catchUp() {
    try {
      const events = await runEvents(this.model.id, this.model.lastSeq);
      for (const e of events) this._apply(e);
    } catch { /* fall through to a retry */ }
    if (isFinal(this.model.status)) this.close();
    else this._retry();
  }

  _flush() {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) this.hooks.onEvents?.(batch);
    if (this.closed && !this.socket) this.hooks.onState?.("closed");
  }

  _retry(delay) {
    if (this.closed) return;
    this.attempt += 1;
    const wait = delay ?? Math.min(MAX_DELAY_MS, 250 * 2 ** (this.attempt - 1));
    this.hooks.onState?.("reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Drop a live connection as a network failure would (used by tests and "reconnect"). */
  drop() { this.socket?.close(); }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close();
    this._flush();
    this.hooks.onState?.("closed");
  }
}
