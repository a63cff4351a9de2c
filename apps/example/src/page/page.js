// Keeps the server-rendered roster live: one EventSource on /events, no polling, no framework.
// The server renders the page first, so everything here is an enhancement.
'use strict';

const HEARTBEAT_SECONDS = 60;
const GONE_MS = 4000; // how long a user who left or timed out stays visible, marked, before the row goes
const STALE_MS = 45000; // the server pings every 15 s; this long without a word means the stream is dead

const roomsList = document.getElementById('rooms');
const connection = document.getElementById('connection');
const activity = document.getElementById('activity');
const form = document.getElementById('presence-form');
const formStatus = document.getElementById('form-status');

let lastEventId = roomsList.dataset.eventId || '';
let source;
let retryTimer;
let staleTimer;
let retryDelay = 1000;

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function describeState(state) {
  if (state === undefined || state === null) return '';
  if (typeof state === 'object' && !Array.isArray(state)) {
    if (typeof state.mood === 'string') return state.mood;
    if (Object.keys(state).length === 0) return '';
  }
  const text = JSON.stringify(state);
  return text.length > 60 ? text.slice(0, 57) + '…' : text;
}

function roomElement(room) {
  for (const element of roomsList.querySelectorAll('.room')) if (element.dataset.room === room) return element;
  return undefined;
}

function rowOf(list, userId) {
  for (const row of list.children) if (row.dataset.user === userId) return row;
  return undefined;
}

function fillRow(row, occupant) {
  row.dataset.user = occupant.userId;
  row.replaceChildren();
  const user = document.createElement('span');
  user.className = 'user';
  user.textContent = occupant.userId;
  row.append(user);
  const described = describeState(occupant.state);
  if (described) {
    const state = document.createElement('span');
    state.className = 'state';
    state.textContent = described;
    row.append(' ', state);
  }
}

function flash(row) {
  row.classList.add('fresh');
  setTimeout(() => row.classList.remove('fresh'), 1500);
}

/** Adds or updates a user's row in place, keeping rows sorted by user id. */
function upsert(room, occupant, fresh) {
  const list = room.querySelector('.occupants');
  let row = rowOf(list, occupant.userId);
  if (row && row.classList.contains('gone')) {
    row.remove();
    row = undefined;
  }
  if (!row) {
    row = document.createElement('li');
    const after = [...list.children].find((other) => !other.classList.contains('gone') && other.dataset.user > occupant.userId);
    list.insertBefore(row, after || null);
  }
  fillRow(row, occupant);
  if (fresh) flash(row);
}

function remove(room, userId, reason) {
  const row = rowOf(room.querySelector('.occupants'), userId);
  if (!row || row.classList.contains('gone')) return;
  row.classList.add('gone');
  row.dataset.gone = reason;
  const note = document.createElement('span');
  note.className = 'state';
  note.textContent = reason === 'timeout' ? 'timed out' : 'left';
  row.replaceChildren(row.querySelector('.user') || userId, ' ', note);
  setTimeout(() => row.isConnected && row.classList.contains('gone') && row.remove(), GONE_MS);
}

function setOccupancy(room, occupancy) {
  room.querySelector('[data-occupancy]').textContent = String(occupancy);
  room.querySelector('.empty').hidden = occupancy > 0;
}

function log(parts) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  item.append(time, ' ');
  for (const part of parts) {
    if (typeof part === 'string') item.append(part);
    else {
      const strong = document.createElement('strong');
      strong.textContent = part.strong;
      item.append(strong);
    }
  }
  activity.prepend(item);
  while (activity.children.length > 30) activity.lastElementChild.remove();
}

function applySnapshot(data) {
  for (const view of data.rooms) {
    const room = roomElement(view.room);
    if (!room) continue;
    const list = room.querySelector('.occupants');
    const present = new Set(view.occupants.map((o) => o.userId));
    for (const row of [...list.children]) if (!present.has(row.dataset.user)) row.remove();
    for (const occupant of view.occupants) upsert(room, occupant, false);
    setOccupancy(room, view.occupancy);
  }
}

function applyChange(change) {
  const room = roomElement(change.room);
  if (!room) return;
  for (const occupant of change.joined) {
    upsert(room, occupant, true);
    log([{ strong: occupant.userId }, ' joined ', { strong: change.room }]);
  }
  for (const occupant of change.updated) {
    upsert(room, occupant, true);
    log([{ strong: occupant.userId }, ' in ' + change.room + ' is now ', { strong: describeState(occupant.state) || 'without a status' }]);
  }
  for (const userId of change.left) {
    remove(room, userId, 'leave');
    log([{ strong: userId }, ' left ', { strong: change.room }]);
  }
  for (const userId of change.timedOut) {
    remove(room, userId, 'timeout');
    log([{ strong: userId }, ' timed out of ', { strong: change.room }]);
  }
  setOccupancy(room, change.occupancy);
}

function watchStale() {
  clearTimeout(staleTimer);
  staleTimer = setTimeout(() => {
    // No event and no ping for too long: the connection is dead without the browser noticing.
    source.close();
    offline();
  }, STALE_MS);
}

function offline() {
  setConnection('offline', 'Offline: reconnecting…');
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 15000);
}

function connect() {
  clearTimeout(retryTimer);
  if (source) source.close();
  // The first connection resumes from the rendered page's event id; the browser sends
  // Last-Event-ID by itself on its own reconnects.
  source = new EventSource('/events' + (lastEventId ? '?since=' + encodeURIComponent(lastEventId) : ''));
  source.addEventListener('open', () => {
    retryDelay = 1000;
    setConnection('live', 'Live');
    watchStale();
  });
  source.addEventListener('snapshot', (event) => {
    lastEventId = event.lastEventId;
    applySnapshot(JSON.parse(event.data));
    watchStale();
  });
  source.addEventListener('change', (event) => {
    lastEventId = event.lastEventId;
    applyChange(JSON.parse(event.data));
    watchStale();
  });
  source.addEventListener('ping', watchStale);
  source.addEventListener('error', () => {
    clearTimeout(staleTimer);
    if (source.readyState === EventSource.CLOSED) offline(); // the browser gave up: try again ourselves
    else setConnection('offline', 'Offline: reconnecting…'); // the browser retries by itself
  });
}

// Presence for the visitor: joined rooms keep a heartbeat while the page is open.
const joined = new Map();

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return response.json();
  let message = 'The service answered ' + response.status + '.';
  try {
    message = (await response.json()).error.message;
  } catch {}
  throw new Error(message);
}

const path = (user, room) => '/users/' + encodeURIComponent(user) + '/rooms/' + encodeURIComponent(room);

async function heartbeat(user, room) {
  await call('POST', path(user, room) + '/heartbeat?heartbeat=' + HEARTBEAT_SECONDS);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const action = event.submitter ? event.submitter.value : 'join';
  const user = form.elements.user.value.trim();
  const room = form.elements.room.value;
  const mood = form.elements.mood.value.trim();
  const key = user + '\n' + room;
  if (!user) {
    formStatus.textContent = 'Give your name first.';
    form.elements.user.focus();
    return;
  }
  try {
    if (action === 'leave') {
      clearInterval(joined.get(key));
      joined.delete(key);
      await call('DELETE', path(user, room));
      formStatus.textContent = user + ' left ' + room + '.';
      return;
    }
    if (action === 'join' || !joined.has(key)) {
      await heartbeat(user, room);
      if (!joined.has(key)) joined.set(key, setInterval(() => heartbeat(user, room).catch(() => {}), (HEARTBEAT_SECONDS * 1000) / 3));
    }
    if (mood || action === 'state') await call('PUT', path(user, room) + '/state', mood ? { mood } : {});
    formStatus.textContent = action === 'join' ? user + ' joined ' + room + '.' : user + "'s status in " + room + ' is set.';
  } catch (error) {
    formStatus.textContent = error.message;
  }
});

setConnection('connecting', 'Connecting…');
connect();
