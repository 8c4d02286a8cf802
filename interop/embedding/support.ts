// What the suites of this fixture run: a round trip through a broker, and a record of it for the test that ran them.
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';

/** Declares a queue, sends to it and gets the message back; returns the body. */
export async function roundTrip(url: string, body: string): Promise<string | undefined> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from(body));
    await channel.checkQueue(queue); // a round trip after the publish, so the message is in the queue
    const message = await channel.get(queue, { noAck: true });
    return message === false ? undefined : message.content.toString();
  } finally {
    await connection.close();
  }
}

/** Writes what a suite saw into the run's working directory (the test's temp dir). */
export function record(name: string, facts: Record<string, unknown>): void {
  fs.writeFileSync(path.join(process.cwd(), `${name}.json`), JSON.stringify({ pid: process.pid, ...facts }));
}

/** Resolves once every named suite has recorded that it started, so their brokers are up at the same time. */
export async function allStarted(names: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!names.every((name) => fs.existsSync(path.join(process.cwd(), `${name}.json`)))) {
    if (Date.now() > deadline) throw new Error(`not all of ${names.join(', ')} started within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
