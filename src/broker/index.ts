export { MemoryBroker } from './memory/memory-broker.js';
