import { MemoryBroker } from '../../src/broker/index.js';
import { runBrokerContract } from './broker.contract.js';

runBrokerContract('memory', async (o = {}) => {
  if (o.shareWith !== undefined && !(o.shareWith instanceof MemoryBroker)) throw new Error('can only share with a MemoryBroker');
  return new MemoryBroker(undefined, {
    ...(o.presenceTtlMs !== undefined ? { presenceTtlMs: o.presenceTtlMs } : {}),
    ...(o.shareWith ? { shareWith: o.shareWith } : {}),
  });
});
