export type * from './live-event.js';
