import { readFileSync } from 'node:fs';
import type { JsonValue } from '@presence/core';
import type { LiveSnapshot, RoomView } from './live-events.js';
import type { Occupant } from './live-roster.js';

/** The page's stylesheet and script: plain files served as they are (no build step). */
export const assets: Record<string, { type: string; body: Buffer }> = {
  '/assets/page.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./page/page.css', import.meta.url)) },
  '/assets/page.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./page/page.js', import.meta.url)) },
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

/** A state as one short line: the `mood` the simulated users and the form set, or compact JSON. */
export function describeState(state: JsonValue | undefined): string {
  if (state === undefined || state === null) return '';
  if (typeof state === 'object' && !Array.isArray(state)) {
    if (typeof state.mood === 'string') return state.mood;
    if (Object.keys(state).length === 0) return '';
  }
  const text = JSON.stringify(state);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function occupantItem({ userId, state }: Occupant): string {
  const described = describeState(state);
  return `<li data-user="${escape(userId)}"><span class="user">${escape(userId)}</span>${described ? ` <span class="state">${escape(described)}</span>` : ''}</li>`;
}

function roomSection({ room, occupancy, occupants }: RoomView, index: number): string {
  const heading = `room-${index}`;
  return `<li>
      <article class="room" data-room="${escape(room)}" aria-labelledby="${heading}">
        <header>
          <h3 id="${heading}">${escape(room)}</h3>
          <p class="occupancy"><span data-occupancy>${occupancy}</span> online</p>
        </header>
        <ul class="occupants" aria-label="In ${escape(room)}">${occupants.map(occupantItem).join('')}</ul>
        <p class="empty"${occupants.length ? ' hidden' : ''}>Nobody here right now.</p>
      </article>
    </li>`;
}

export interface PageInput {
  readonly rooms: readonly string[];
  /** Undefined while the roster is still loading. */
  readonly snapshot: LiveSnapshot | undefined;
  /** Set after a form post without JavaScript: what happened. */
  readonly notice?: string | undefined;
}

/** `GET /`: every room with its occupants, readable as it is; page.js then keeps it live. */
export function renderPage({ rooms, snapshot, notice }: PageInput): string {
  const views = snapshot?.rooms ?? rooms.map((room) => ({ room, occupancy: 0, occupants: [] }));
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Who's online</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/assets/page.css">
  <script src="/assets/page.js" defer></script>
</head>
<body>
  <header class="top">
    <h1>Who's online</h1>
    <p id="connection" role="status" data-state="static">${snapshot ? 'As of page load.' : 'The roster is loading; reload in a moment.'} <noscript>Turn on JavaScript for live updates.</noscript></p>
  </header>
  <main>
    <section aria-labelledby="rooms-heading">
      <h2 id="rooms-heading">Rooms</h2>
      <ul class="rooms" id="rooms" data-event-id="${escape(snapshot?.id ?? '')}">
    ${views.map(roomSection).join('\n    ')}
      </ul>
    </section>
    <aside>
      <section aria-labelledby="join-heading">
        <h2 id="join-heading">Join a room</h2>
        <form id="presence-form" method="post" action="/">
          <label for="user">Your name</label>
          <input id="user" name="user" required maxlength="92" autocomplete="nickname" spellcheck="false">
          <label for="room">Room</label>
          <select id="room" name="room">${rooms.map((room) => `<option>${escape(room)}</option>`).join('')}</select>
          <label for="mood">Status <span class="hint">(optional)</span></label>
          <input id="mood" name="mood" maxlength="80" placeholder="e.g. coding">
          <div class="buttons">
            <button type="submit" name="action" value="join">Join</button>
            <button type="submit" name="action" value="state">Set status</button>
            <button type="submit" name="action" value="leave">Leave</button>
          </div>
        </form>
        <p id="form-status" role="status">${notice ? escape(notice) : ''}</p>
      </section>
      <section aria-labelledby="activity-heading">
        <h2 id="activity-heading">Activity</h2>
        <ol id="activity" class="activity"></ol>
      </section>
    </aside>
  </main>
  <footer>Live through Server-Sent Events (<code>GET /events</code>). The JSON API: <a href="/rooms/${escape(rooms[0] ?? 'lobby')}/presence?state=1"><code>GET /rooms/${escape(rooms[0] ?? 'lobby')}/presence?state=1</code></a> and the README.</footer>
</body>
</html>
`;
}
