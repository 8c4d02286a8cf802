/**
 * What TLS costs: `npm run bench:tls`. Warren and a private RabbitMQ node, each with a plain and an amqps
 * listener (a throwaway CA and server certificate made with openssl, no client certificates), and amqpperf
 * (../shared/perf) running two scenarios against the four: transient-1p1c and confirm-persistent. Prints one
 * table of msg/s. Environment: SCENARIO_SECONDS (5).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../interop/support/ports.js';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, type WarrenProcess } from '../interop/support/warren.js';

const SECONDS = process.env.SCENARIO_SECONDS ?? '5';
const SCENARIOS: Record<string, string[]> = {
  'transient-1p1c': ['-x', '1', '-y', '1', '-s', '12', '-a'],
  'confirm-persistent': ['-x', '1', '-y', '1', '-s', '1000', '-f', 'persistent', '-c', '100', '-q', '100', '--auto-delete=false'],
};

function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca_key.pem', '-out', 'ca_certificate.pem', '-subj', '/CN=Bench CA');
  ssl('req', '-x509', ...ec, '-CA', 'ca_certificate.pem', '-CAkey', 'ca_key.pem', '-keyout', 'server_key.pem', '-out', 'server_certificate.pem',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost');
  fs.chmodSync(dir, 0o755);
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-bench-tls-'));
let rabbit: RabbitNode | undefined;
let warren: WarrenProcess | undefined;
try {
  makeCertificates(dir);
  const amqpperf = execFileSync(path.resolve(ROOT, '..', 'shared', 'perf', 'build.sh'), { encoding: 'utf8' }).trim().split('\n').pop() as string;
  const [rabbitTlsPort] = (await freePorts(1)) as [number];
  const tlsLines = [`ssl_options.certfile = ${dir}/server_certificate.pem`, `ssl_options.keyfile = ${dir}/server_key.pem`];
  rabbit = await startRabbitMQ({
    extraConfig: [`listeners.ssl.default = 127.0.0.1:${rabbitTlsPort}`, ...tlsLines, 'ssl_options.versions.1 = tlsv1.3', 'ssl_options.versions.2 = tlsv1.2'],
  });
  const conf = path.join(dir, 'warren.conf');
  fs.writeFileSync(conf, `${tlsLines.join('\n')}\n`);
  warren = await startWarren({ args: ['--config', conf, '--tls-port', '0'] });
  const tlsLine = /"port":(\d+)[^\n]*"tls":true/;
  for (let waited = 0; !tlsLine.test(warren.output()) && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const warrenTls = tlsLine.exec(warren.output());
  if (warrenTls === null) throw new Error(`no TLS listening line from Warren:\n${warren.output()}`);
  const targets: [string, string][] = [
    ['Warren amqp', `amqp://guest:guest@localhost:${warren.port}`],
    ['Warren amqps', `amqps://guest:guest@localhost:${warrenTls[1]}`],
    ['RabbitMQ amqp', `amqp://guest:guest@localhost:${rabbit.port}`],
    ['RabbitMQ amqps', `amqps://guest:guest@localhost:${rabbitTlsPort}`],
  ];
  console.log(`| scenario (${SECONDS} s) | ${targets.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${targets.map(() => '---:').join('|')}|`);
  for (const [scenario, args] of Object.entries(SCENARIOS)) {
    const rates: string[] = [];
    for (const [, uri] of targets) {
      // amqpperf (Go) verifies the server against SSL_CERT_FILE.
      const out = execFileSync(amqpperf, ['--uri', uri, '--id', scenario, '-z', SECONDS, '--json', ...args], {
        env: { ...process.env, SSL_CERT_FILE: path.join(dir, 'ca_certificate.pem') },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
      const result = JSON.parse(out.trim().split('\n').pop() as string) as { recv_rate: number; errors: string[] };
      rates.push(result.errors.length > 0 ? `error: ${result.errors.join('; ')}` : `${Math.round(result.recv_rate)}`);
    }
    console.log(`| ${scenario} msg/s received | ${rates.join(' | ')} |`);
  }
} finally {
  await warren?.stop();
  await rabbit?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
