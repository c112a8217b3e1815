/**
 * Diagnostics, the undici way: named `node:diagnostics_channel` channels and
 * `util.debuglog('rtspkit')` (NODE_DEBUG=rtspkit), never the console. This is the one place
 * that publishes: callers hand over their own objects, and every message is built and
 * redacted here (no user info in URLs, no `Authorization` values, no passwords in bodies),
 * so no subscriber has to. Nothing is built when nobody listens: each publish function
 * returns at once unless its channel has subscribers or NODE_DEBUG names rtspkit.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debuglog } from 'node:util'
import type { Headers } from './rtsp/message.js'
import { REASONS } from './rtsp/serialize.js'

/** Channel names; subscribe with `diagnostics_channel.subscribe(name, fn)`. */
export const DIAGNOSTICS_CHANNELS = {
  clientRequest: 'rtspkit:client:request',
  clientResponse: 'rtspkit:client:response',
  clientSessionState: 'rtspkit:client:session:state',
  clientTrackLoss: 'rtspkit:client:track:loss',
  clientTransportChange: 'rtspkit:client:transport:change',
  serverRequest: 'rtspkit:server:request',
  serverResponse: 'rtspkit:server:response',
  serverSession: 'rtspkit:server:session',
} as const

const clientRequest = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.clientRequest)
const clientResponse = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.clientResponse)
const clientSessionState = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.clientSessionState)
const clientTrackLoss = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.clientTrackLoss)
const clientTransportChange = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.clientTransportChange)
const serverRequest = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.serverRequest)
const serverResponse = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.serverResponse)
const serverSession = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.serverSession)

const debug = debuglog('rtspkit')
// NODE_DEBUG is read once, as util.debuglog itself does; a plain boolean keeps the no-listener path cheap.
const debugEnabled = debug.enabled

/** Header values as they were on the wire, redacted; repeated names give arrays. */
export type DiagnosticHeaders = Record<string, string | string[]>

/** Headers and body of a request or response, as every such message carries them. */
export interface DiagnosticWireParts {
  /** `Authorization` shows its scheme only (`Digest <redacted>`). */
  headers: DiagnosticHeaders
  /** Text bodies (SDP, parameters), user info in URLs removed; binary bodies are left out. */
  body?: string
  bodyLength: number
}

/** What a client request and the response to it share. */
export interface ClientExchange {
  /** Numbers the client's connections in this process, from 1: pairs requests with replies. */
  connectionId: number
  host: string
  port: number
  /** The request's method (in a response: the request it answers). */
  method: string
  /** Request-URI, without user info. */
  url: string
  cseq: number
}

/** `rtspkit:client:request`: a request the client wrote (a 401 retry is a second request). */
export interface ClientRequestMessage extends ClientExchange, DiagnosticWireParts {}

/** `rtspkit:client:response`: the reply matched to a request. */
export interface ClientResponseMessage extends ClientExchange, DiagnosticWireParts {
  status: number
  reason: string
  /** From writing the request to reading this reply. */
  durationMs: number
}

/** What kind of client object changed state. */
export type DiagnosticSessionKind = 'pull' | 'push' | 'supervisor'

/** `rtspkit:client:session:state`: a pull, push or reconnect supervisor changed state. */
export interface ClientSessionStateMessage {
  /** Numbers sessions and supervisors in this process, from 1. */
  sessionId: number
  kind: DiagnosticSessionKind
  url: string
  from: string
  to: string
  /** Why, when known (the error that made a supervisor wait to reconnect). */
  reason?: string
  /**
   * The session's per-track counters now (pull: TrackStats, push: PushStats), for
   * subscribers that sample them while the session runs (`rtspkit -vv`).
   */
  stats?: () => readonly object[]
}

/** `rtspkit:client:track:loss`: RTP packets of a track never arrived (after reordering). */
export interface ClientTrackLossMessage {
  sessionId: number
  url: string
  trackIndex: number
  control: string
  codec: string
  /** Packets missing in this gap. */
  lost: number
  /** The sequence number expected and the one that arrived instead (RFC 3550 §5.1). */
  expectedSequenceNumber: number
  sequenceNumber: number
}

/** `rtspkit:client:transport:change`: the transport a pull uses was chosen or changed. */
export interface ClientTransportChangeMessage {
  sessionId: number
  url: string
  /** undefined for the first choice. */
  from: 'tcp' | 'udp' | 'multicast' | undefined
  to: 'tcp' | 'udp' | 'multicast'
  reason: string
}

/** What a request the server read and its reply to it share. */
export interface ServerExchange {
  /** Numbers the server's client connections in this process, from 1. */
  connectionId: number
  remoteAddress: string
  remotePort: number
  method: string
  url: string
  cseq: number | undefined
}

/** `rtspkit:server:request`: a request the embedded server read. */
export interface ServerRequestMessage extends ServerExchange, DiagnosticWireParts {}

/** `rtspkit:server:response`: the server's reply to a request. */
export interface ServerResponseMessage extends ServerExchange, DiagnosticWireParts {
  status: number
  reason: string
}

/** `rtspkit:server:session`: a server session started (PLAY or RECORD) or ended. */
export interface ServerSessionMessage {
  event: 'open' | 'close'
  /** The RTSP Session id. */
  sessionId: string
  /** 'reader' or 'publisher'. */
  role: string
  path: string
  remoteAddress: string
  transport: 'tcp' | 'udp' | 'multicast' | undefined
  /** Why it closed. */
  reason?: string
}

// ---- ids: plain numbers, so that no message holds a live object (and its credentials) ----

const ids = new WeakMap<object, number>()
let nextId = 0
function idOf(owner: object): number {
  let id = ids.get(owner)
  if (id === undefined) {
    id = ++nextId
    ids.set(owner, id)
  }
  return id
}

// ---- redaction, here and nowhere else ----

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]*@/gi
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization'])

/** Remove `user:pass@` from every URL in a text (URLs, header values, SDP bodies). */
export function redactText(text: string): string {
  return text.replace(URL_USERINFO, '$1')
}

function redactHeaders(headers: Headers): DiagnosticHeaders {
  const out: DiagnosticHeaders = {}
  for (const [name, raw] of headers) {
    // Digest's `response=` is a dictionary-attack target and Basic is the password itself:
    // only the scheme goes out.
    const value = SECRET_HEADERS.has(name.toLowerCase()) ? `${raw.trim().split(/\s+/, 1)[0] ?? ''} <redacted>` : redactText(raw)
    const prev = out[name]
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}

/** RTSP bodies are SDP or text parameters; anything that is not UTF-8 text stays out. */
function textBody(body: Buffer | string | undefined): Omit<DiagnosticWireParts, 'headers'> {
  if (body === undefined || body.length === 0) return { bodyLength: 0 }
  const text = typeof body === 'string' ? body : body.toString('utf8')
  if (text.includes('\uFFFD') || /[\u0000-\u0008\u000e-\u001f]/.test(text)) return { bodyLength: body.length }
  return { body: redactText(text), bodyLength: typeof body === 'string' ? Buffer.byteLength(body) : body.length }
}

/** What every request and response message carries after its own fields: headers and body, redacted. */
function wireParts(headers: Headers, body: Buffer | string | undefined): DiagnosticWireParts {
  return { headers: redactHeaders(headers), ...textBody(body) }
}

function headerLines(headers: DiagnosticHeaders): string {
  let s = ''
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) s += `\n  ${name}: ${v}`
  }
  return s
}

// ---- client ----

/** The fields a client request and its response share. */
function clientPrefix(connection: object, host: string, port: number, method: string, url: string, cseq: number): ClientExchange {
  return { connectionId: idOf(connection), host, port, method, url: redactText(url), cseq }
}

/** The client wrote a request (RtspConnection, after CSeq and Authorization were added). */
export function publishClientRequest(
  connection: object,
  host: string,
  port: number,
  method: string,
  url: string,
  cseq: number,
  headers: Headers,
  body: Buffer | string | undefined,
): void {
  if (!clientRequest.hasSubscribers && !debugEnabled) return
  const msg: ClientRequestMessage = { ...clientPrefix(connection, host, port, method, url, cseq), ...wireParts(headers, body) }
  if (debugEnabled) debug('client #%d > %s %s%s', msg.connectionId, method, msg.url, headerLines(msg.headers))
  if (clientRequest.hasSubscribers) clientRequest.publish(msg)
}

/** The client matched a reply to its request. */
export function publishClientResponse(
  connection: object,
  host: string,
  port: number,
  method: string,
  url: string,
  cseq: number,
  response: { status: number; reason: string; headers: Headers; body: Buffer },
  sentAt: number,
): void {
  if (!clientResponse.hasSubscribers && !debugEnabled) return
  const msg: ClientResponseMessage = {
    ...clientPrefix(connection, host, port, method, url, cseq),
    status: response.status,
    reason: response.reason,
    ...wireParts(response.headers, response.body),
    durationMs: Math.round((performance.now() - sentAt) * 10) / 10,
  }
  if (debugEnabled) {
    debug('client #%d < %d %s (%s, %d ms)%s', msg.connectionId, msg.status, msg.reason, method, msg.durationMs, headerLines(msg.headers))
  }
  if (clientResponse.hasSubscribers) clientResponse.publish(msg)
}

/** A session or supervisor changed state (call before or after the change, once per change). */
export function publishSessionState(
  owner: object,
  kind: DiagnosticSessionKind,
  url: string | URL,
  from: string,
  to: string,
  reason?: string,
  stats?: () => readonly object[],
): void {
  if (from === to || (!clientSessionState.hasSubscribers && !debugEnabled)) return
  const msg: ClientSessionStateMessage = { sessionId: idOf(owner), kind, url: redactText(String(url)), from, to }
  if (reason !== undefined) msg.reason = redactText(reason)
  if (stats !== undefined) msg.stats = stats
  if (debugEnabled) debug('%s session %d %s: %s -> %s%s', kind, msg.sessionId, msg.url, from, to, msg.reason ? ` (${msg.reason})` : '')
  if (clientSessionState.hasSubscribers) clientSessionState.publish(msg)
}

/** RTP packets of a track were lost (called only when a gap is seen: not per packet). */
export function publishTrackLoss(
  owner: object,
  url: string | URL,
  track: { index: number; control: string; codec: string },
  expectedSequenceNumber: number,
  sequenceNumber: number,
): void {
  if (!clientTrackLoss.hasSubscribers && !debugEnabled) return
  const msg: ClientTrackLossMessage = {
    sessionId: idOf(owner),
    url: redactText(String(url)),
    trackIndex: track.index,
    control: redactText(track.control),
    codec: track.codec,
    lost: (sequenceNumber - expectedSequenceNumber) & 0xffff,
    expectedSequenceNumber,
    sequenceNumber,
  }
  if (debugEnabled) debug('pull session %d track %d (%s): %d RTP packets lost before #%d', msg.sessionId, msg.trackIndex, msg.codec, msg.lost, sequenceNumber)
  if (clientTrackLoss.hasSubscribers) clientTrackLoss.publish(msg)
}

/** A pull's transport was chosen or changed (UDP → TCP fallback). */
export function publishTransportChange(
  owner: object,
  url: string | URL,
  from: 'tcp' | 'udp' | 'multicast' | undefined,
  to: 'tcp' | 'udp' | 'multicast',
  reason: string,
): void {
  if (!clientTransportChange.hasSubscribers && !debugEnabled) return
  const msg: ClientTransportChangeMessage = { sessionId: idOf(owner), url: redactText(String(url)), from, to, reason: redactText(reason) }
  if (debugEnabled) debug('pull session %d transport %s%s (%s)', msg.sessionId, from === undefined ? '' : `${from} -> `, to, msg.reason)
  if (clientTransportChange.hasSubscribers) clientTransportChange.publish(msg)
}

// ---- server ----

export interface ServerPeer {
  remoteAddress?: string | undefined
  remotePort?: number | undefined
}

/** The fields a server request and its response share. */
function serverPrefix(connection: object, peer: ServerPeer, request: { method: string; url: string }, cseq: number | undefined): ServerExchange {
  return {
    connectionId: idOf(connection),
    remoteAddress: peer.remoteAddress ?? '',
    remotePort: peer.remotePort ?? 0,
    method: request.method,
    url: redactText(request.url),
    cseq,
  }
}

/** The server read a request from a client connection. */
export function publishServerRequest(
  connection: object,
  peer: ServerPeer,
  request: { method: string; url: string; headers: Headers; body: Buffer },
  cseq: number | undefined,
): void {
  if (!serverRequest.hasSubscribers && !debugEnabled) return
  const msg: ServerRequestMessage = { ...serverPrefix(connection, peer, request, cseq), ...wireParts(request.headers, request.body) }
  if (debugEnabled) debug('server #%d < %s %s from %s%s', msg.connectionId, msg.method, msg.url, msg.remoteAddress, headerLines(msg.headers))
  if (serverRequest.hasSubscribers) serverRequest.publish(msg)
}

/** The server answered a request. */
export function publishServerResponse(
  connection: object,
  peer: ServerPeer,
  request: { method: string; url: string },
  cseq: number | undefined,
  status: number,
  reason: string,
  headers: Headers,
  body: Buffer | string | undefined,
): void {
  if (!serverResponse.hasSubscribers && !debugEnabled) return
  const msg: ServerResponseMessage = {
    ...serverPrefix(connection, peer, request, cseq),
    status,
    // The server leaves the phrase to the serializer unless it has its own.
    reason: reason === '' ? (REASONS[status] ?? '') : reason,
    ...wireParts(headers, body),
  }
  if (debugEnabled) debug('server #%d > %d %s (%s)%s', msg.connectionId, status, msg.reason, msg.method, headerLines(msg.headers))
  if (serverResponse.hasSubscribers) serverResponse.publish(msg)
}

/** A server session started (PLAY or RECORD) or ended. */
export function publishServerSession(
  event: 'open' | 'close',
  info: { id: string; role: string; path: string; remoteAddress: string; protocol: 'tcp' | 'udp' | 'multicast' | undefined },
  reason?: string,
): void {
  if (!serverSession.hasSubscribers && !debugEnabled) return
  const msg: ServerSessionMessage = {
    event,
    sessionId: info.id,
    role: info.role,
    path: redactText(info.path),
    remoteAddress: info.remoteAddress,
    transport: info.protocol,
  }
  if (reason !== undefined) msg.reason = redactText(reason)
  if (debugEnabled) {
    debug('server session %s %s: %s /%s from %s over %s%s', msg.sessionId, event, msg.role, msg.path, msg.remoteAddress, msg.transport ?? '?', msg.reason ? ` (${msg.reason})` : '')
  }
  if (serverSession.hasSubscribers) serverSession.publish(msg)
}
