// The page's frame code (web/app.js) in node, without a browser: every server frame of
// docs/PROTOCOL.md, split at every byte, and the client frames it sends.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const bytes = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

export async function checkFrames(appPath) {
  const source = await readFile(appPath, 'utf8');
  const app = await import(`data:text/javascript,${encodeURIComponent(source)}`);

  // One of each server frame, as one stream.
  const wire = 'y' + 'M2z' + 'A\x03ana' + 'N\x0cwrong secret' + 'E\x0bhello first' + 'W' + 'V\x02bo' + 'Q'
    + 'Ty' + 'Tv' + 'G' + 'Fz' + 'B' + `K\x40${'ab'.repeat(32)}` + 'J\x0fbo 4 2 1 0 1 17' + 'D\x0221' + 'C' + 'U' + 'x';
  const expected = [
    { kind: 'y' }, { kind: 'M', code: '2' }, { kind: 'z' }, { kind: 'A', text: 'ana' },
    { kind: 'N', text: 'wrong secret' }, { kind: 'E', text: 'hello first' }, { kind: 'W' }, { kind: 'V', text: 'bo' },
    { kind: 'Q' }, { kind: 'T', code: 'y' }, { kind: 'T', code: 'v' }, { kind: 'G' }, { kind: 'F', code: 'z' },
    { kind: 'B' }, { kind: 'K', text: 'ab'.repeat(32) }, { kind: 'J', text: 'bo 4 2 1 0 1 17' },
    { kind: 'D', text: '21' }, { kind: 'C' }, { kind: 'U' }, { kind: 'x' },
  ];
  assert.deepEqual(new app.FrameReader().push(bytes(wire)), expected);

  // Split anywhere, in two and byte by byte: the same frames, none early.
  for (let cut = 0; cut <= wire.length; cut++) {
    const reader = new app.FrameReader();
    const frames = [...reader.push(bytes(wire.slice(0, cut))), ...reader.push(bytes(wire.slice(cut)))];
    assert.deepEqual(frames, expected, `split at ${cut}`);
  }
  const reader = new app.FrameReader();
  const one = [];
  for (const c of wire) {
    one.push(...reader.push(bytes(c)));
  }
  assert.deepEqual(one, expected);

  // Incomplete frames wait; a byte that starts no frame is reported and skipped.
  assert.deepEqual(app.parseFrame(bytes('A\x03an')), { size: 0 });
  assert.deepEqual(app.parseFrame(bytes('M')), { size: 0 });
  assert.deepEqual(app.parseFrame(bytes('')), { size: 0 });
  assert.deepEqual(app.parseFrame(bytes('7')), { size: -1 });
  assert.deepEqual(new app.FrameReader().push(bytes('7y')), [{ kind: '?', code: 0x37 }, { kind: 'y' }]);

  // Client frames.
  assert.deepEqual(app.encode.move(2), bytes('2'));
  assert.deepEqual(app.encode.register('ana'), bytes('R\x03ana'));
  assert.deepEqual(app.encode.login('ana', 'f'.repeat(64)), bytes(`I\x03ana\x40${'f'.repeat(64)}`));
  assert.deepEqual(app.encode.op('P'), bytes('P'));

  // Snapshots.
  assert.deepEqual(app.parseSnapshot('bo 4 2 1 0 1 17'),
    { opponent: 'bo', round: 4, wins: 2, losses: 1, draws: 0, moved: true, seconds: 17 });
  assert.equal(app.parseSnapshot('bo 4 2 1 0 1'), null);
  assert.equal(app.parseSnapshot('b!o 4 2 1 0 1 17'), null);
}
