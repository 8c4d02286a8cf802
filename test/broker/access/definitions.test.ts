import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPassword } from '../../../src/broker/access/users.js';
import { Broker } from '../../../src/broker/broker.js';
import {
  type DefinitionsDocument,
  exportDefinitions,
  exportVhostDefinitions,
  importDefinitions,
  importVhostDefinitions,
} from '../../../src/broker/definitions.js';

const SAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/research/mgmt-samples');
const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(SAMPLES, name), 'utf8')) as DefinitionsDocument;

describe('definitions: users, vhosts, permissions', () => {
  it("imports RabbitMQ 3.10's HTTP export and exports it back in the same form", () => {
    const broker = new Broker();
    const document = sample('definitions.json');
    expect(importDefinitions(broker, document)).toEqual([]);
    const exported = exportDefinitions(broker, 'test');
    expect(exported.users).toEqual(document.users);
    expect(exported.vhosts).toEqual(document.vhosts);
    expect(new Set(exported.permissions)).toEqual(new Set(document.permissions));
    expect(exported.topic_permissions).toEqual(document.topic_permissions);
    expect(checkPassword(broker.users.get('guest')!, 'guest')).toBe(true);
  });

  it("reads rabbitmqctl's form: vhost metadata, sorted keys", () => {
    const broker = new Broker();
    expect(importDefinitions(broker, sample('rabbitmqctl-export_definitions.json'))).toEqual([]);
    expect(broker.vhost('staging')?.metadata).toEqual({ description: 'staging vhost', tags: ['qa'], defaultQueueType: 'classic' });
    expect(exportDefinitions(broker, 'test').vhosts).toContainEqual({ name: 'staging', metadata: { description: 'staging vhost', tags: ['qa'] } });
  });

  it('plain passwords, tags as a string, a missing algorithm; bad entries are reported, the rest imported', () => {
    const broker = new Broker();
    const problems = importDefinitions(broker, {
      users: [
        { name: 'a', password: 'pa', tags: 'administrator,monitoring' },
        { name: 'b', password_hash: 'not base64!' },
        { name: 'c', password_hash: '', tags: [] },
      ],
      vhosts: [{ name: 'v' }],
      permissions: [
        { user: 'a', vhost: 'v', configure: '\\Aa', write: '', read: '.*' },
        { user: 'a', vhost: 'missing', configure: '.*', write: '.*', read: '.*' },
        { user: 'c', vhost: 'v', configure: '(?i)x', write: '.*', read: '.*' },
      ],
      queues: [],
      exchanges: [],
      bindings: [],
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^user 'b': password_hash is not base64/);
    expect(problems[1]).toMatch(/no such vhost 'missing'/);
    expect(problems[2]).toMatch(/permissions of 'c' in vhost 'v': invalid regular expression '\(\?i\)x'/);
    expect(broker.permissions.hasAccess('c', 'v')).toBe(false);
    expect(broker.users.get('a')?.tags).toEqual(['administrator', 'monitoring']);
    expect(checkPassword(broker.users.get('a')!, 'pa')).toBe(true);
    expect(checkPassword(broker.users.get('c')!, '')).toBe(false);
    expect(broker.permissions.allows('a', 'v', 'configure', 'abc')).toBe(true);
    expect(broker.permissions.allows('a', 'v', 'write', 'abc')).toBe(false);
  });

  it('is additive: an import never deletes, and an existing queue with other arguments is left as it is', () => {
    const broker = new Broker();
    importDefinitions(broker, {
      users: [{ name: 'a', password: 'x' }],
      vhosts: [{ name: '/' }],
      queues: [{ name: 'q', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 1 } }],
      exchanges: [],
      bindings: [],
    });
    const problems = importDefinitions(broker, {
      users: [{ name: 'b', password: 'y' }],
      vhosts: [{ name: 'other' }],
      queues: [{ name: 'q', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 5 } }],
      exchanges: [],
      bindings: [],
    });
    expect(problems).toEqual([]);
    expect([...broker.users.keys()]).toEqual(['a', 'b']);
    expect([...broker.vhosts.keys()]).toEqual(['/', 'other']);
    expect(broker.vhost('/')?.queues.get('q')?.options.arguments).toEqual({ 'x-max-length': 1 });
  });

  it('the per-vhost form exports without vhost keys and imports into another vhost', () => {
    const broker = new Broker();
    broker.putVhost('a');
    broker.putVhost('b');
    importDefinitions(broker, {
      vhosts: [],
      policies: [{ vhost: 'a', name: 'short', pattern: '^q$', 'apply-to': 'queues', definition: { 'message-ttl': 5000 }, priority: 1 }],
      queues: [{ name: 'q', vhost: 'a', durable: true, auto_delete: false, arguments: {} }],
      exchanges: [{ name: 'x', vhost: 'a', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {} }],
      bindings: [{ source: 'x', vhost: 'a', destination: 'q', destination_type: 'queue', routing_key: '', arguments: {} }],
    });
    const exported = exportVhostDefinitions(broker, 'a', 'test');
    expect(exported.queues).toEqual([{ name: 'q', durable: true, auto_delete: false, arguments: {} }]);
    expect(exported.bindings).toEqual([{ source: 'x', destination: 'q', destination_type: 'queue', routing_key: '', arguments: {} }]);
    expect(exported.policies).toEqual([{ name: 'short', pattern: '^q$', 'apply-to': 'queues', definition: { 'message-ttl': 5000 }, priority: 1 }]);
    expect(importVhostDefinitions(broker, 'b', exported)).toEqual([]);
    expect([...broker.vhost('b')!.queues.keys()]).toEqual(['q']);
    expect(broker.vhost('b')!.queues.get('q')?.policy?.name).toBe('short');
    expect(broker.vhost('b')!.exchanges.get('x')?.bindings.size).toBe(1);
    expect(importVhostDefinitions(broker, 'nope', exported)).toEqual(["no such vhost 'nope'"]);
  });

  it('deleting a vhost or user drops their permissions', () => {
    const broker = new Broker();
    broker.provisionDefaults({ user: 'guest', pass: 'guest', tags: ['administrator'], vhost: '/' });
    broker.putVhost('v');
    broker.setPermission({ user: 'guest', vhost: 'v', configure: '.*', write: '.*', read: '.*' });
    broker.setTopicPermission({ user: 'guest', vhost: 'v', exchange: 'amq.topic', write: '.*', read: '.*' });
    expect(broker.deleteVhost('v')).toBe(true);
    expect(broker.permissions.all().map((p) => p.vhost)).toEqual(['/']);
    expect(broker.permissions.allTopic()).toEqual([]);
    expect(broker.deleteUser('guest')).toBe(true);
    expect(broker.permissions.all()).toEqual([]);
    expect(() => broker.setPermission({ user: 'guest', vhost: '/', configure: '', write: '', read: '' })).toThrow(/no such user/);
  });
});
