// A test file using the broker of the globalSetup, as the README's vitest example does.
import { expect, inject, it } from 'vitest';
import { record, roundTrip } from './support.js';

it('reaches the broker of the globalSetup through the injected url', async () => {
  const url = inject('amqpUrl');
  expect(await roundTrip(url, 'shared')).toBe('shared');
  record('shared', { url });
});
