/**
 * A tenant process's output: its stdout and stderr go straight to `stdout.log` and `stderr.log` in
 * its state dir (opened for append by the process itself, so output survives a Lessor restart and
 * never blocks on Lessor). Lessor keeps them size-capped by rotating copy-and-truncate: a file past
 * `maxBytes` is copied to `<file>.1` (older copies shift up to `<file>.<files>`, the oldest is
 * dropped) and truncated; the process keeps appending at the new end. Lines written between the
 * copy and the truncation can be lost — the usual price of rotating a file whose writer cannot be
 * told to reopen it.
 *
 * Lines carry no time of their own: `ts` is the modification time of the file they were read from,
 * and `since` skips whole files last written before it. Reading is line by line (bounded memory);
 * `tail` keeps only the newest N lines while reading.
 */
import { createReadStream } from 'node:fs';
import { copyFile, open, readdir, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogLine, LogRequest, LogStream } from '../../provider.js';
import { isErrno } from './process-state.js';

export interface LogRotation {
  /** A file larger than this is rotated. */
  readonly maxBytes: number;
  /** Rotated copies kept per stream (0: truncate only). */
  readonly files: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, files: 3 };
const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];
/** How often a followed log looks for new output. */
const FOLLOW_POLL_MS = 250;
/** A longer line is cut here (a followed read never holds more than this of a partial line). */
const MAX_LINE_CHARS = 64 * 1024;

export function streamFile(dir: string, stream: LogStream): string {
  return join(dir, `${stream}.log`);
}

/** Rotates the file when it passed `maxBytes`. A missing file is nothing to do. */
export async function rotateIfNeeded(path: string, rotation: LogRotation): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  if (size <= rotation.maxBytes) return false;
  if (rotation.files > 0) {
    await unlink(`${path}.${rotation.files}`).catch(() => undefined);
    for (let i = rotation.files - 1; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    }
    await copyFile(path, `${path}.1`);
  }
  await truncate(path, 0);
  return true;
}

/** Rotates both streams of every tenant dir under `root` (`<dataDir>/process`). */
export async function rotateAll(root: string, rotation: LogRotation): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  for (const name of names) {
    for (const stream of STREAMS) await rotateIfNeeded(streamFile(join(root, name), stream), rotation);
  }
}

interface LogFile {
  readonly path: string;
  readonly stream: LogStream;
  readonly mtimeMs: number;
}

/** Every file of the tenant's output that exists, oldest first (by modification time). */
async function logFiles(dir: string, rotation: LogRotation, sinceMs: number): Promise<LogFile[]> {
  const files: LogFile[] = [];
  for (const stream of STREAMS) {
    const base = streamFile(dir, stream);
    const paths = [
      ...Array.from({ length: rotation.files }, (_, i) => `${base}.${rotation.files - i}`),
      base,
    ];
    for (const path of paths) {
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs >= sinceMs) files.push({ path, stream, mtimeMs: info.mtimeMs });
    }
  }
  return files.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

async function* linesOf(file: LogFile, signal: AbortSignal): AsyncGenerator<LogLine> {
  const ts = new Date(file.mtimeMs).toISOString();
  const input = createReadStream(file.path, { encoding: 'utf8', signal });
  const reader = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of reader) yield { ts, stream: file.stream, line: line.slice(0, MAX_LINE_CHARS) };
  } catch (error) {
    if (!signal.aborted && !isErrno(error, 'ENOENT')) throw error;
  } finally {
    reader.close();
    input.destroy();
  }
}

/** The tenant's output; ends at once when the dir does not exist (the caller checks the record). */
export async function* readProcessLogs(
  dir: string,
  request: LogRequest,
  rotation: LogRotation,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const sinceMs = request.sinceMs ?? 0;
  const files = await logFiles(dir, rotation, sinceMs);
  // Where a follow continues: the current files' sizes before the first read.
  const offsets = new Map<LogStream, number>();
  for (const stream of STREAMS)
    offsets.set(stream, (await stat(streamFile(dir, stream)).catch(() => undefined))?.size ?? 0);
  if (request.tail === undefined) {
    for (const file of files) yield* linesOf(file, signal);
  } else if (request.tail > 0) {
    const kept: LogLine[] = [];
    for (const file of files) {
      for await (const line of linesOf(file, signal)) {
        kept.push(line);
        if (kept.length > request.tail) kept.shift();
      }
    }
    yield* kept;
  }
  if (request.follow) yield* follow(dir, offsets, signal);
}

/** New output as it is appended; ends when the reader leaves or the tenant's dir is removed. */
async function* follow(
  dir: string,
  offsets: Map<LogStream, number>,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const partial = new Map<LogStream, string>();
  while (!signal.aborted) {
    let present = false;
    for (const stream of STREAMS) {
      const path = streamFile(dir, stream);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      present = true;
      let from = offsets.get(stream) ?? 0;
      if (info.size < from) from = 0; // rotated (truncated) since the last look
      if (info.size === from) continue;
      const text = await readRange(path, from, Math.min(info.size, from + MAX_LINE_CHARS * 4));
      offsets.set(stream, from + Buffer.byteLength(text));
      const pieces = ((partial.get(stream) ?? '') + text).split('\n');
      let rest = pieces.pop() ?? '';
      if (rest.length > MAX_LINE_CHARS) {
        pieces.push(rest.slice(0, MAX_LINE_CHARS));
        rest = '';
      }
      partial.set(stream, rest);
      const ts = new Date(info.mtimeMs).toISOString();
      for (const line of pieces) yield { ts, stream, line };
    }
    if (!present && !(await exists(dir))) return;
    await sleep(FOLLOW_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

/** Bytes [from, to) as text, cut back to the last whole UTF-8 character. */
async function readRange(path: string, from: number, to: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    let end = bytesRead;
    while (end > 0 && (buffer[end - 1]! & 0xc0) === 0x80) end--; // continuation bytes
    if (end > 0 && buffer[end - 1]! >= 0xc0) end--; // a lead byte whose character is incomplete
    if (end === 0 && bytesRead > 0) end = bytesRead;
    return buffer.subarray(0, end).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
