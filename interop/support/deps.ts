// External dependencies of the interop suites, and the project's rule for a
// missing one: outside CI the suite is SKIPPED WITH THE REASON; in CI
// (CI=true) a missing dependency FAILS the run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { it } from 'vitest';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export interface Dependency {
  name: string;
  /** null when available; otherwise why not. */
  missing: string | null;
}

function commandWorks(cmd: string, args: string[]): string | null {
  try {
    execFileSync(cmd, args, { stdio: 'pipe', timeout: 15_000 });
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return `${cmd} is not installed`;
    const stderr = e.stderr ? e.stderr.toString().trim().split('\n').slice(-1)[0] : e.message;
    return `${cmd} ${args.join(' ')} failed: ${stderr}`;
  }
}

export const RABBITMQ_SERVER_BIN = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Debian's python3 (python3-pika installs there), not whatever python3 is first on PATH. */
export const PYTHON = process.env.WARREN_INTEROP_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
export const GOPATH_DEBIAN = '/usr/share/gocode';

export function rabbitmqDependency(): Dependency {
  let missing: string | null = null;
  if (!fs.existsSync(RABBITMQ_SERVER_BIN)) missing = `rabbitmq-server is not installed (${RABBITMQ_SERVER_BIN} missing; run scripts/install-test-deps.sh)`;
  else if (!fs.existsSync('/usr/bin/epmd') && commandWorks('epmd', ['-help']) !== null)
    missing = 'epmd (erlang) is not installed';
  return { name: 'rabbitmq-server', missing };
}

export function pikaDependency(): Dependency {
  const missing = commandWorks(PYTHON, ['-c', 'import pika']);
  return { name: 'python3-pika', missing: missing && `python3-pika is not available (${missing}; run scripts/install-test-deps.sh)` };
}

export function goAmqpDependency(): Dependency {
  let missing = commandWorks('go', ['version']);
  if (missing === null && !fs.existsSync(`${GOPATH_DEBIAN}/src/github.com/rabbitmq/amqp091-go/connection.go`))
    missing = `golang-github-rabbitmq-amqp091-go-dev is not installed (${GOPATH_DEBIAN}/src/github.com/rabbitmq/amqp091-go missing)`;
  else if (missing !== null) missing = `golang-go is not available (${missing})`;
  return { name: 'go + amqp091-go', missing: missing && `${missing}; run scripts/install-test-deps.sh` };
}

/**
 * Apply the skip-or-fail rule. Returns true when the dependent tests must be
 * skipped (use with describe.skipIf). In CI it registers a failing test
 * instead and returns true as well, so the dependent tests don't run but the
 * run fails with the reason.
 */
export function gate(dep: Dependency): boolean {
  if (dep.missing === null) return false;
  if (IN_CI) {
    it(`dependency ${dep.name} is available (required in CI)`, () => {
      throw new Error(`CI=true and a test dependency is missing: ${dep.missing}`);
    });
  }
  return true;
}

/** Label for a describe block that may be skipped: carries the reason. */
export function label(title: string, ...deps: Dependency[]): string {
  const missing = deps.filter((d) => d.missing !== null).map((d) => d.missing);
  return missing.length ? `${title} [SKIPPED: ${missing.join('; ')}]` : title;
}

export function kombuDependency(): Dependency {
  const missing = commandWorks(PYTHON, ['-c', 'import kombu, amqp']);
  return { name: 'python3-kombu', missing: missing && `python3-kombu / python3-amqp are not available (${missing}; run scripts/install-test-deps.sh)` };
}

export const RUBY = process.env.WARREN_INTEROP_RUBY ?? (fs.existsSync('/usr/bin/ruby') ? '/usr/bin/ruby' : 'ruby');

export function bunnyDependency(): Dependency {
  const missing = commandWorks(RUBY, ['-e', 'require "bunny"']);
  return { name: 'ruby-bunny', missing: missing && `ruby / ruby-bunny are not available (${missing}; run scripts/install-test-deps.sh)` };
}

export const PHP = process.env.WARREN_INTEROP_PHP ?? (fs.existsSync('/usr/bin/php') ? '/usr/bin/php' : 'php');
/** Debian's php-amqplib autoloader. */
export const PHP_AMQPLIB_AUTOLOAD = '/usr/share/php/PhpAmqpLib/autoload.php';

export function phpAmqplibDependency(): Dependency {
  let missing = commandWorks(PHP, ['-r', 'exit(extension_loaded("sockets") && extension_loaded("mbstring") ? 0 : 1);']);
  if (missing !== null) missing = `php-cli with sockets + mbstring is not available (${missing})`;
  else if (!fs.existsSync(PHP_AMQPLIB_AUTOLOAD)) missing = `php-amqplib is not installed (${PHP_AMQPLIB_AUTOLOAD} missing)`;
  return { name: 'php-amqplib', missing: missing && `${missing}; run scripts/install-test-deps.sh` };
}
