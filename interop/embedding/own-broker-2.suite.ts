// A test file starting a broker of its own, in parallel with own-broker-1 in another worker, both without dataDir.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { allStarted, record, roundTrip } from './support.js';

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
  record('own-2', { url: broker.url, dataDir: broker.dataDir });
  await allStarted(['own-1', 'own-2']);
});
afterAll(() => broker?.close());

it('has a broker of its own while the other worker has one', async () => {
  expect(await roundTrip(broker.url, 'own-2')).toBe('own-2');
});
