/**
 * The embedded server's paths: which source serves each one (a file, a pulled camera, the
 * application, a publisher's RECORD), claims held while a source starts, and the on-demand
 * pulls opened by their first viewer.
 */
import { InvalidArgumentError, StateError } from '../errors.js'
import { openFileSource, playFrames } from '../input/file-source.js'
import type { FileSource } from '../input/file-source.js'
import type { SendTrackInit } from '../formats/send-track.js'
import type { PullSupervisor } from '../client/supervisor.js'
import { startPullSource } from './pull-source.js'
import type { PullSourceOptions } from './pull-source.js'
import { OnDemandPull } from './on-demand.js'
import type { OnDemandOptions } from './on-demand.js'
import { normalizePath } from './request.js'
import { StreamPublisher } from './stream.js'
import type { Stream } from './stream.js'

/** A path held by a source of this process, and what that source is ('a file', 'a pulled source', ...). */
interface PathClaim {
  path: string
  source: string
}

/** A file served on a path, for readers that seek (each gets its own playback from the file). */
export interface ServedFile {
  source: FileSource
  loop: boolean
  inits: readonly SendTrackInit[]
  playbacks: Set<StreamPublisher>
}

/** What the path table needs from the server around it. */
export interface PathHost {
  readonly mtu: number
  logLine(line: string): void
  /** Viewers of `stream` of any kind (an on-demand pull closes after the last). */
  viewersOf(stream: Stream): number
  /** A publisher's ANNOUNCE of `path` is waiting for its RECORD. */
  isAnnounced(path: string): boolean
}

export class PathTable {
  /** Stream path → live stream (files, API publishers, RECORD publishers). */
  readonly streams = new Map<string, Stream>()
  /** File paths → their source. */
  readonly files = new Map<string, ServedFile>()
  private readonly publishers = new Map<string, StreamPublisher>()
  /**
   * Paths the application claimed (addFile, addPull, publish) → what serves them. A claim
   * starts when the call does: a pulled source still connecting or a file still opening
   * holds its path, so a publisher's ANNOUNCE cannot take it in the meantime.
   */
  private readonly claims = new Map<string, PathClaim>()
  private readonly fileLoops = new Set<AbortController>()
  /** Pull sources (addPull): closed, with their TEARDOWN, in close(). */
  private readonly pullSources = new Set<PullSupervisor>()
  /** Pulled paths opened by their first viewer (addPull with onDemand). */
  private readonly onDemand = new Map<string, OnDemandPull>()
  private closed = false

  constructor(private readonly host: PathHost) {}

  /** The stream of an on-demand path, connecting its source when closed; undefined for another path. */
  async openOnDemand(path: string): Promise<Stream | undefined> {
    return this.onDemand.get(normalizePath(path))?.stream()
  }

  isOnDemand(path: string): boolean {
    return this.onDemand.has(path)
  }

  onDemandPaths(): string[] {
    return [...this.onDemand.keys()]
  }

  async addFile(path: string, file: string, options: { loop?: boolean } = {}): Promise<StreamPublisher> {
    const claim = this.claim(path, 'a file')
    let source: Awaited<ReturnType<typeof openFileSource>>
    try {
      source = await openFileSource(file)
    } catch (err) {
      this.release(claim)
      throw err
    }
    let publisher: StreamPublisher
    try {
      publisher = this.createPublisher(claim, 'file', source.tracks)
    } catch (err) {
      this.release(claim)
      await source.close()
      throw err
    }
    const abort = new AbortController()
    this.fileLoops.add(abort)
    const p = publisher.stream.path
    const entry: ServedFile = { source, loop: options.loop ?? true, inits: source.tracks, playbacks: new Set<StreamPublisher>() }
    this.files.set(p, entry)
    publisher.onClose = ((prev) => () => {
      abort.abort()
      if (this.files.get(p) === entry) this.files.delete(p)
      for (const pb of [...entry.playbacks]) pb.close('the file is no longer served')
      prev?.()
    })(publisher.onClose)
    void (async () => {
      try {
        await playFrames(source, { loop: options.loop ?? true, realtime: true, signal: abort.signal }, (f) => publisher.write(f.trackIndex, f))
      } catch (err) {
        if (!abort.signal.aborted) this.host.logLine(`stream /${publisher.stream.path}: reading ${file} failed: ${(err as Error).message}`)
      } finally {
        this.fileLoops.delete(abort)
        await source.close().catch(() => {})
        publisher.close('the file ended')
      }
    })()
    return publisher
  }

  addPullOnDemand(path: string, url: string, options: PullSourceOptions, onDemand: OnDemandOptions): () => void {
    const p = this.claim(path, 'a pulled source', { check: true }).path
    const entry = new OnDemandPull(p, async () => (await this.pullNow(p, url, options)).publisher, (stream) => this.host.viewersOf(stream), onDemand)
    this.onDemand.set(p, entry)
    return () => {
      if (this.onDemand.get(p) !== entry) return
      this.onDemand.delete(p)
      entry.close('the path was removed')
    }
  }

  async pullNow(path: string, url: string, options: PullSourceOptions): Promise<{ publisher: StreamPublisher; skipped: string[] }> {
    const claim = this.claim(path, 'a pulled source', { onDemand: true })
    const p = claim.path
    let source: Awaited<ReturnType<typeof startPullSource>>
    try {
      source = await startPullSource(url, (tracks) => this.createPublisher(claim, 'api', tracks), options, (line) => this.host.logLine(`stream /${p}: ${line}`))
    } catch (err) {
      this.release(claim)
      throw err
    }
    this.pullSources.add(source.supervisor)
    source.supervisor.once('close', () => this.pullSources.delete(source.supervisor))
    return { publisher: source.publisher, skipped: source.skipped }
  }

  publish(path: string, tracks: readonly SendTrackInit[]): StreamPublisher {
    const claim = this.claim(path, 'the application')
    try {
      return this.createPublisher(claim, 'api', tracks)
    } catch (err) {
      this.release(claim)
      throw err
    }
  }

  /**
   * Take `path` for a source of this process, or say who holds it. `onDemand`: the path's own
   * on-demand source connecting; `check`: only check (an on-demand path holds its name itself).
   */
  private claim(path: string, source: string, how: { onDemand?: boolean; check?: boolean } = {}): PathClaim {
    if (this.closed) throw new StateError({ action: 'publish', state: 'closed', allowed: ['new', 'listening'] })
    const p = normalizePath(path)
    const taken = this.whyTaken(p) ?? (how.onDemand !== true && this.onDemand.has(p) ? `path /${p} is served from a source pulled on demand` : undefined)
    if (taken !== undefined) throw new InvalidArgumentError(`${taken}; choose another path`)
    const claim: PathClaim = { path: p, source }
    if (how.check === true) return claim
    this.claims.set(p, claim)
    return claim
  }

  private release(claim: PathClaim): void {
    if (this.claims.get(claim.path) === claim) this.claims.delete(claim.path)
  }

  /**
   * Why `path` cannot take another source, or undefined when it is free. `announcer`: the
   * announced path of the connection asking (a publisher's ANNOUNCE or RECORD), whose own
   * announcement does not count.
   */
  whyTaken(path: string, announcer?: { announced: { path: string } | undefined }): string | undefined {
    const claim = this.claims.get(path)
    const served = this.streams.has(path)
    if (claim !== undefined) return served ? `path /${path} is served from ${claim.source}` : `path /${path} is reserved for ${claim.source} that is starting`
    if (served) return `path /${path} is served from another publisher`
    if (announcer !== undefined && this.onDemand.has(path)) return `path /${path} is served from a source pulled on demand`
    if (this.host.isAnnounced(path) && announcer?.announced?.path !== path) return `path /${path} is being announced by another publisher`
    return undefined
  }

  private createPublisher(claim: PathClaim, kind: 'file' | 'api', tracks: readonly SendTrackInit[]): StreamPublisher {
    if (this.closed) throw new StateError({ action: 'publish', state: 'closed', allowed: ['new', 'listening'] })
    const p = claim.path
    const publisher = new StreamPublisher(p, kind, tracks, { mtu: this.host.mtu })
    this.streams.set(p, publisher.stream)
    this.publishers.set(p, publisher)
    publisher.onClose = () => {
      if (this.streams.get(p) === publisher.stream) this.streams.delete(p)
      this.publishers.delete(p)
      this.release(claim)
    }
    return publisher
  }

  /** Stop every source this process serves (publishers' streams end; their readers' sessions with them). */
  stopSources(reason: string): void {
    this.closed = true
    for (const a of this.fileLoops) a.abort()
    for (const d of this.onDemand.values()) d.close(reason)
    for (const p of [...this.publishers.values()]) p.close(reason)
  }

  /** Close the pulled sources (each sends its TEARDOWN). */
  async closePulls(): Promise<void> {
    await Promise.all([...this.pullSources].map((s) => s.close()))
  }
}
