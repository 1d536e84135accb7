export type * from './live-event.js';
export type * from './messages-frames.js';
