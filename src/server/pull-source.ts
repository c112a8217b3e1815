/**
 * A served path whose media comes from another RTSP server or a camera: the server pulls
 * it once (with the reconnecting supervisor) and fans it out to its own readers, so one
 * camera connection serves any number of viewers (what lal's and mediamtx's pull sources do).
 */
import { RtspClient } from '../client/client.js'
import type { ClientOptions } from '../client/client.js'
import type { PullSupervisor, ReconnectOptions } from '../client/supervisor.js'
import type { Track } from '../client/track.js'
import { UnsupportedError } from '../errors.js'
import type { SendTrackInit } from '../formats/send-track.js'
import { SENDABLE_CODECS } from '../formats/send-track.js'
import { redactUrl } from '../util/url.js'
import type { StreamPublisher } from './stream.js'

export interface PullSourceOptions extends ClientOptions {
  reconnect?: ReconnectOptions
}

const SENDABLE = new Set(SENDABLE_CODECS.split(', '))

/** The tracks that can be served again as they are (no re-encoding), with their source index. */
export function servableTracks(tracks: readonly Track[]): { inits: SendTrackInit[]; sourceIndex: number[]; skipped: string[] } {
  const inits: SendTrackInit[] = []
  const sourceIndex: number[] = []
  const skipped: string[] = []
  for (const t of tracks) {
    // LATM carries plain AAC frames: with its AudioSpecificConfig known, it is served as RFC 3640 AAC.
    const codec = t.codec.toUpperCase() === 'MP4A-LATM' && t.details.audioSpecificConfig !== undefined ? 'AAC' : t.codec.toUpperCase()
    if (!SENDABLE.has(codec) || (t.type !== 'video' && t.type !== 'audio')) {
      skipped.push(`${t.type} ${t.codec}`)
      continue
    }
    sourceIndex.push(t.index)
    inits.push({ type: t.type, codec, details: t.details, ...(codec === 'PCMA' || codec === 'PCMU' ? { clockRate: t.clockRate } : {}) })
  }
  return { inits, sourceIndex, skipped }
}

export interface PullSource {
  supervisor: PullSupervisor
  publisher: StreamPublisher
  /** Source tracks that are not served (codecs the server cannot packetize). */
  skipped: string[]
}

/**
 * Connect to `url`, then publish what it plays through `publish` until `close()` on the
 * publisher or the supervisor; frames keep one timeline across the source's reconnects.
 */
export async function startPullSource(
  url: string,
  publish: (tracks: readonly SendTrackInit[]) => StreamPublisher,
  options: PullSourceOptions,
  log: (line: string) => void,
): Promise<PullSource> {
  const client = new RtspClient(options)
  const supervisor = await client.supervise(url, { reconnect: options.reconnect })
  const { inits, sourceIndex, skipped } = servableTracks(supervisor.tracks)
  if (inits.length === 0) {
    await supervisor.close()
    throw new UnsupportedError(`${redactUrl(url)} has no track the server can forward (${skipped.join(', ')}); supported: ${SENDABLE_CODECS}`)
  }
  let publisher: StreamPublisher
  try {
    publisher = publish(inits)
  } catch (err) {
    await supervisor.close()
    throw err
  }
  const served = new Map<number, number>()
  sourceIndex.forEach((src, i) => served.set(src, i))
  const stop = publisher.onClose
  publisher.onClose = () => {
    void supervisor.close()
    stop?.()
  }
  supervisor.on('reconnecting', (e) => log(`source ${redactUrl(url)} dropped (${e.error.message}); reconnecting in ${e.delayMs} ms`))
  void (async () => {
    // No key-frame gate here: every reader joins at a key frame on its own (ServerSession).
    try {
      for await (const frame of supervisor.frames()) {
        const i = served.get(frame.track.index)
        if (i !== undefined) publisher.write(i, frame)
      }
      publisher.close('the source was closed')
    } catch (err) {
      log(`source ${redactUrl(url)} ended: ${(err as Error).message}`)
      publisher.close('the source ended')
    }
  })()
  return { supervisor, publisher, skipped }
}
