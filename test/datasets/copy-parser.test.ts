/**
 * The binary COPY parser under the dataset COPY reader: the same fields whatever the boundaries of the pieces the data
 * arrives in (Postgres happens to send a row per message; the format does not promise it), NULLs and empty fields,
 * malformed data refused; and copyBinaryOut against real Postgres: a server error rejects and leaves the connection
 * usable, as does a sink that throws part-way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { BinaryCopyParser, copyBinaryOut, type CopyTupleSink } from '../../src/db/copy-binary-out.js';
import { loadConfig } from '../../src/config.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A binary COPY stream of `tuples` (null: a NULL field), with a header extension of `extension` bytes. */
function copyStream(tuples: (Uint8Array | null)[][], extension: number): Buffer {
  const parts: Buffer[] = [SIGNATURE, int32(0), int32(extension), Buffer.alloc(extension, 7)];
  for (const tuple of tuples) {
    parts.push(int16(tuple.length));
    for (const field of tuple) parts.push(int32(field ? field.length : -1), field ? Buffer.from(field) : Buffer.alloc(0));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

function int16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

/** A sink that keeps every tuple's fields (copies of what was written into its targets). */
function collector(): CopyTupleSink & { tuples: (Uint8Array | null)[][] } {
  let current: { target: Uint8Array; isNull: boolean }[] = [];
  const tuples: (Uint8Array | null)[][] = [];
  return {
    tuples,
    target(column, length) {
      assert.equal(column, current.length, 'fields arrive in column order');
      const target = new Uint8Array(Math.max(0, length));
      current.push({ target, isNull: length === -1 });
      return target;
    },
    tupleEnd() {
      tuples.push(current.map((f) => (f.isNull ? null : f.target)));
      current = [];
    },
  };
}

/** Feeds `stream` to a parser in pieces cut at `cuts` (positions in the stream). */
function parseInPieces(stream: Buffer, cuts: number[], sink: CopyTupleSink): BinaryCopyParser {
  const parser = new BinaryCopyParser(sink);
  const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  for (let i = 1; i < points.length; i++) parser.write(stream.subarray(points[i - 1], points[i]));
  return parser;
}

const field = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 1000, maxLength: 3000 }));

describe('BinaryCopyParser', () => {
  it('gives the same tuples however the stream is cut (generated tuples and cuts)', () => {
    fc.assert(fc.property(
      fc.array(fc.array(field, { maxLength: 6 }), { maxLength: 8 }),
      fc.integer({ min: 0, max: 9 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (tuples, extension, cuts) => {
        const stream = copyStream(tuples, extension);
        const sink = collector();
        const parser = parseInPieces(stream, cuts, sink);
        assert.ok(parser.complete, 'the end marker was read');
        assert.equal(parser.tuples, tuples.length);
        assert.deepEqual(sink.tuples.map((t) => t.map((f) => (f ? Buffer.from(f) : null))), tuples.map((t) => t.map((f) => (f ? Buffer.from(f) : null))));
      },
    ), { numRuns: 300 });
  });

  it('one byte at a time', () => {
    const tuples = [[new Uint8Array([1, 2, 3, 4]), null, new Uint8Array(0)], [], [new Uint8Array(300).fill(9)]];
    const stream = copyStream(tuples, 2);
    const sink = collector();
    const parser = parseInPieces(stream, Array.from({ length: stream.length }, (_, i) => i), sink);
    assert.ok(parser.complete);
    assert.deepEqual(sink.tuples[0]![0], new Uint8Array([1, 2, 3, 4]));
    assert.equal(sink.tuples[0]![1], null);
    assert.equal(sink.tuples[1]!.length, 0);
    assert.equal(sink.tuples[2]![0]!.length, 300);
  });

  it('refuses data without the signature, data after the end marker, and a sink target of the wrong length', () => {
    const stream = copyStream([[new Uint8Array([5])]], 0);
    const bad = Buffer.from(stream);
    bad[0] = 0x51;
    assert.throws(() => new BinaryCopyParser(collector()).write(bad), /signature/);
    assert.throws(() => new BinaryCopyParser(collector()).write(Buffer.concat([stream, Buffer.from([0])])), /after its end marker/);
    const short: CopyTupleSink = { target: () => new Uint8Array(0), tupleEnd: () => undefined };
    assert.throws(() => new BinaryCopyParser(short).write(stream), /gave 0 bytes for a field of 1/);
  });
});

describe('copyBinaryOut against Postgres', () => {
  let client: pg.Client;
  before(async () => {
    client = new pg.Client({ connectionString: loadConfig().databaseUrl });
    await client.connect();
  });
  after(() => client.end());

  const sql = `COPY (SELECT g::int4 AS n, decode(repeat('ab', g), 'hex') AS b FROM generate_series(0, 2000) g) TO STDOUT (FORMAT binary)`;

  it('reads int4 and bytea tuples in order', async () => {
    const sink = collector();
    assert.equal(await copyBinaryOut(client, sql, sink), 2001);
    assert.equal(sink.tuples.length, 2001);
    for (const [g, tuple] of sink.tuples.entries()) {
      assert.equal(Buffer.from(tuple[0]!).readInt32BE(0), g);
      assert.ok(Buffer.from(tuple[1]!).equals(Buffer.alloc(g, 0xab)), `tuple ${g}'s bytes`);
    }
  });

  it('rejects with the server’s error, and the connection answers the next query', async () => {
    await assert.rejects(copyBinaryOut(client, 'COPY (SELECT 1/0) TO STDOUT (FORMAT binary)', collector()), (error: Error & { code?: string }) => error.code === '22012');
    await assert.rejects(copyBinaryOut(client, 'SELECT 1', collector()), /returned rows instead of COPY data/);
    assert.equal((await client.query('SELECT 41 + 1 AS n')).rows[0].n, 42);
  });

  it('rejects with the sink’s error when it throws part-way, reads the rest, and the connection answers the next query', async () => {
    let seen = 0;
    const failing: CopyTupleSink = {
      target: (_column, length) => new Uint8Array(Math.max(0, length)),
      tupleEnd: () => {
        if (++seen === 10) throw new Error('refused at tuple 10');
      },
    };
    await assert.rejects(copyBinaryOut(client, sql, failing), /refused at tuple 10/);
    assert.equal(seen, 10, 'nothing reached the sink after its error');
    assert.equal((await client.query('SELECT 41 + 1 AS n')).rows[0].n, 42);
  });
});
