// SPDX-License-Identifier: AGPL-3.0-or-later
// The unread counts the server gives when the client syncs with simplified sliding sync
// (src/sliding.js; its answers carry 0): {room_id: {unread, mentions}} per client. None
// (null) under /sync v2, whose rooms carry their own counts.
const counts = new WeakMap();

export function setServerCounts(client, rooms) {
  counts.set(client, new Map(Object.entries(rooms)));
}

export function serverCounts(client) {
  return (client && counts.get(client)) || null;
}
