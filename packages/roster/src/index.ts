export { roster, type RosterHandle, type RosterOptions, type RosterPlugin } from './roster.js';
export { RosterState, type ApplyOutcome, type RosterChannel, type RosterDiff, type RosterOccupant, type RosterSnapshot } from './roster-state.js';
export { createRosterEngine, RosterClosedError, type RosterEngine, type RosterEngineOptions, type RosterSource, type SeedReason, type SeedReport } from './roster-engine.js';
export { answerHereNow, type RosterView } from './answer-here-now.js';
export { addAnswerMiddleware, rosterAnswerMiddleware, ROSTER_MIDDLEWARE, type AnswerSource } from './answer-middleware.js';
export { ChangeFeed, MAX_PENDING_CHANGES, RosterLagError } from './change-feed.js';
export { createWriteFence, resolveRosterOptions } from './roster.js';
