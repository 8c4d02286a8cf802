import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeduplicationJournal, DeduplicationStore } from '../broker/dedup.js';

/**
 * Deduplication caches of durable queues and exchanges, one small
 * append-only file per object in DATA_DIR/dedup/. A record is
 * [u32 length][f64 expiresAt][key as UTF-8], written with a synchronous write
 * when the message is accepted (so it is in the file before the publish is
 * confirmed and survives a crash of the process), and flushed to the disk once
 * per event-loop turn. The cache rewrites the file with its live entries (temp
 * file, fsync, rename) when the file holds more than twice as many records.
 * A torn last record (a crash mid-write) is ignored on load. A write that
 * fails (a full disk) is reported once and the entry stays in memory only; the
 * directory is made when the first durable cache needs it.
 */
export class DedupFileStore implements DeduplicationStore {
  constructor(
    private readonly dir: string,
    /** Told when a cache file cannot be written or removed (once, until a write succeeds again). */
    private readonly onError: (file: string, error: Error) => void = () => {},
  ) {}

  open(id: string): DeduplicationJournal {
    const name = createHash('sha256').update(id).digest('hex').slice(0, 32);
    return new DedupFile(this.dir, path.join(this.dir, `${name}.dedup`), this.onError);
  }
}

const HEADER_BYTES = 12;

class DedupFile implements DeduplicationJournal {
  /** -1 while the file could not be opened (each append tries again). */
  private fd = -1;
  private syncScheduled = false;
  private closed = false;
  private readonly syncBound = (): void => this.sync();
  /** A write failed and was reported; the next success clears it. */
  private failing = false;

  constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly onError: (file: string, error: Error) => void,
  ) {
    this.reopen();
  }

  load(): { key: string; expiresAt: number }[] {
    if (this.fd < 0) return [];
    const data = fs.readFileSync(this.file);
    const entries: { key: string; expiresAt: number }[] = [];
    let p = 0;
    while (p + HEADER_BYTES <= data.length) {
      const length = data.readUInt32BE(p);
      if (length < 8 || p + 4 + length > data.length) break;
      entries.push({ expiresAt: data.readDoubleBE(p + 4), key: data.toString('utf8', p + HEADER_BYTES, p + 4 + length) });
      p += 4 + length;
    }
    if (p < data.length) fs.ftruncateSync(this.fd, p);
    return entries;
  }

  append(key: string, expiresAt: number): void {
    if (this.fd < 0 && !this.reopen()) return;
    try {
      fs.writeSync(this.fd, record(key, expiresAt));
      this.failing = false;
    } catch (error) {
      this.failed(error as Error);
      return;
    }
    if (!this.syncScheduled) {
      this.syncScheduled = true;
      setImmediate(this.syncBound);
    }
  }

  rewrite(entries: Iterable<[string, number]>): void {
    const records: Buffer[] = [];
    for (const [key, expiresAt] of entries) records.push(record(key, expiresAt));
    const temp = `${this.file}.tmp`;
    try {
      const fd = fs.openSync(temp, 'w');
      try {
        fs.writeSync(fd, Buffer.concat(records));
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, this.file);
    } catch (error) {
      // The old file stays: longer, but complete.
      fs.rmSync(temp, { force: true });
      this.failed(error as Error);
      return;
    }
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.reopen();
  }

  /** Opens the file for appending (making the directory); false, reported, when that fails. */
  private reopen(): boolean {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      this.fd = fs.openSync(this.file, 'a');
      return true;
    } catch (error) {
      this.failed(error as Error);
      return false;
    }
  }

  private failed(error: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.onError(this.file, error);
  }

  remove(): void {
    this.close();
    // Called while its queue or exchange is deleted: a file that stays is reported, and the deletion goes on.
    try {
      fs.rmSync(this.file, { force: true });
    } catch (error) {
      this.failed(error as Error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) fs.closeSync(this.fd);
  }

  private sync(): void {
    this.syncScheduled = false;
    if (this.closed || this.fd < 0) return;
    // Best effort: the record is already in the file for the process's sake; this covers the machine's.
    fs.fdatasync(this.fd, () => {});
  }
}

function record(key: string, expiresAt: number): Buffer {
  const keyLength = Buffer.byteLength(key, 'utf8');
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + keyLength);
  buffer.writeUInt32BE(8 + keyLength, 0);
  buffer.writeDoubleBE(expiresAt, 4);
  buffer.write(key, HEADER_BYTES, 'utf8');
  return buffer;
}
