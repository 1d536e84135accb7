import { MemoryBroker } from '../../src/broker/index.js';
import { runBrokerContract } from './broker.contract.js';

runBrokerContract('memory', async () => new MemoryBroker());
