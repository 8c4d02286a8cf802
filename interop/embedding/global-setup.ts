// The README's vitest globalSetup, as a user writes it (importing src/ here instead of 'warren'):
// one broker for the whole run, its url given to every test file with inject('amqpUrl').
import type { TestProject } from 'vitest/node';
import { startBroker } from '../../src/index.js';

export default async function setup(project: TestProject) {
  const broker = await startBroker();
  project.provide('amqpUrl', broker.url);
  return () => broker.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    amqpUrl: string;
  }
}
