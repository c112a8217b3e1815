/**
 * The file system as the segmented recorder uses it (injectable, so tests can fail a write
 * with ENOSPC), the write error it reports, and the small file helpers around it.
 */
import { createWriteStream } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { OutputError } from '../errors.js'
import type { RepairFs } from './fmp4-repair.js'

/** What the recorder needs of the file system; tests inject failures (ENOSPC) through it. */
export interface RecordFs extends RepairFs {
  createWriteStream(path: string, options: { flags: string }): NodeJS.WritableStream
  appendFile(path: string, data: string): Promise<void>
  readFile(path: string, encoding: 'utf8'): Promise<string>
  mkdir(path: string, options: { recursive: true }): Promise<unknown>
  unlink(path: string): Promise<void>
  stat(path: string): Promise<{ size: number }>
  /** For compacting the index (write a new one, then rename it over the old); without them it only grows. */
  writeFile?(path: string, data: string): Promise<void>
  rename?(from: string, to: string): Promise<void>
}

export const NODE_FS: RecordFs = {
  createWriteStream: (path, options) => createWriteStream(path, options),
  appendFile: (path, data) => fsp.appendFile(path, data),
  readFile: (path, encoding) => fsp.readFile(path, encoding),
  mkdir: (path, options) => fsp.mkdir(path, options),
  unlink: (path) => fsp.unlink(path),
  stat: (path) => fsp.stat(path),
  open: (path, flags) => fsp.open(path, flags),
  writeFile: (path, data) => fsp.writeFile(path, data),
  rename: (from, to) => fsp.rename(from, to),
}

/** A write failed: the path, the OS error code (ENOSPC, EACCES, EROFS...); recording resumes when a new segment can be written. */
export class RecordingWriteError extends OutputError {
  readonly path: string
  readonly errno: string | undefined
  constructor(path: string, cause: unknown) {
    const errno = findErrno(cause)
    const why =
      errno === 'ENOSPC'
        ? 'the disk is full; free space (or lower --keep/--max-size) and recording resumes'
        : errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS'
          ? 'permission denied; make the directory writable and recording resumes'
          : errno === 'ENOTDIR' || errno === 'ENOENT'
            ? 'the directory cannot be created (a file stands in its path?)'
            : 'recording resumes with a new segment when writing works again'
    super(`cannot write ${path}: ${errno ?? (cause instanceof Error ? cause.message : String(cause))}; ${why}`, { cause })
    this.path = path
    this.errno = errno
  }
}

/** The OS error code (ENOSPC...) of an error or of one of its causes. */
export function findErrno(err: unknown): string | undefined {
  for (let e = err, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
  }
  return undefined
}

/** `a/b.mp4` → `a/b_1.mp4`. */
export function withSuffix(file: string, n: number): string {
  const ext = extname(file)
  return join(dirname(file), `${basename(file, ext)}_${n}${ext}`)
}

/** Create `file` for writing; EEXIST if it exists ('wx': never overwrite a crashed run's file). */
export function openExclusive(fs: RecordFs, file: string): Promise<NodeJS.WritableStream> {
  const stream = fs.createWriteStream(file, { flags: 'wx' })
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => {
      stream.off('open', onOpen)
      reject(err)
    }
    const onOpen = (): void => {
      stream.off('error', onError)
      // Later errors reach the recorder through its write callbacks; keep them from crashing.
      stream.on('error', () => {})
      resolve(stream)
    }
    stream.once('open', onOpen)
    stream.once('error', onError)
  })
}

export function endStream(stream: NodeJS.WritableStream): Promise<void> {
  const s = stream as NodeJS.WritableStream & { destroyed?: boolean; closed?: boolean }
  if (s.destroyed || s.closed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => resolve()
    stream.once('close', done)
    stream.once('error', done)
    stream.end()
  })
}
