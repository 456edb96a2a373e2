// SPDX-License-Identifier: AGPL-3.0-or-later
// Simplified sliding sync (MSC4186), when the server offers it (docs/web_client.md,
// "Sync"): matrix-js-sdk's own SlidingSync (it posts to Synapse's
// /_matrix/client/unstable/org.matrix.simplified_msc3575/sync) with two lists — the chats
// by recency, a window of the first screen grown as the officer scrolls, and the pinned
// chats — and the open chat as a room subscription; extensions: account data (pins,
// mutes, hidden chats, settings, m.direct) and receipts (read state, 已读/未读). The
// server answers its notification counts with 0, so the unread badges and [有人@我] come
// from GET /_jwwx/client/v1/messages/unread (Synapse's own counts), asked at start and
// again after every answer that brought new events or the officer's own receipts.
import { SlidingSync, SlidingSyncEvent, SlidingSyncState } from "matrix-js-sdk/lib/sliding-sync.js";
import { call } from "./api.js";
import { countsMayChange, grownRange, ownMembership, SLIDING } from "./rules.js";
import { setServerCounts } from "./unread.js";

export const SLIDING_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";
const MODE_KEY = "jwwx.web.sync";
const UNREAD_PATH = "/_jwwx/client/v1/messages/unread";
const PIN_TAG = "m.favourite";

// "sliding" or "v2": asked once per tab with a request of no list (the server offers
// the endpoint or answers 404), remembered in sessionStorage (a reload asks nothing).
const asked = new Map();
export function syncMode(token) {
  let known = null;
  try { known = sessionStorage.getItem(MODE_KEY); } catch { /* no storage: ask */ }
  if (known === "sliding" || known === "v2") return Promise.resolve(known);
  if (!asked.has(token)) {
    asked.set(token, call("POST", `${SLIDING_PATH}?timeout=0`, { lists: {} }, token).then(
      () => "sliding",
      (e) => (e.status === 0 || e.status === 401 ? null : "v2"),
    ).then((mode) => {
      if (mode) {
        try { sessionStorage.setItem(MODE_KEY, mode); } catch { /* asked again next time */ }
      }
      return mode || "v2";
    }));
  }
  return asked.get(token);
}

// Only the extensions this client uses: no to_device (no E2EE), no typing (not shown),
// no sticky events. The SDK registers all of them; the others are left out here.
// And the room subscription in every request: the SDK sends a subscription once (as the
// MSC3575 proxy kept it), but under MSC4186 nothing of a request is kept for the next
// (Synapse builds each answer from the request's lists and subscriptions), so the open
// chat would stop being live after one answer: "confirmed" subscriptions stay empty.
class ChatSync extends SlidingSync {
  constructor(...args) {
    super(...args);
    Object.defineProperty(this, "confirmedRoomSubscriptions", { get: () => new Set(), set: () => {} });
  }

  registerExtension(extension) {
    if (SLIDING.extensions.includes(extension.name())) super.registerExtension(extension);
  }
}

// The running sliding sync (one per signed-in tab), for wantEveryChat.
let current = null;

// A picker that offers every chat (转发, a favourite's 发送, 设置's muted chats): the window
// grows to the whole list once, and the picker fills as the chats arrive. Nothing under
// /sync v2, which has every chat already.
export function wantEveryChat() {
  const count = current?.count();
  if (count) current.grow(count);
}

// The sliding sync for `client` (give `sync` to startClient): `count()` the chats the
// server lists, `grow(rows)` when the list shows rows up to `rows`, `open(roomId)` the
// open chat's subscription; `onChange` when counts changed.
export function startSliding(client, token, onChange) {
  const room = { timeline_limit: SLIDING.timelineLimit, required_state: SLIDING.requiredState };
  let end = SLIDING.firstRows - 1;
  const lists = new Map([
    ["chats", { ...room, ranges: [[0, end]] }],
    ["pinned", { ...room, ranges: [[0, SLIDING.pinnedRows - 1]], filters: { tags: [PIN_TAG] } }],
  ]);
  const sync = new ChatSync(client.baseUrl, lists, room, client, SLIDING.pollMs);
  const me = client.getUserId();
  let stopped = false;

  // The unread counts: one request at a time, once more if asked meanwhile.
  let running = false;
  let again = false;
  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    try {
      do {
        again = false;
        const answer = await call("GET", UNREAD_PATH, undefined, token);
        if (stopped) return;
        setServerCounts(client, answer.rooms || {});
        onChange();
      } while (again && !stopped);
    } catch {
      // kept as they were; asked again after the next answer
    } finally {
      running = false;
    }
  }

  // A chat that had more new events than the timeline limit since the last answer (or
  // since the connection started over): a gap. As /sync v2 does, a new live timeline
  // starts from them (scrolling back pages the gap from the server) instead of the SDK
  // joining them to the older ones. Runs before the SDK's handler (registered first).
  sync.on(SlidingSyncEvent.RoomData, (roomId, data) => {
    if (!data.limited) return;
    const known = client.getRoom(roomId);
    if (!known || known.getLiveTimeline().getEvents().length === 0) return;
    const ids = new Set(known.getLiveTimeline().getEvents().map((e) => e.getId()));
    if ((data.timeline || []).some((e) => ids.has(e.event_id))) return;
    known.resetLiveTimeline(data.prev_batch ?? null, null);
  });

  sync.on(SlidingSyncEvent.Lifecycle, (state, resp) => {
    if (state !== SlidingSyncState.Complete || !resp) return;
    // The SDK marks every room it is sent as joined: an invitation (joined by the app,
    // as WeChat has none to accept) and a chat left are set from what the server sent.
    for (const [roomId, data] of Object.entries(resp.rooms || {})) {
      const known = client.getRoom(roomId);
      if (!known) continue;
      const mine = ownMembership(data, me, known.currentState.getMember(me)?.membership);
      if (mine && mine !== known.getMyMembership()) known.updateMyMembership(mine);
    }
    if (countsMayChange(resp, me)) refresh();
  });

  // The counts do not wait for the first answer.
  refresh();
  const handle = {
    sync,
    count: () => sync.getListData("chats")?.joinedCount ?? null,
    grow(rows) {
      const next = grownRange(end, rows, SLIDING.pageRows);
      if (next === end) return;
      end = next;
      sync.setListRanges("chats", [[0, end]]);
    },
    open(roomId) {
      const now = sync.getRoomSubscriptions();
      if (now.size === (roomId ? 1 : 0) && (!roomId || now.has(roomId))) return;
      sync.modifyRoomSubscriptions(new Set(roomId ? [roomId] : []));
    },
    refresh,
    stop() {
      stopped = true;
      if (current === handle) current = null;
      sync.stop();
    },
  };
  current = handle;
  return handle;
}
