// rabbitmqctl against a private node from startRabbitMQ(): the node's own
// name, epmd port and cookie (in its HOME), run as the user the node runs as.
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { RabbitNode } from './rabbitmq.js';

const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function rabbitUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'rabbitmq']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'rabbitmq']).toString().trim()),
    };
  } catch {
    return {};
  }
}

/** Runs `rabbitmqctl -n <node> ...args` (30 s at most); resolves with its exit code and output, never rejects on a non-zero exit. */
export function rabbitmqctl(node: RabbitNode, args: string[]): Promise<CtlResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: path.join(node.dir, 'home'),
    ERL_EPMD_PORT: String(node.epmdPort),
    RABBITMQ_CONF_ENV_FILE: path.join(node.dir, 'rabbitmq-env.conf'),
  };
  return new Promise((resolve) => {
    execFile(
      RABBITMQCTL,
      ['-n', node.nodeName, ...args],
      { env, cwd: node.dir, timeout: 30_000, ...rabbitUser() },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
