/**
 * The `rtspkit serve --config` file: YAML or JSON (JSON is YAML 1.2, so one parser, the
 * `yaml` package, reads both and gives every value its line). Paths are modelled on
 * MediaMTX's: a `source` (a file or an rtsp:// URL) or none (publishers push to it), an
 * optional `record:` block, and per-path users.
 *
 *   server: { host: 127.0.0.1, port: 8554 }
 *   users: [{ user: admin, password: secret }]        # every path, read and publish
 *   paths:
 *     cam1:
 *       source: rtsp://user:pass@192.168.1.10/stream1
 *       record: { path: rec/cam1/%Y-%m-%d_%H-%M-%S.mp4, segment: 10m, keep: 7d, maxSize: 50GB }
 *       users: [{ user: viewer, password: pw, actions: [read] }]
 *     lobby:
 *       source: clips/lobby.mp4
 *       users: [{ user: any, actions: [read] }]       # anyone may watch, no login
 *
 * Logins (as MediaMTX's authInternalUsers, `any` included): a config without users is open
 * to everyone. Once any user is named, every path asks for a login: top-level users may use
 * every path, a path's users that path, each for its `actions`. A path is open without a
 * login only where the config says so: `user: any` (no password) in its users (or at the
 * top level: every path).
 *
 * Every mistake is a ConfigError naming the file, the line and the key.
 */
import { LineCounter, parseDocument, isMap, isSeq } from 'yaml'
import type { Document } from 'yaml'
import { InvalidArgumentError } from '../errors.js'
import { parseDuration, parseSize } from '../record/units.js'
import { checkSegmentPath } from '../record/strftime.js'
import { redactUrl } from '../util/url.js'

export interface ConfigUser {
  /** A name, or `any`: everyone, without a login. */
  user: string
  /** '' for `any`. */
  password: string
  /** What the user may do; default both. */
  actions: ReadonlyArray<'read' | 'publish'>
}

export interface PathRecordConfig {
  path: string
  segment: number
  keep: number | undefined
  maxSize: number | undefined
}

export interface PathConfig {
  name: string
  /** A file (served looped) or an rtsp(s):// URL (pulled, reconnected); none: publishers push here. */
  source: { kind: 'file'; file: string } | { kind: 'rtsp'; url: string } | undefined
  record: PathRecordConfig | undefined
  /** An rtsp:// source pulled only while watched, closed this long (s) after the last viewer. */
  onDemand?: { closeAfterS: number }
  /** Users allowed on this path besides the global ones. */
  users: readonly ConfigUser[]
}

export interface ServeConfig {
  host: string | undefined
  port: number | undefined
  users: readonly ConfigUser[]
  paths: ReadonlyMap<string, PathConfig>
}

/** A config file mistake: where (file:line) and what. Code RTSP_ERR_INVALID_ARGUMENT. */
export class ConfigError extends InvalidArgumentError {
  readonly file: string
  readonly line: number | undefined
  constructor(file: string, line: number | undefined, message: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`)
    this.file = file
    this.line = line
  }
}

const TOP_KEYS = new Set(['server', 'users', 'paths'])
const SERVER_KEYS = new Set(['host', 'port'])
const PATH_KEYS = new Set(['source', 'sourceOnDemand', 'sourceOnDemandCloseAfter', 'record', 'users'])
const RECORD_KEYS = new Set(['path', 'segment', 'keep', 'maxSize'])
const USER_KEYS = new Set(['user', 'password', 'actions'])
/** The user that stands for everyone, without a login (MediaMTX's `any`). */
export const ANY_USER = 'any'

/** Parse and check a config's text; `file` names it in errors. */
export function parseServeConfig(text: string, file: string): ServeConfig {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const firstError = doc.errors[0]
  if (firstError !== undefined) {
    const line = lineCounter.linePos(firstError.pos[0]).line
    throw new ConfigError(file, line, `not valid YAML/JSON: ${firstError.message.split('\n')[0]}`)
  }
  const c = new Checker(doc, lineCounter, file)
  const root: unknown = doc.toJS()
  if (root === null || root === undefined) throw new ConfigError(file, undefined, 'the file is empty; it needs at least `paths:`')
  const top = c.map([], root, TOP_KEYS)
  const server = top.server === undefined ? {} : c.map(['server'], top.server, SERVER_KEYS)
  let port: number | undefined
  if (server.port !== undefined) {
    if (!Number.isInteger(server.port) || (server.port as number) < 0 || (server.port as number) > 65535) c.fail(['server', 'port'], `port must be 0-65535, not ${JSON.stringify(server.port)}`)
    port = server.port as number
  }
  if (server.host !== undefined && typeof server.host !== 'string') c.fail(['server', 'host'], 'host must be an IP address')
  const users = c.users(['users'], top.users)
  if (top.paths === undefined) c.fail([], 'no `paths:`; add at least one path')
  const pathsRaw = c.map(['paths'], top.paths)
  const paths = new Map<string, PathConfig>()
  for (const [name, value] of Object.entries(pathsRaw)) {
    const at = ['paths', name]
    if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(name)) c.fail(at, `path "${name}" may hold letters, digits, . _ ~ - and inner slashes only`, true)
    const p = value === null ? {} : c.map(at, value, PATH_KEYS)
    let source: PathConfig['source']
    if (p.source !== undefined) {
      if (typeof p.source !== 'string' || p.source === '') c.fail([...at, 'source'], 'source must be a file name or an rtsp:// URL')
      const s = p.source as string
      if (/^rtsps?:\/\//i.test(s)) source = { kind: 'rtsp', url: s }
      else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) c.fail([...at, 'source'], `source ${redactUrl(s)}: only files and rtsp:// or rtsps:// URLs can be sources`)
      else source = { kind: 'file', file: s }
    }
    if (p.sourceOnDemand !== undefined) {
      if (typeof p.sourceOnDemand !== 'boolean') c.fail([...at, 'sourceOnDemand'], 'sourceOnDemand must be true or false')
      if (p.sourceOnDemand === true && source?.kind !== 'rtsp') c.fail([...at, 'sourceOnDemand'], 'sourceOnDemand applies to rtsp:// sources only')
      // A recording reads the path all the time, so its source would never close.
      if (p.sourceOnDemand === true && p.record !== undefined) c.fail([...at, 'sourceOnDemand'], 'a recorded path is pulled always; remove sourceOnDemand or record')
    }
    let onDemand: PathConfig['onDemand']
    if (p.sourceOnDemandCloseAfter !== undefined && p.sourceOnDemand !== true) c.fail([...at, 'sourceOnDemandCloseAfter'], 'sourceOnDemandCloseAfter needs sourceOnDemand: true')
    if (p.sourceOnDemand === true) {
      const after = p.sourceOnDemandCloseAfter
      onDemand = { closeAfterS: after === undefined ? 10 : c.wrap([...at, 'sourceOnDemandCloseAfter'], () => parseDuration('sourceOnDemandCloseAfter', after as string | number)) }
    }
    let record: PathRecordConfig | undefined
    if (p.record !== undefined) {
      const r = c.map([...at, 'record'], p.record, RECORD_KEYS)
      if (typeof r.path !== 'string' || r.path === '') c.fail([...at, 'record'], 'record needs path: a file name pattern such as rec/cam1/%Y-%m-%d_%H-%M-%S.mp4', true)
      const rp = r.path as string
      c.wrap([...at, 'record', 'path'], () => checkSegmentPath(rp))
      record = {
        path: rp,
        segment: r.segment === undefined ? 600 : c.wrap([...at, 'record', 'segment'], () => parseDuration('segment', r.segment as string | number)),
        keep: r.keep === undefined ? undefined : c.wrap([...at, 'record', 'keep'], () => parseDuration('keep', r.keep as string | number)),
        maxSize: r.maxSize === undefined ? undefined : c.wrap([...at, 'record', 'maxSize'], () => parseSize('maxSize', r.maxSize as string | number)),
      }
    }
    paths.set(name, { name, source, record, ...(onDemand !== undefined ? { onDemand } : {}), users: c.users([...at, 'users'], p.users) })
  }
  if (paths.size === 0) c.fail(['paths'], 'no paths; add at least one')
  return { host: server.host as string | undefined, port, users, paths }
}

/** Validation helpers that know where each value sits in the file. */
class Checker {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  lineOf(path: readonly (string | number)[], key = false): number | undefined {
    // The key's line for a mapping entry (`cam1:`), else the value's.
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      if (p.length === 0) return undefined
      const parent = p.length === 1 ? this.doc.contents : this.doc.getIn(p.slice(0, -1), true)
      if (key && isMap(parent)) {
        const pair = parent.items.find((i) => (i.key as { value?: unknown } | null)?.value === p.at(-1))
        const range = (pair?.key as { range?: [number, number, number] } | null)?.range
        if (range) return this.lines.linePos(range[0]).line
      }
      const node = this.doc.getIn(p, true) as { range?: [number, number, number] } | undefined
      if (node?.range) return this.lines.linePos(node.range[0]).line
      if (isMap(parent) || isSeq(parent)) {
        const r = (parent as { range?: [number, number, number] }).range
        if (r) return this.lines.linePos(r[0]).line
      }
    }
  }

  fail(path: readonly (string | number)[], message: string, key = false): never {
    const where = path.length > 0 ? `${path.join('.')}: ` : ''
    throw new ConfigError(this.file, this.lineOf(path, key), `${where}${message}`)
  }

  /** Run a parse that throws InvalidArgumentError; rethrow it with the value's line. */
  wrap<T>(path: readonly (string | number)[], fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      if (err instanceof InvalidArgumentError && !(err instanceof ConfigError)) this.fail(path, err.message)
      throw err
    }
  }

  map(path: readonly (string | number)[], v: unknown, allowed?: ReadonlySet<string>): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected a mapping (key: value), got ${Array.isArray(v) ? 'a list' : JSON.stringify(v)}`)
    const m = v as Record<string, unknown>
    if (allowed !== undefined) {
      for (const k of Object.keys(m)) {
        if (!allowed.has(k)) this.fail([...path, k], `unknown key "${k}"; expected one of ${[...allowed].join(', ')}`, true)
      }
    }
    return m
  }

  users(path: readonly (string | number)[], v: unknown): ConfigUser[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) this.fail(path, 'users must be a list of { user, password, actions }')
    return v.map((u, i) => {
      const at = [...path, i]
      const m = this.map(at, u, USER_KEYS)
      if (typeof m.user !== 'string' || m.user === '' || m.user.includes(':')) this.fail(at, 'user must be a name without ":"')
      if (m.user === ANY_USER) {
        // MediaMTX's convention: `any` is everyone, so a password would protect nothing.
        if (m.password !== undefined && m.password !== '') this.fail([...at, 'password'], 'user any is everyone without a login: give it no password')
      } else if (typeof m.password !== 'string' && typeof m.password !== 'number') this.fail(at, `user ${m.user as string} needs a password`)
      let actions: Array<'read' | 'publish'> = ['read', 'publish']
      if (m.actions !== undefined) {
        if (!Array.isArray(m.actions) || m.actions.some((a) => a !== 'read' && a !== 'publish')) this.fail([...at, 'actions'], 'actions must be a list of read and/or publish')
        actions = m.actions as Array<'read' | 'publish'>
      }
      return { user: m.user as string, password: m.user === ANY_USER ? '' : String(m.password), actions }
    })
  }
}
