// warren ctl's output shapes and the command-line errors it answers without asking the broker.
import { describe, expect, it } from 'vitest';
import { type CtlIo, runCtl } from '../src/ctl/ctl.js';
import { jsonList, table, tableValue } from '../src/ctl/output.js';

async function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CtlIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: async () => '' };
  // A URL nothing listens on: these cases must be answered before any request.
  const code = await runCtl(['--url', 'http://127.0.0.1:1', ...args], {}, io);
  return { code, stdout, stderr };
}

describe('warren ctl output', () => {
  it('prints values as rabbitmqctl does: lists in brackets, empty argument tables as [], booleans as words', () => {
    expect(tableValue(['administrator', 'monitoring'])).toBe('[administrator, monitoring]');
    expect(tableValue([])).toBe('[]');
    expect(tableValue({})).toBe('[]');
    expect(tableValue({ 'x-max-length': 10, 'x-queue-mode': 'lazy' })).toBe('[{"x-max-length",10}, {"x-queue-mode","lazy"}]');
    expect(tableValue(true)).toBe('true');
    expect(tableValue(undefined)).toBe('');
  });

  it('a table has a header row unless asked not to, and none when there are no rows', () => {
    const rows = [{ name: 'a', messages: 1 }];
    expect(table(['name', 'messages'], rows, true)).toBe('name\tmessages\na\t1\n');
    expect(table(['name', 'messages'], rows, false)).toBe('a\t1\n');
    expect(table(['name'], [], true)).toBe('');
  });

  it('--formatter json is one object a line between brackets, with the asked columns only', () => {
    expect(jsonList(['name'], [{ name: 'a', messages: 1 }, { name: 'b' }])).toBe('[\n{"name":"a"},\n{"name":"b"}\n]\n');
    expect(jsonList(['name'], [])).toBe('[\n]\n');
  });
});

describe('warren ctl command line', () => {
  it('an unknown command, a wrong argument count and an unknown column exit 64 with rabbitmqctl\'s first line', async () => {
    const unknown = await ctl(['nosuchverb']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr.split('\n').slice(0, 2)).toEqual(['', "Command 'nosuchverb' not found. "]);
    expect(await ctl(['add_user', 'a'])).toMatchObject({ code: 64, stderr: expect.stringMatching(/^Error \(argument validation\): not enough arguments\.\n/) });
    expect(await ctl(['delete_user', 'a', 'b'])).toMatchObject({ code: 64, stderr: expect.stringMatching(/^Error \(argument validation\): too many arguments\.\n/) });
    expect(await ctl(['list_queues', 'name', 'colour'])).toMatchObject({ code: 64, stderr: expect.stringMatching(/^Error \(argument validation\): Info key\(s\) colour are not supported\n/) });
    expect(await ctl(['list_queues', '--formatter', 'erlang'])).toMatchObject({ code: 64 });
    expect(await ctl(['list_queues', '--vhost'])).toMatchObject({ code: 64 });
  });

  it('help and --help print usage on stdout and exit 0; no command at all exits 64', async () => {
    expect(await ctl(['help', 'purge_queue'])).toEqual({ code: 0, stdout: 'Usage\n\nwarren ctl purge_queue [--vhost <vhost>] <queue>\n', stderr: '' });
    expect(await ctl(['delete_queue', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('--if-empty') });
    expect((await ctl([])).code).toBe(64);
  });

  it('an unreachable API exits 69 (rabbitmqctl: node unreachable)', async () => {
    const result = await ctl(['list_users']);
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/^Error: unable to perform an operation on the management API at http:\/\/127\.0\.0\.1:1: /);
  });
});
