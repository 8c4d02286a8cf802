import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { BODY_COPY_THRESHOLD, DeliverFrameTemplate, FrameWriter } from '../../src/protocol/frame-writer.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { BASIC_DELIVER, decodeMethod, decodeProperties, encodeMethod, encodeProperties } from '../../src/protocol/methods.generated.js';

interface Got { type: number; channel: number; payload: Buffer }

function parse(out: Buffer[] | null, frameMax = 0): Got[] {
  expect(out).not.toBeNull();
  const r = new FrameReader(frameMax);
  const got: Got[] = [];
  for (const b of out!) r.push(b, { onFrame: (type, channel, buf, start, end) => got.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) }) });
  return got;
}

describe('FrameWriter', () => {
  it('flush returns null when nothing was written, and after a flush', () => {
    const w = new FrameWriter();
    expect(w.flush()).toBeNull();
    expect(w.pendingBytes).toBe(0);
    w.writeHeartbeat();
    expect(w.pendingBytes).toBe(8);
    expect(Buffer.concat(w.flush()!)).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
    expect(w.flush()).toBeNull();
    expect(w.pendingBytes).toBe(0);
  });

  it('a small single-buffer body (the one-frame fast path) writes the same bytes as the general path', () => {
    const props = encodeProperties({ contentType: 'text/plain', deliveryMode: 1, headers: { k: 'v' } });
    for (const [frameMax, size] of [[131072, 0], [131072, 12], [131072, BODY_COPY_THRESHOLD - 1], [0, 100], [108, 100], [107, 100], [4096, 4088]] as const) {
      const body = randomBytes(size);
      const fast = new FrameWriter();
      const general = new FrameWriter();
      fast.frameMax = frameMax;
      general.frameMax = frameMax;
      fast.writeContent(3, 60, size, props, body);
      general.writeContent(3, 60, size, props, [body]);
      expect(Buffer.concat(fast.flush()!), `frameMax ${frameMax}, ${size} B`).toEqual(Buffer.concat(general.flush()!));
    }
    // Too small a frameMax is refused on both paths.
    const w = new FrameWriter();
    w.frameMax = 8;
    expect(() => w.writeContent(1, 60, 0, props, Buffer.alloc(0))).toThrow(RangeError);
  });

  it('writeBasicDeliver writes what encodeMethod writes, non-ASCII and long names included', () => {
    const cases = [
      ['amq.ctag-abc', 1, false, '', 'q1'],
      ['c\u00e9 \u{1F600}', 2 ** 40 + 7, true, 'ex\u00e7hange', 'k'.repeat(200)],
      ['', 0, false, 'x'.repeat(255), ''],
    ] as const;
    for (const [consumerTag, deliveryTag, redelivered, exchange, routingKey] of cases) {
      const fast = new FrameWriter();
      const general = new FrameWriter();
      fast.writeBasicDeliver(5, consumerTag, deliveryTag, redelivered, exchange, routingKey);
      encodeMethod(general, 5, BASIC_DELIVER, { consumerTag, deliveryTag, redelivered, exchange, routingKey });
      const bytes = Buffer.concat(fast.flush()!);
      expect(bytes).toEqual(Buffer.concat(general.flush()!));
      const [frame] = parse([bytes]);
      expect(decodeMethod(frame!.payload)).toEqual({ id: BASIC_DELIVER, args: { consumerTag, deliveryTag, redelivered, exchange, routingKey } });
    }
    // A name over 255 bytes (3 x 100 bytes of UTF-8) is refused and leaves nothing behind.
    const w = new FrameWriter();
    expect(() => w.writeBasicDeliver(1, 'tag', 1, false, '\u20ac'.repeat(100), 'k')).toThrow(RangeError);
    expect(w.pendingBytes).toBe(0);
  });

  it('a delivery on a high channel number with a body over 255 bytes: every size and number field in its exact bytes', () => {
    const props = encodeProperties({ deliveryMode: 1 });
    const body = randomBytes(3000);
    const w = new FrameWriter();
    w.writeBasicDeliver(0xabcd, 'ct', 0x1_2345_6789, false, '', 'rk');
    w.writeContent(0xabcd, 60, body.length, props, body);
    const got = Buffer.concat(w.flush()!);
    // Built field by field with Buffer's own checked writers.
    const deliver = Buffer.alloc(7 + 4 + 3 + 8 + 1 + 1 + 3 + 1);
    deliver.writeUInt8(1, 0);
    deliver.writeUInt16BE(0xabcd, 1);
    deliver.writeUInt32BE(deliver.length - 8, 3);
    deliver.writeUInt32BE(BASIC_DELIVER, 7);
    deliver.write('\x02ct', 11, 'latin1');
    deliver.writeBigUInt64BE(0x1_2345_6789n, 14);
    deliver.write('\x00\x00\x02rk\xce', 22, 'latin1');
    const header = Buffer.alloc(7 + 12 + props.length + 1);
    header.writeUInt8(2, 0);
    header.writeUInt16BE(0xabcd, 1);
    header.writeUInt32BE(12 + props.length, 3);
    header.writeUInt16BE(60, 7);
    header.writeBigUInt64BE(BigInt(body.length), 11);
    props.copy(header, 19);
    header[header.length - 1] = 0xce;
    const bodyFrame = Buffer.alloc(7 + body.length + 1);
    bodyFrame.writeUInt8(3, 0);
    bodyFrame.writeUInt16BE(0xabcd, 1);
    bodyFrame.writeUInt32BE(body.length, 3);
    body.copy(bodyFrame, 7);
    bodyFrame[bodyFrame.length - 1] = 0xce;
    expect(got).toEqual(Buffer.concat([deliver, header, bodyFrame]));
  });

  it('writeBasicDeliver with a consumer template writes what encodeMethod writes, delivery after delivery', () => {
    // One consumer (channel 7, one tag): a run of deliveries like the last, then a new routing key of the same
    // length, a longer one, a new exchange, redelivered flipping, tags crossing 2^32; and a second consumer
    // interleaved on the same writer with its own template.
    const a = { channel: 7, tag: 'amq.ctag-A', template: new DeliverFrameTemplate() };
    const b = { channel: 7, tag: 'amq.ctag-BB', template: new DeliverFrameTemplate() };
    const steps = [
      [a, 1, false, '', 'q1'],
      [a, 2, false, '', 'q1'],
      [b, 3, true, '', 'q1'],
      [a, 4, true, '', 'q1'],
      [a, 0xffff_ffff, false, '', 'q2'],
      [a, 0x1_0000_0000, false, '', 'q2'],
      [b, 2 ** 40 + 9, false, '', 'q1'],
      [a, 7, false, '', 'longer-key'],
      [a, 8, true, 'amq.topic', 'longer-key'],
      [a, 9, false, 'amq.topic', 'longer-key'],
      [b, 11, false, 'amq.topic', 'q1'],
    ] as const;
    const fast = new FrameWriter();
    const general = new FrameWriter();
    for (const [consumer, deliveryTag, redelivered, exchange, routingKey] of steps) {
      fast.writeBasicDeliver(consumer.channel, consumer.tag, deliveryTag, redelivered, exchange, routingKey, consumer.template);
      encodeMethod(general, consumer.channel, BASIC_DELIVER, { consumerTag: consumer.tag, deliveryTag, redelivered, exchange, routingKey });
      // Flushed every other step: a template never refers to the writer's buffer.
      if (deliveryTag % 2 === 0) expect(Buffer.concat(fast.flush()!)).toEqual(Buffer.concat(general.flush()!));
    }
    expect(Buffer.concat(fast.flush()!)).toEqual(Buffer.concat(general.flush()!));
    expect(a.template.routingKeys).toEqual(['q1', 'q2', 'longer-key']);
    expect(a.template.exchanges).toEqual(['', '', 'amq.topic']);
  });

  it('a consumer keeps frames for up to 4 routing keys going round; keys that do not come back in time are never kept', () => {
    for (const [keys, kept] of [[4, 4], [2, 2], [6, 0]] as const) {
      const template = new DeliverFrameTemplate();
      const fast = new FrameWriter();
      const general = new FrameWriter();
      for (let tag = 1; tag <= 30; tag++) {
        // A fresh string each time, as a publish decodes it: equal keys are found by content.
        const routingKey = `amqpperf-q-${tag % keys}`.slice(0);
        fast.writeBasicDeliver(1, 'ctag', tag, tag % 3 === 0, 'ex', routingKey, template);
        encodeMethod(general, 1, BASIC_DELIVER, { consumerTag: 'ctag', deliveryTag: tag, redelivered: tag % 3 === 0, exchange: 'ex', routingKey });
      }
      expect(Buffer.concat(fast.flush()!), `${keys} keys`).toEqual(Buffer.concat(general.flush()!));
      expect(template.frames.length, `${keys} keys`).toBe(kept);
    }
    // Six keys, each twice in a row, twice over: frames are replaced in turn, the bytes stay right.
    const template = new DeliverFrameTemplate();
    const fast = new FrameWriter();
    const general = new FrameWriter();
    for (let tag = 1; tag <= 24; tag++) {
      const routingKey = `key-${Math.floor((tag - 1) / 2) % 6}`.slice(0);
      fast.writeBasicDeliver(2, 'c', tag, false, '', routingKey, template);
      encodeMethod(general, 2, BASIC_DELIVER, { consumerTag: 'c', deliveryTag: tag, redelivered: false, exchange: '', routingKey });
    }
    expect(Buffer.concat(fast.flush()!)).toEqual(Buffer.concat(general.flush()!));
    expect(template.frames.length).toBe(4);
  });

  it('frameMax defaults to 131072', () => {
    expect(new FrameWriter().frameMax).toBe(131072);
  });

  it('a 5 MB body with frameMax 4096 splits into 4088-byte bodies and reassembles exactly', () => {
    const w = new FrameWriter();
    w.frameMax = 4096;
    const body = randomBytes(5 * 1024 * 1024);
    const props = encodeProperties({ contentType: 'application/octet-stream', headers: { a: 1 } });
    w.writeContent(9, 60, body.length, props, body);
    const frames = parse(w.flush(), 4096);
    const header = frames[0]!;
    expect(header.type).toBe(2);
    expect(header.channel).toBe(9);
    expect(header.payload.readUInt16BE(0)).toBe(60);
    expect(header.payload.readUInt16BE(2)).toBe(0);
    expect(Number(header.payload.readBigUInt64BE(4))).toBe(body.length);
    expect(decodeProperties(header.payload.subarray(12))).toEqual({ contentType: 'application/octet-stream', headers: { a: 1 } });
    const bodies = frames.slice(1);
    expect(bodies.length).toBe(Math.ceil(body.length / 4088));
    for (const f of bodies.slice(0, -1)) expect(f.payload.length).toBe(4088);
    expect(bodies.at(-1)!.payload.length).toBe(body.length % 4088 || 4088);
    for (const f of bodies) {
      expect(f.type).toBe(3);
      expect(f.channel).toBe(9);
    }
    expect(Buffer.concat(bodies.map((f) => f.payload)).equals(body)).toBe(true);
  });

  it('a body given as many buffers splits across buffer boundaries', () => {
    const w = new FrameWriter();
    w.frameMax = 100; // 92 per body frame
    const parts = [randomBytes(10), randomBytes(0), randomBytes(150), randomBytes(5000), randomBytes(1)];
    const body = Buffer.concat(parts);
    w.writeContent(1, 60, body.length, encodeProperties({}), parts);
    const frames = parse(w.flush());
    const bodies = frames.slice(1);
    expect(bodies.map((f) => f.payload.length)).toEqual([
      ...Array(Math.floor(body.length / 92)).fill(92),
      ...(body.length % 92 ? [body.length % 92] : []),
    ]);
    expect(Buffer.concat(bodies.map((f) => f.payload))).toEqual(body);
  });

  it('zero-length body writes the header frame only', () => {
    const w = new FrameWriter();
    w.writeContent(2, 60, 0, Buffer.from([0, 0]), Buffer.alloc(0));
    const out = Buffer.concat(w.flush()!);
    expect(out).toEqual(Buffer.from([2, 0, 2, 0, 0, 0, 14, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xce]));
    const w2 = new FrameWriter();
    w2.writeContent(2, 60, 0, Buffer.from([0, 0]), []);
    expect(Buffer.concat(w2.flush()!)).toEqual(out);
  });

  it('large body slices are referenced, not copied; small ones are copied', () => {
    const w = new FrameWriter();
    const big = Buffer.alloc(100_000, 7);
    const small = Buffer.alloc(BODY_COPY_THRESHOLD - 1, 8);
    w.writeHeartbeat();
    w.writeContent(1, 60, big.length, Buffer.from([0, 0]), big);
    w.writeContent(1, 60, small.length, Buffer.from([0, 0]), small);
    const out = w.flush()!;
    const referenced = out.filter((b) => b.buffer === big.buffer);
    expect(referenced.length).toBe(1); // 100000 < 131064: one body frame, one slice
    expect(referenced[0]!.byteOffset).toBe(big.byteOffset);
    expect(referenced[0]!.length).toBe(100_000);
    expect(out.some((b) => b.buffer === small.buffer)).toBe(false);
    const frames = parse(out);
    expect(frames.map((f) => f.type)).toEqual([8, 2, 3, 2, 3]);
    expect(frames[2]!.payload).toEqual(big);
    expect(frames[4]!.payload).toEqual(small);
    // 5 MB at the default frame-max: every body frame's payload is a slice of the original
    const w2 = new FrameWriter();
    const huge = Buffer.alloc(5 * 1024 * 1024, 1);
    w2.writeContent(1, 60, huge.length, Buffer.from([0, 0]), huge);
    const out2 = w2.flush()!;
    const nframes = Math.ceil(huge.length / 131064); // 41: forty full frames and a 320-byte tail
    const tail = huge.length % 131064;
    expect(tail).toBe(320);
    expect(out2.filter((b) => b.buffer === huge.buffer).length).toBe(nframes - 1);
    expect(out2.reduce((n, b) => n + (b.buffer === huge.buffer ? 0 : b.length), 0)).toBe(22 + nframes * 8 + tail);
    // at frameMax 4096 each 4088-byte slice is under the threshold and is copied
    const w3 = new FrameWriter();
    w3.frameMax = 4096;
    w3.writeContent(1, 60, huge.length, Buffer.from([0, 0]), huge);
    expect(w3.flush()!.some((b) => b.buffer === huge.buffer)).toBe(false);
  });

  it('pendingBytes counts referenced slices and matches the flushed length', () => {
    const w = new FrameWriter();
    w.writeContent(1, 60, 50_000, Buffer.from([0, 0]), Buffer.alloc(50_000));
    w.writeHeartbeat();
    const pending = w.pendingBytes;
    expect(pending).toBe(22 + 50_008 + 8);
    expect(w.flush()!.reduce((n, b) => n + b.length, 0)).toBe(pending);
  });

  it('bytes handed out by flush are never overwritten by later writes', () => {
    const w = new FrameWriter(256);
    const first = w.flush();
    expect(first).toBeNull();
    const batches: { out: Buffer[]; copy: Buffer }[] = [];
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < i % 7; j++) w.writeFrame(1, i, Buffer.alloc(i * 3, i));
      w.writeContent(1, 60, i * 100, Buffer.from([0, 0]), Buffer.alloc(i * 100, i));
      const out = w.flush()!;
      batches.push({ out, copy: Buffer.concat(out) });
    }
    for (const b of batches) expect(Buffer.concat(b.out).equals(b.copy)).toBe(true);
  });

  it('turns of the same size never grow the scratch mid-turn (a fresh buffer when the room left would not hold one)', () => {
    const w = new FrameWriter();
    const grow = vi.spyOn(w as unknown as { grow(n: number): void }, 'grow');
    const body = Buffer.alloc(1000, 0x61);
    const turns: Buffer[] = [];
    for (let turn = 0; turn < 12; turn++) {
      // About 25 KB per turn, as a consumer with 1 KB messages gets in one event-loop turn.
      for (let i = 0; i < 24; i++) {
        w.writeBasicDeliver(1, 'ctag', turn * 24 + i + 1, false, '', 'q');
        w.writeContent(1, 60, body.length, Buffer.from([0x10, 0x00, 0x01]), body);
      }
      turns.push(Buffer.concat(w.flush()!));
    }
    expect(grow).not.toHaveBeenCalled();
    const frames = parse(turns);
    expect(frames.length).toBe(12 * 24 * 3);
    expect(decodeMethod(frames.at(-3)!.payload)).toMatchObject({ id: BASIC_DELIVER, args: { deliveryTag: 12 * 24 } });
  });

  it('writeContent rejects a body size that disagrees with the body', () => {
    const w = new FrameWriter();
    expect(() => w.writeContent(1, 60, 5, Buffer.from([0, 0]), Buffer.alloc(4))).toThrow(RangeError);
  });

  it('frameMax 0 means one body frame', () => {
    const w = new FrameWriter();
    w.frameMax = 0;
    w.writeContent(1, 60, 300_000, Buffer.from([0, 0]), Buffer.alloc(300_000, 3));
    const frames = parse(w.flush());
    expect(frames.length).toBe(2);
    expect(frames[1]!.payload.length).toBe(300_000);
  });

  it('a 1 KiB writer keeps its scratch through a handshake and small turns (an idle connection holds one pool slice)', () => {
    const w = new FrameWriter(1024);
    const scratch = w.buf;
    w.writeFrame(1, 0, Buffer.alloc(430, 1)); // about connection.start
    expect(parse(w.flush())[0]!.payload.length).toBe(430);
    for (let i = 0; i < 3; i++) {
      w.writeFrame(1, 0, Buffer.alloc(12, 2)); // tune, open-ok, channel.open-ok
      w.flush();
    }
    expect(w.buf).toBe(scratch);
    expect(w.buf.length).toBe(1024);
    // A turn larger than what is left grows the scratch as any would, and its bytes come out whole.
    for (let i = 0; i < 3; i++) {
      w.writeFrame(1, 1, Buffer.alloc(900, i));
      expect(parse(w.flush())[0]!.payload.every((b) => b === i)).toBe(true);
    }
  });

  it('an idle writer keeps its small scratch; a busy one keeps a large one', () => {
    const idle = new FrameWriter(2048);
    for (let i = 0; i < 1_000; i++) {
      idle.writeHeartbeat();
      expect(Buffer.concat(idle.flush()!)).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
    }
    expect(idle.buf.length).toBe(2048);

    const busy = new FrameWriter(2048);
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 100; i++) busy.writeFrame(1, 1, Buffer.alloc(100, turn));
      const frames = parse(busy.flush());
      expect(frames.length).toBe(100);
      expect(frames.every((f) => f.payload.every((b) => b === turn))).toBe(true);
    }
    expect(busy.buf.length).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('take() then written(true): the next turn is written from the start of the same scratch, no buffer allocated', () => {
    const w = new FrameWriter();
    const body = Buffer.alloc(1000, 0x61);
    w.writeContent(1, 60, body.length, Buffer.from([0x10, 0x00, 0x01]), body);
    const first = w.take()!;
    const scratch = w.buf;
    expect(first[0]!.buffer).toBe(scratch.buffer);
    w.written(true);
    for (let turn = 0; turn < 100; turn++) {
      w.writeBasicDeliver(1, 'ctag', turn + 1, false, '', 'q');
      w.writeContent(1, 60, body.length, Buffer.from([0x10, 0x00, 0x01]), body);
      const out = w.take()!;
      expect(out.length).toBe(1);
      expect(out[0]!.buffer).toBe(scratch.buffer);
      expect(out[0]!.byteOffset).toBe(scratch.byteOffset);
      expect(decodeMethod(parse(out)[0]!.payload)).toMatchObject({ id: BASIC_DELIVER, args: { deliveryTag: turn + 1 } });
      w.written(true);
    }
    expect(w.buf).toBe(scratch);
  });

  it('written(false): bytes handed out stay as they were while later turns are written', () => {
    const w = new FrameWriter();
    const kept: { out: Buffer[]; copy: Buffer }[] = [];
    for (let turn = 0; turn < 300; turn++) {
      w.writeFrame(1, 1, Buffer.alloc(500 + turn, turn));
      const out = w.take()!;
      kept.push({ out, copy: Buffer.concat(out) });
      w.written(false);
    }
    for (const k of kept) expect(Buffer.concat(k.out).equals(k.copy)).toBe(true);
  });

  it('a large scratch written from its start goes back to the initial size after a run of small turns, not after one', () => {
    const w = new FrameWriter(2048);
    for (let i = 0; i < 100; i++) w.writeFrame(1, 1, Buffer.alloc(1000));
    w.take();
    w.written(true);
    const large = w.buf.length;
    expect(large).toBeGreaterThanOrEqual(64 * 1024);
    w.writeHeartbeat();
    w.take();
    w.written(true);
    expect(w.buf.length).toBe(large);
    for (let i = 0; i < 100; i++) {
      w.writeHeartbeat();
      expect(Buffer.concat(w.take()!)).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
      w.written(true);
    }
    expect(w.buf.length).toBe(2048);
  });
});
